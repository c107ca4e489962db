//! Bad input gives clear errors; documented edge cases behave as documented; checkpoints
//! round-trip bit for bit; weight import refuses what it cannot evaluate.

mod common;

use common::{random_molecule, rng, small_model};
use mlff_data::format::NpzArrayWriter;
use mlff_nequip::{Checkpoint, NequipError, load_state_dict};

#[test]
fn unknown_element_is_named() {
    let model = small_model(0);
    let z = [6u8, 7];
    let pos = [[0.0; 3], [1.2, 0.0, 0.0]];
    let err = model.graph([(&z[..], &pos[..])]).unwrap_err();
    assert!(
        matches!(err, NequipError::UnknownElement { atom: 1, z: 7, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("H, C, O"));
}

#[test]
fn overlapping_atoms_and_nan_positions_are_rejected() {
    let model = small_model(0);
    let z = [6u8, 1];
    let close = [[0.0; 3], [0.05, 0.0, 0.0]];
    let err = model.graph([(&z[..], &close[..])]).unwrap_err();
    assert!(
        matches!(err, NequipError::AtomsTooClose { i: 0, j: 1, .. }),
        "{err}"
    );
    let nan = [[0.0; 3], [f64::NAN, 0.0, 0.0]];
    let err = model.graph([(&z[..], &nan[..])]).unwrap_err();
    assert!(
        matches!(err, NequipError::NonFinitePosition { atom: 1, .. }),
        "{err}"
    );
    let short = [[0.0; 3]];
    assert!(matches!(
        model.graph([(&z[..], &short[..])]),
        Err(NequipError::Shape { .. })
    ));
}

#[test]
fn an_isolated_atom_contributes_its_shift_and_feels_no_force() {
    // Documented behaviour: with no neighbour within r_max an atom receives no messages, its
    // features stay zero through every gate (SiLU(0) = 0), so its energy is its type's shift.
    let model = small_model(0);
    let z = [6u8, 1, 8];
    let pos = [[0.0; 3], [1.1, 0.0, 0.0], [20.0, 0.0, 0.0]];
    let pair_only = model
        .predict(&model.graph([(&z[..2], &pos[..2])]).unwrap())
        .unwrap();
    let with_far = model
        .predict(&model.graph([(&z[..], &pos[..])]).unwrap())
        .unwrap();
    let shift_o = -2.0;
    assert!((with_far.energies[0] - pair_only.energies[0] - shift_o).abs() < 1e-12);
    assert_eq!(&with_far.forces[6..9], &[0.0, 0.0, 0.0]);
    assert_eq!(&with_far.forces[..6], &pair_only.forces[..]);
}

#[test]
fn checkpoints_round_trip_bit_for_bit() {
    let model = small_model(5);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    Checkpoint::of(&model, None, serde_json::json!({"note": "test"}))
        .save(&path)
        .unwrap();
    let back = Checkpoint::load(&path).unwrap().model().unwrap();
    let differing = back
        .params()
        .iter()
        .zip(model.params())
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    assert_eq!(
        differing, 0,
        "{differing} parameters changed in the round trip"
    );
    assert_eq!(back.config(), model.config());
    let mol = random_molecule(&mut rng(1), 6);
    let g = model.graph([(mol.0.as_slice(), mol.1.as_slice())]).unwrap();
    assert_eq!(back.predict(&g).unwrap(), model.predict(&g).unwrap());
    std::fs::write(&path, b"{\"format\": \"something-else\"}").unwrap();
    assert!(Checkpoint::load(&path).is_err());
    std::fs::write(&path, b"{ truncated").unwrap();
    assert!(Checkpoint::load(&path).is_err());
}

fn write_weights(path: &std::path::Path, arrays: &[(String, Vec<usize>, Vec<f64>)]) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = NpzArrayWriter::new(file);
    for (name, shape, values) in arrays {
        w.floats(name, shape, values).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn weight_import_round_trips_and_refuses_mismatches() {
    let model = small_model(2);
    let layout = &model.architecture().layout;
    let arrays: Vec<(String, Vec<usize>, Vec<f64>)> = layout
        .segments()
        .iter()
        .map(|s| {
            (
                format!("model.func.{}", s.name),
                s.shape.clone(),
                model.params()[s.range()].to_vec(),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.npz");
    write_weights(&path, &arrays);
    let back = load_state_dict(model.config().clone(), &path).unwrap();
    assert_eq!(back.params(), model.params());

    let mut wrong_shape = arrays.clone();
    wrong_shape[2].2.pop();
    wrong_shape[2].1 = vec![wrong_shape[2].2.len()];
    write_weights(&path, &wrong_shape);
    let err = load_state_dict(model.config().clone(), &path).unwrap_err();
    assert!(err.to_string().contains(&arrays[2].0), "{err}");

    let mut extra = arrays.clone();
    extra.push((
        "model.func.pair_potential.zbl.weight".into(),
        vec![2],
        vec![1.0, 2.0],
    ));
    write_weights(&path, &extra);
    let err = load_state_dict(model.config().clone(), &path).unwrap_err();
    assert!(err.to_string().contains("pair_potential"), "{err}");

    let missing: Vec<_> = arrays
        .iter()
        .filter(|a| !a.0.contains("linear_2"))
        .cloned()
        .collect();
    write_weights(&path, &missing);
    let err = load_state_dict(model.config().clone(), &path).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}
