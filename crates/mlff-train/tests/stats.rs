//! Training-set statistics on generated data with known answers and on the shared MD17 ethanol
//! file (reference numbers computed independently with numpy).

mod common;

use mlff_data::{Dataset, DatasetParts, Provenance, Species, TimeOrder, Units};
use mlff_train::DataStats;
use ndarray::{Array1, Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn dataset(
    species: Species,
    positions: Array3<f64>,
    energies: Vec<f64>,
    forces: Option<Array3<f64>>,
) -> Dataset {
    Dataset::new(DatasetParts {
        species,
        positions,
        energies: Some(Array1::from(energies)),
        forces,
        time_order: TimeOrder::Unknown,
        units: Units::default(),
        provenance: Provenance::default(),
    })
    .unwrap()
}

/// Frames of 5 atoms whose species vary per frame, with energies exactly Σ shift(Z): least
/// squares recovers the shifts; frames outside the training indices do not matter.
#[test]
fn recovers_known_per_species_shifts() {
    let shifts = [(1u8, -0.6), (6, -38.1), (8, -75.2)];
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (t, n) = (40, 5);
    let z = Array2::from_shape_fn((t, n), |_| shifts[rng.random_range(0..3)].0);
    let energies: Vec<f64> = (0..t)
        .map(|f| {
            if f >= 30 {
                return 1e6; // not training data: must not influence the fit
            }
            z.row(f)
                .iter()
                .map(|&s| shifts.iter().find(|x| x.0 == s).unwrap().1)
                .sum()
        })
        .collect();
    let positions = Array3::from_shape_fn((t, n, 3), |(_, a, c)| (a * 3 + c) as f64);
    let data = dataset(Species::PerFrame(z), positions, energies, None);
    let train: Vec<usize> = (0..30).collect();
    let stats = DataStats::compute(&data, &train, 2.0).unwrap();
    assert_eq!(stats.species, vec![1, 6, 8]);
    assert_eq!(stats.composition_rank, 3);
    for (s, want) in shifts {
        let got = stats.energy_shift_of(s).unwrap();
        assert!((got - want).abs() < 1e-9, "Z={s}: {got} vs {want}");
    }
    assert!(stats.energy_residual_rms < 1e-9);
    assert_eq!(stats.forces_rms, None);
}

/// One molecule: every species column is a multiple of the same composition, the least-squares
/// problem is rank 1, and the shift of every species is the mean per-atom energy (nequip 0.19).
#[test]
fn single_composition_gives_the_mean_per_atom_energy() {
    let z = Species::Fixed(Array1::from(vec![6u8, 1, 1, 1, 1]));
    let energies = vec![-40.0, -41.0, -39.5];
    let positions = Array3::from_shape_fn((3, 5, 3), |(f, a, c)| (f + a * 2 + c) as f64 * 0.7);
    let data = dataset(z, positions, energies, None);
    let stats = DataStats::compute(&data, &[0, 1, 2], 1.0).unwrap();
    let mu = (-40.0 - 41.0 - 39.5) / 3.0 / 5.0;
    assert_eq!(stats.composition_rank, 1);
    assert!((stats.per_atom_energy_mean - mu).abs() < 1e-12);
    for s in &stats.per_species_energy_shift {
        assert!((s - mu).abs() < 1e-10, "{s} vs {mu}");
    }
}

/// Force RMS and neighbour counts on a hand-checkable geometry: three atoms on a line at 0, 1
/// and 2.5 Å with r_max 2: atom 0 sees 1, atom 1 sees 0 and 2, atom 2 sees 1.
#[test]
fn forces_rms_and_neighbours_by_hand() {
    let z = Species::Fixed(Array1::from(vec![1u8, 8, 1]));
    let positions =
        Array3::from_shape_vec((1, 3, 3), vec![0., 0., 0., 1., 0., 0., 2.5, 0., 0.]).unwrap();
    let forces =
        Array3::from_shape_vec((1, 3, 3), vec![3., 0., 0., 0., 4., 0., 0., 0., 0.]).unwrap();
    let data = dataset(z, positions, vec![-1.0], Some(forces));
    let stats = DataStats::compute(&data, &[0], 2.0).unwrap();
    assert_eq!(stats.avg_num_neighbors, 4.0 / 3.0);
    assert_eq!(stats.per_species_avg_num_neighbors, vec![1.0, 2.0]);
    assert_eq!(stats.forces_rms, Some((25.0f64 / 9.0).sqrt()));
    assert_eq!(
        stats.per_species_forces_rms,
        Some(vec![(9.0f64 / 6.0).sqrt(), (16.0f64 / 3.0).sqrt()])
    );
    // r_max exactly at a distance does not count it (strict <).
    let at_edge = DataStats::compute(&data, &[0], 1.0).unwrap();
    assert_eq!(at_edge.avg_num_neighbors, 0.0);
}

#[test]
fn bad_arguments_are_errors() {
    let z = Species::Fixed(Array1::from(vec![1u8]));
    let data = dataset(z, Array3::zeros((2, 1, 3)), vec![0.0, 1.0], None);
    assert!(DataStats::compute(&data, &[], 4.0).is_err());
    assert!(DataStats::compute(&data, &[0], f64::NAN).is_err());
    assert!(DataStats::compute(&data, &[0], -1.0).is_err());
    let e = DataStats::compute(&data, &[5], 4.0).unwrap_err();
    assert!(e.to_string().contains('5'), "{e}");
}

/// The first 200 frames of the shared MD17 ethanol file. Reference values from numpy on the
/// same frames: mean E/N −10799.711196916294 kcal/mol (std 0.6731384037834461), force RMS
/// 19.658635515866106 (H 13.30441195224847, C 32.356036184926566, O 17.952357325423947)
/// kcal/mol/Å, mean neighbours within 4 Å 7.956666666666667 (H 7.935, C 8, O 8).
#[test]
fn md17_ethanol_statistics_match_numpy() {
    let Some(path) = mlff_testkit::third_party("md17_ethanol_first2000.npz") else {
        return;
    };
    let data = mlff_data::load(path).unwrap();
    let train: Vec<usize> = (0..200).collect();
    let s = DataStats::compute(&data, &train, 4.0).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    assert_eq!(s.species, vec![1, 6, 8]);
    assert_eq!(s.species_atom_counts, vec![1200, 400, 200]);
    assert!(close(s.per_atom_energy_mean, -10799.711196916294));
    assert!(close(s.per_atom_energy_std, 0.6731384037834461));
    for shift in &s.per_species_energy_shift {
        assert!(close(*shift, -10799.711196916294), "{shift}");
    }
    assert!(close(s.forces_rms.unwrap(), 19.658635515866106));
    let per = s.per_species_forces_rms.unwrap();
    for (got, want) in per
        .iter()
        .zip([13.30441195224847, 32.356036184926566, 17.952357325423947])
    {
        assert!(close(*got, want), "{got} vs {want}");
    }
    assert!(close(s.avg_num_neighbors, 7.956666666666667));
    assert_eq!(s.per_species_avg_num_neighbors, vec![7.935, 8.0, 8.0]);
}
