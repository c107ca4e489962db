//! The time between saved frames of a trajectory, estimated from its own dynamics.
//!
//! Files often do not say how far apart their frames are: an MD17-layout npz has no time key,
//! and a trajectory saved every k-th step looks like any other. Newton's law does say it: for
//! three frames a time Δ apart, `x(t+Δ) − 2x(t) + x(t−Δ) = Δ²·(a(t−Δ) + 10a(t) + a(t+Δ))/12` up
//! to O(Δ⁶) (Numerov's relation), with a = F/m from the file's own forces. A least-squares fit
//! of Δ² over the heavy atoms of many frame triples gives Δ: the heavy atoms move slowly enough
//! that the relation holds to a few per cent at spacings up to about 6 fs, and thermostat
//! noise averages out. Hydrogens (10 fs stretch periods) are left out. Faster motions make the
//! fit read low as the spacing grows (UFF aspirin, ethanol, benzene at 500 K: within 1.5 % up
//! to 2 fs, 4–6 % low at 5 fs, 17–25 % low at 8 fs): beyond [`RELIABLE_UP_TO_FS`] it is a lower
//! bound.

use mlff_data::{Dataset, Units};

use crate::units::{ACCELERATION_PER_FORCE_OVER_MASS, atomic_mass};

/// Estimates up to this spacing (fs) are within about 6 % of the truth, and low if anything.
pub const RELIABLE_UP_TO_FS: f64 = 6.0;

/// Frame triples used at most (evenly spread over the trajectory).
const MAX_TRIPLES: usize = 2000;
/// Fewer usable triples than this give no estimate.
const MIN_TRIPLES: usize = 10;
/// Below this share of the second differences explained by the forces, the frames are not a
/// trajectory of these forces at a fixed spacing (or are too far apart): no estimate.
const MIN_R_SQUARED: f64 = 0.5;

/// What the dynamics say about the spacing of a trajectory's frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameSpacingEstimate {
    /// Time between consecutive time indices, fs.
    pub fs: f64,
    /// Share of the frames' second differences explained by the fitted Δ² · F/m (0–1).
    pub r_squared: f64,
    /// Frame triples in the fit.
    pub triples: usize,
}

/// Estimates the time between consecutive time indices of `data` (frames of a sequential file,
/// or units of its time index) from its positions and forces; `None` when the data cannot
/// say: no time order, forces or heavy atoms, too few evenly spaced triples, or a poor fit.
pub fn estimate_frame_spacing(data: &Dataset) -> Option<FrameSpacingEstimate> {
    data.forces()?;
    let ordered = data.time_ordered().ok()?;
    let order = ordered.indices();
    let steps: Vec<u64> = order
        .iter()
        .map(|&i| data.time_index(i))
        .collect::<Option<_>>()?;
    // Triples (k−1, k, k+1) in time order whose two gaps equal the smallest gap.
    let gap = steps
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&g| g > 0)
        .min()?;
    let centres: Vec<usize> = (1..steps.len().saturating_sub(1))
        .filter(|&k| steps[k] - steps[k - 1] == gap && steps[k + 1] - steps[k] == gap)
        .collect();
    if centres.len() < MIN_TRIPLES {
        return None;
    }
    let picked: Vec<usize> = (0..centres.len().min(MAX_TRIPLES))
        .map(|j| centres[j * centres.len() / centres.len().min(MAX_TRIPLES)])
        .collect();
    let frames: Vec<usize> = picked
        .iter()
        .flat_map(|&k| [order[k - 1], order[k], order[k + 1]])
        .collect();
    let sample = data
        .select(&frames)
        .ok()?
        .to_dataset()
        .ok()?
        .converted(Units::KCAL_MOL_ANGSTROM);
    let (positions, forces) = (sample.positions(), sample.forces()?);
    let (mut ya, mut aa, mut yy) = (0.0, 0.0, 0.0);
    for (j, _) in picked.iter().enumerate() {
        let z = sample.species().of_frame(3 * j);
        for (atom, &element) in z.iter().enumerate() {
            let Some(mass) = atomic_mass(element).filter(|_| element > 1) else {
                continue;
            };
            let scale = ACCELERATION_PER_FORCE_OVER_MASS / mass;
            for c in 0..3 {
                let x = |f: usize| positions[[3 * j + f, atom, c]];
                let a = |f: usize| forces[[3 * j + f, atom, c]] * scale;
                let second_difference = x(2) - 2.0 * x(1) + x(0);
                let numerov = (a(0) + 10.0 * a(1) + a(2)) / 12.0;
                ya += second_difference * numerov;
                aa += numerov * numerov;
                yy += second_difference * second_difference;
            }
        }
    }
    if aa <= 0.0 || yy <= 0.0 || ya <= 0.0 {
        return None;
    }
    let r_squared = ya * ya / (aa * yy);
    let fs = (ya / aa).sqrt() / gap as f64;
    (r_squared >= MIN_R_SQUARED && fs.is_finite()).then_some(FrameSpacingEstimate {
        fs,
        r_squared,
        triples: picked.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Molecule, Thermostat, TrajectoryConfig, UffPotential, generate_trajectory};
    use mlff_data::{DatasetParts, Provenance, Species, TimeOrder};
    use ndarray::{Array1, Array3};

    /// A UFF aspirin trajectory at 500 K saved every `save_every` steps of 0.5 fs.
    fn trajectory(save_every: usize, order: TimeOrder, frames: usize) -> Dataset {
        trajectory_of("aspirin", save_every, order, frames)
    }

    fn trajectory_of(name: &str, save_every: usize, order: TimeOrder, frames: usize) -> Dataset {
        let m = Molecule::builtin(name).unwrap();
        let uff = UffPotential::new(&m).unwrap();
        let config = TrajectoryConfig {
            temperature_k: 500.0,
            dt_fs: 0.5,
            equilibration_steps: 400,
            n_frames: frames,
            save_every,
            seed: 7,
            thermostat: Thermostat::Langevin {
                friction_per_fs: 0.01,
            },
            ..TrajectoryConfig::default()
        };
        let t = generate_trajectory(
            &m.atomic_numbers(),
            &m.positions(),
            &uff,
            &config,
            &mut |_| {},
        )
        .unwrap();
        let (n, a) = (t.n_frames(), t.n_atoms());
        Dataset::new(DatasetParts {
            species: Species::Fixed(Array1::from(t.atomic_numbers.clone())),
            positions: Array3::from_shape_vec((n, a, 3), t.positions).unwrap(),
            energies: Some(Array1::from(t.energies)),
            forces: Some(Array3::from_shape_vec((n, a, 3), t.forces).unwrap()),
            time_order: order,
            units: Units::KCAL_MOL_ANGSTROM,
            provenance: Provenance::default(),
        })
        .unwrap()
    }

    #[test]
    fn recovers_the_spacing_of_trajectories_saved_every_kth_step() {
        for (save_every, expected) in [(1, 0.5), (4, 2.0), (10, 5.0)] {
            let data = trajectory(save_every, TimeOrder::Sequential, 300);
            let e = estimate_frame_spacing(&data).expect("an estimate");
            assert!(
                (0.93..1.02).contains(&(e.fs / expected)),
                "saved every {save_every}: estimated {} fs, expected {expected} (R² {})",
                e.fs,
                e.r_squared
            );
        }
    }

    #[test]
    fn indexed_frames_give_the_spacing_per_index_unit() {
        // rMD17-like: frames shuffled, time index in units of 0.5 fs steps, saved every 2nd.
        let sequential = trajectory(2, TimeOrder::Sequential, 200);
        let order: Vec<usize> = (0..200).rev().collect();
        let mut shuffled = sequential.select(&order).unwrap().to_dataset().unwrap();
        let steps: Vec<u64> = order.iter().map(|&t| 2 * t as u64).collect();
        shuffled.set_time_order(TimeOrder::Indexed(steps)).unwrap();
        let e = estimate_frame_spacing(&shuffled).expect("an estimate");
        assert!((e.fs / 0.5 - 1.0).abs() < 0.05, "estimated {} fs", e.fs);
    }

    #[test]
    fn no_estimate_without_a_trajectory() {
        // The same frames in a random order are no trajectory: the fit explains nothing.
        let data = trajectory(10, TimeOrder::Sequential, 200);
        let mut order: Vec<usize> = (0..200).collect();
        order.sort_by_key(|&t| (t * 7919) % 200);
        let mut mixed = data.select(&order).unwrap().to_dataset().unwrap();
        mixed.set_time_order(TimeOrder::Sequential).unwrap();
        assert_eq!(estimate_frame_spacing(&mixed), None);
        let mut unknown = data;
        unknown.set_time_order(TimeOrder::Unknown).unwrap();
        assert_eq!(estimate_frame_spacing(&unknown), None);
    }
}
