//! Every file in ../shared/data loads with the right counts and values. The files are
//! third-party data that cannot ship with the project: each test skips with a notice where they
//! are absent (`MLFFBENCH_REQUIRE_SHARED=1` in CI makes that a failure).

use mlff_data::{DataError, Format, OutputFormat, TimeOrder, load};
use mlff_testkit::third_party;

#[test]
fn md17_ethanol_is_complete_and_time_ordered() {
    let Some(path) = third_party("md17_ethanol_first2000.npz") else {
        return;
    };
    let d = load(path).unwrap();
    assert_eq!(d.provenance().format, Some(Format::Md17Npz));
    assert_eq!((d.len(), d.n_atoms()), (2000, 9));
    assert_eq!(
        d.species().of_frame(0).to_vec(),
        vec![6, 6, 8, 1, 1, 1, 1, 1, 1]
    );
    assert_eq!(d.time_order(), &TimeOrder::Sequential);
    assert_eq!(d.provenance().time_step_fs, Some(0.5));
    let e = d.energies().unwrap();
    assert!(
        e.iter().all(|&x| (-97_300.0..-97_100.0).contains(&x)),
        "ethanol energies are ≈ -97,200 kcal/mol"
    );
    // Consecutive frames 0.5 fs apart: every atom moves less than 0.05 Å.
    let ordered = d.time_ordered().unwrap();
    let frames: Vec<_> = ordered.frames().collect();
    let mut largest: f64 = 0.0;
    for pair in frames.windows(2) {
        let step = &pair[1].positions - &pair[0].positions;
        for row in step.rows() {
            largest = largest.max(row.dot(&row).sqrt());
        }
    }
    assert!(largest < 0.05, "largest per-atom step {largest} Å");
    assert!(largest > 1e-4, "frames must actually move");
    // Real DFT MD: the frames' own dynamics give MD17's 0.5 fs step, and every other frame
    // (a file saved every 2nd step) gives 1 fs.
    let e = mlff_md::estimate_frame_spacing(&d).expect("an estimate");
    assert!((e.fs / 0.5 - 1.0).abs() < 0.05, "estimated {} fs", e.fs);
    let every_other: Vec<usize> = (0..d.len()).step_by(2).collect();
    let mut thinned = d.select(&every_other).unwrap().to_dataset().unwrap();
    thinned.set_time_order(TimeOrder::Sequential).unwrap();
    let e = mlff_md::estimate_frame_spacing(&thinned).expect("an estimate");
    assert!((e.fs / 1.0 - 1.0).abs() < 0.05, "estimated {} fs", e.fs);
}

#[test]
fn extended_xyz_files_load_with_their_labels() {
    let Some(dir) = third_party("extxyz") else {
        return;
    };
    let aspirin = load(dir.join("aspirin_ccsd_15.xyz")).unwrap();
    assert_eq!((aspirin.len(), aspirin.n_atoms()), (15, 21));
    assert_eq!(aspirin.energies().unwrap()[0], -405681.6);
    assert_eq!(aspirin.forces().unwrap()[[0, 0, 0]], -38.77897263);
    assert_eq!(aspirin.positions()[[0, 1, 2]], -1.67992890);
    let ethanol = load(dir.join("ethanol_md17_2000_random.xyz")).unwrap();
    assert_eq!((ethanol.len(), ethanol.n_atoms()), (2000, 9));
    assert_eq!(ethanol.energies().unwrap()[0], -97195.01189948035);
    assert_eq!(ethanol.time_order(), &TimeOrder::Unknown);
    assert!(matches!(
        ethanol.time_ordered(),
        Err(DataError::NoTimeOrder { .. })
    ));
}

#[test]
fn sgdml_files_load_as_frames_or_are_refused_as_models() {
    let Some(dir) = third_party("sgdml") else {
        return;
    };
    let paracetamol = load(dir.join("paracetamol.npz")).unwrap();
    assert_eq!((paracetamol.len(), paracetamol.n_atoms()), (1000, 20));
    assert_eq!(paracetamol.provenance().format, Some(Format::SgdmlModelNpz));
    for model in [
        "aspirin",
        "ethanol",
        "malonaldehyde",
        "naphthalene",
        "salicylic_acid",
        "toluene",
        "uracil",
    ] {
        let e = load(dir.join(format!("{model}.npz"))).unwrap_err();
        assert!(matches!(e, DataError::NotADataset { .. }), "{model}: {e}");
    }
}

#[test]
fn every_geometry_file_loads() {
    let expected = [
        ("aspirin", 21),
        ("azobenzene", 24),
        ("benzene", 12),
        ("ethanol", 9),
        ("malonaldehyde", 9),
        ("naphthalene", 18),
        ("salicylic", 16),
        ("toluene", 15),
        ("uracil", 12),
    ];
    let Some(dir) = third_party("sgdml/geometries") else {
        return;
    };
    for (name, atoms) in expected {
        let d = load(dir.join(format!("{name}.xyz"))).unwrap();
        assert_eq!((d.len(), d.n_atoms()), (1, atoms), "{name}");
        assert_eq!(d.provenance().format, Some(Format::Xyz));
    }
}

#[test]
fn real_files_survive_conversion_to_every_format() {
    let Some(path) = third_party("md17_ethanol_first2000.npz") else {
        return;
    };
    let d = load(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("a.npz", OutputFormat::Md17Npz),
        ("rmd17_a.npz", OutputFormat::Rmd17Npz),
        ("a.xyz", OutputFormat::ExtXyz),
    ] {
        let path = dir.path().join(name);
        mlff_data::save(&d, &path, format).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.positions(), d.positions(), "{name}");
        assert_eq!(back.energies(), d.energies(), "{name}");
        assert_eq!(back.forces(), d.forces(), "{name}");
        let order: Vec<usize> = back.time_ordered().unwrap().indices().to_vec();
        assert_eq!(order, (0..2000).collect::<Vec<_>>(), "{name}");
    }
}
