//! Writing then reading gives back the same dataset, in every format, for any dataset.

use mlff_data::{
    Dataset, DatasetParts, EnergyUnit, LengthUnit, OutputFormat, Provenance, Species, TimeOrder,
    Units, load, save,
};
use ndarray::{Array1, Array2, Array3};
use proptest::prelude::*;

/// Sequential order is the same as indices 0..T; compare orders through that lens.
fn order_as_indices(order: &TimeOrder, t: usize) -> Option<Vec<u64>> {
    match order {
        TimeOrder::Sequential => Some((0..t as u64).collect()),
        TimeOrder::Indexed(idx) => Some(idx.clone()),
        TimeOrder::Unknown => None,
    }
}

fn assert_same(a: &Dataset, b: &Dataset) {
    assert_eq!(a.species(), b.species());
    assert_eq!(a.positions(), b.positions());
    assert_eq!(a.energies(), b.energies());
    assert_eq!(a.forces(), b.forces());
    assert_eq!(a.units(), b.units());
    assert_eq!(
        order_as_indices(a.time_order(), a.len()),
        order_as_indices(b.time_order(), b.len())
    );
    assert_eq!(a.provenance().molecule, b.provenance().molecule);
    assert_eq!(a.provenance().theory, b.provenance().theory);
    assert_eq!(a.provenance().time_step_fs, b.provenance().time_step_fs);
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e5..1e5f64,
        -1e-3..1e-3f64,
        Just(0.0),
        Just(-0.0),
        Just(1e-300),
        Just(-97195.01189948035)
    ]
}

prop_compose! {
    fn dataset()(t in 1usize..5, n in 1usize..6)
        (species in prop::collection::vec(1u8..=118, n),
         per_frame_species in prop::collection::vec(prop::collection::vec(1u8..=118, n), t),
         use_per_frame in any::<bool>(),
         positions in prop::collection::vec(value(), t * n * 3),
         energies in prop::option::of(prop::collection::vec(value(), t)),
         forces in prop::option::of(prop::collection::vec(value(), t * n * 3)),
         order in 0..3u8,
         indices in prop::collection::vec(0u64..1_000_000, t),
         ev in any::<bool>(),
         bohr in any::<bool>(),
         molecule in prop::option::of("[a-z][a-z_ ]{0,12}"),
         theory in prop::option::of("[A-Za-z0-9/+()-]{1,16}"),
         dt in prop::option::of(0.01..10.0f64),
         t in Just(t), n in Just(n))
        -> Dataset
    {
        let species = if use_per_frame {
            Species::PerFrame(Array2::from_shape_vec((t, n), per_frame_species.concat()).unwrap())
        } else {
            Species::Fixed(Array1::from(species))
        };
        Dataset::new(DatasetParts {
            species,
            positions: Array3::from_shape_vec((t, n, 3), positions).unwrap(),
            energies: energies.map(Array1::from),
            forces: forces.map(|f| Array3::from_shape_vec((t, n, 3), f).unwrap()),
            time_order: match order { 0 => TimeOrder::Sequential, 1 => TimeOrder::Indexed(indices), _ => TimeOrder::Unknown },
            units: Units {
                energy: if ev { EnergyUnit::ElectronVolt } else { EnergyUnit::KcalPerMol },
                length: if bohr { LengthUnit::Bohr } else { LengthUnit::Angstrom },
            },
            provenance: Provenance { molecule, theory, time_step_fs: dt, ..Provenance::default() },
        }).unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn md17_npz_round_trip(data in dataset()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roundtrip_md17.npz");
        save(&data, &path, OutputFormat::Md17Npz).unwrap();
        assert_same(&data, &load(&path).unwrap());
    }

    #[test]
    fn rmd17_npz_round_trip(data in dataset()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roundtrip_rmd17.npz");
        let written = save(&data, &path, OutputFormat::Rmd17Npz);
        match data.species() {
            Species::Fixed(_) => {
                written.unwrap();
                let back = load(&path).unwrap();
                // rMD17 has no "unknown order" marker: it simply omits old_indices.
                assert_same(&data, &back);
            }
            Species::PerFrame(_) => prop_assert!(written.is_err() && !path.exists()),
        }
    }

    #[test]
    fn extxyz_round_trip(data in dataset()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.xyz");
        save(&data, &path, OutputFormat::ExtXyz).unwrap();
        assert_same(&data, &load(&path).unwrap());
    }
}

#[test]
fn unit_conversion_is_explicit_and_exact_in_both_directions() {
    let data = Dataset::new(DatasetParts {
        species: Species::Fixed(Array1::from(vec![6, 1])),
        positions: Array3::from_elem((2, 2, 3), 1.5),
        energies: Some(Array1::from(vec![-100.0, -101.0])),
        forces: Some(Array3::from_elem((2, 2, 3), 2.0)),
        time_order: TimeOrder::Sequential,
        units: Units::KCAL_MOL_ANGSTROM,
        provenance: Provenance::default(),
    })
    .unwrap();
    let ev = data.with_energy_unit(EnergyUnit::ElectronVolt);
    assert_eq!(ev.units().energy, EnergyUnit::ElectronVolt);
    assert!((ev.energies().unwrap()[0] - (-100.0 * mlff_data::EV_PER_KCAL_MOL)).abs() < 1e-12);
    assert!((ev.forces().unwrap()[[0, 0, 0]] - 2.0 * mlff_data::EV_PER_KCAL_MOL).abs() < 1e-14);
    assert_eq!(ev.positions(), data.positions());
    let bohr = data.with_length_unit(LengthUnit::Bohr);
    assert!((bohr.positions()[[0, 0, 0]] - 1.5 / mlff_data::ANGSTROM_PER_BOHR).abs() < 1e-12);
    // Forces are energy per length: per bohr they are larger by Å/bohr.
    assert!((bohr.forces().unwrap()[[0, 0, 0]] - 2.0 * mlff_data::ANGSTROM_PER_BOHR).abs() < 1e-12);
    let back = ev.with_energy_unit(EnergyUnit::KcalPerMol);
    for (a, b) in back
        .energies()
        .unwrap()
        .iter()
        .zip(data.energies().unwrap())
    {
        assert!((a - b).abs() < 1e-10);
    }
}
