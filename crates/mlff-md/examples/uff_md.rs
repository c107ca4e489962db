//! Runs Langevin MD of ethanol with RDKit-exact UFF at 500 K and analyses its stability.
//!
//! `cargo run -p mlff-md --example uff_md --release`

use mlff_md::stability::{HistogramConfig, distance_histogram, histogram_mae, stability};
use mlff_md::{Molecule, Result, TrajectoryConfig, UffPotential, generate_trajectory};

fn main() -> Result<()> {
    let molecule = Molecule::builtin("ethanol")?;
    let uff = UffPotential::new(&molecule)?;
    let z = molecule.atomic_numbers();
    let config = TrajectoryConfig {
        temperature_k: 500.0,
        dt_fs: 0.5,
        equilibration_steps: 2000,
        n_frames: 4000,
        save_every: 2,
        seed: 1,
        ..TrajectoryConfig::default()
    };
    let reference = generate_trajectory(&z, &molecule.positions(), &uff, &config, &mut |p| {
        if p.steps_done == p.total_steps {
            eprintln!("reference run: {} steps", p.total_steps);
        }
    })?;
    let mean_e = reference.energies.iter().sum::<f64>() / reference.n_frames() as f64;
    println!(
        "{}: {} frames, {} fs apart, mean UFF energy {mean_e:.3} kcal/mol",
        molecule.name,
        reference.n_frames(),
        reference.dt_fs
    );

    // A second run with another seed plays the role of an MLFF-driven simulation.
    let run = generate_trajectory(
        &z,
        &molecule.positions(),
        &uff,
        &TrajectoryConfig { seed: 2, ..config },
        &mut |_| {},
    )?;
    let n = molecule.n_atoms();
    let report = stability(
        &run.positions,
        &reference.positions,
        n,
        &molecule.bond_pairs(),
        run.dt_fs,
    )?;
    let h_ref = distance_histogram(&reference.positions, n, HistogramConfig::default())?;
    let h_run = distance_histogram(&run.positions, n, HistogramConfig::default())?;
    println!(
        "stability: collapse {:?}, stable for {:.2} ps; h(r) MAE vs reference {:.4} 1/Å",
        report.collapse_frame,
        report.stability_time_ps,
        histogram_mae(&h_ref, &h_run)?
    );
    Ok(())
}
