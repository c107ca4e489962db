//! Shared test data: short UFF trajectories generated on the fly (no files needed).

use mlff_data::{Dataset, DatasetParts, Provenance, Species, TimeOrder, Units};
use mlff_md::{Molecule, TrajectoryConfig, UffPotential, generate_trajectory};
use ndarray::{Array1, Array3};

/// A UFF trajectory of a built-in molecule at 500 K: `frames` frames, `save_every` steps apart.
pub fn uff_trajectory(molecule: &str, frames: usize, save_every: usize) -> Dataset {
    let molecule = Molecule::builtin(molecule).unwrap();
    let uff = UffPotential::new(&molecule).unwrap();
    let config = TrajectoryConfig {
        n_frames: frames,
        save_every,
        equilibration_steps: 500,
        ..TrajectoryConfig::default()
    };
    let z = molecule.atomic_numbers();
    let traj = generate_trajectory(&z, &molecule.positions(), &uff, &config, &mut |_| {}).unwrap();
    let n = z.len();
    Dataset::new(DatasetParts {
        species: Species::Fixed(Array1::from(z)),
        positions: Array3::from_shape_vec((frames, n, 3), traj.positions).unwrap(),
        energies: Some(Array1::from(traj.energies)),
        forces: Some(Array3::from_shape_vec((frames, n, 3), traj.forces).unwrap()),
        time_order: TimeOrder::Sequential,
        units: Units::KCAL_MOL_ANGSTROM,
        provenance: Provenance {
            molecule: Some(molecule.name.clone()),
            time_step_fs: Some(config.dt_fs * save_every as f64),
            ..Provenance::default()
        },
    })
    .unwrap()
}
