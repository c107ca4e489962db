//! Parity with pip nequip 0.19.1 (`fixtures/nequip_ethanol/`, `fixtures/make_nequip_ethanol.py`): the definition of
//! "it is NequIP". Every module output the fixture recorded, the energies and the forces.

use mlff_data::format::NpzReader;
use mlff_nequip::{AtomicGraph, Nequip, backward, forward, load_nequip_dir};
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    mlff_testkit::fixture("nequip_ethanol")
}

fn floats(reader: &mut NpzReader, key: &str) -> Vec<f64> {
    reader
        .floats(key)
        .unwrap()
        .unwrap_or_else(|| panic!("{key} missing"))
        .values
}

fn ints(reader: &mut NpzReader, key: &str) -> Vec<usize> {
    reader
        .integers(key)
        .unwrap()
        .unwrap_or_else(|| panic!("{key} missing"))
        .values
        .into_iter()
        .map(|v| v as usize)
        .collect()
}

struct Case {
    model: Nequip,
    graph: AtomicGraph,
    expected: NpzReader,
}

fn load_case() -> Case {
    let dir = fixture_dir();
    let model = load_nequip_dir(&dir).expect("fixture model loads");
    let mut inputs = NpzReader::open(&dir.join("inputs.npz")).unwrap();
    let pos = floats(&mut inputs, "pos");
    let types = ints(&mut inputs, "atom_types");
    let batch = ints(&mut inputs, "batch");
    let edge_index = ints(&mut inputs, "edge_index");
    let e = edge_index.len() / 2;
    let graph = AtomicGraph::with_edges(
        pos,
        types,
        batch,
        edge_index[..e].to_vec(),
        edge_index[e..].to_vec(),
    )
    .unwrap();
    let expected = NpzReader::open(&dir.join("expected.npz")).unwrap();
    Case {
        model,
        graph,
        expected,
    }
}

fn rel_err(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    got.iter()
        .zip(want)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
        / scale
}

#[test]
fn energies_and_forces_match_nequip() {
    let mut case = load_case();
    let params = case.model.params().to_vec();
    let arch = case.model.architecture();
    let (energies, tape) = forward(arch, &params, &case.graph, case.graph.positions()).unwrap();
    let err_atoms = rel_err(
        &energies.atoms,
        &floats(&mut case.expected, "atomic_energy"),
    );
    let err_total = rel_err(
        &energies.frames,
        &floats(&mut case.expected, "total_energy"),
    );
    let ones = vec![1.0; case.graph.num_frames()];
    let grads = backward(arch, &params, &case.graph, &tape, &ones, false).unwrap();
    let forces: Vec<f64> = grads.positions.iter().map(|g| -g).collect();
    let err_forces = rel_err(&forces, &floats(&mut case.expected, "forces"));
    println!("relative errors: atomic {err_atoms:e}, total {err_total:e}, forces {err_forces:e}");
    assert!(err_atoms < 1e-9, "atomic energies: {err_atoms:e}");
    assert!(err_total < 1e-9, "total energies: {err_total:e}");
    assert!(err_forces < 1e-9, "forces: {err_forces:e}");
    // The f64 model's own entry point gives the same numbers.
    let p = case.model.predict(&case.graph).unwrap();
    assert_eq!(p.energies, energies.frames);
    assert_eq!(p.forces, forces);
}

#[test]
fn our_neighbour_list_reproduces_nequips_edges() {
    let case = load_case();
    let pos: Vec<[f64; 3]> = case
        .graph
        .positions()
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let offsets = case.graph.frame_offsets().to_vec();
    let numbers: Vec<u8> = case
        .graph
        .types()
        .iter()
        .map(|&t| case.model.types().atomic_numbers()[t])
        .collect();
    let frames: Vec<(&[u8], &[[f64; 3]])> = offsets
        .windows(2)
        .map(|r| (&numbers[r[0]..r[1]], &pos[r[0]..r[1]]))
        .collect();
    let ours = case.model.graph(frames).unwrap();
    let mut theirs: Vec<(usize, usize)> = case
        .graph
        .centers()
        .iter()
        .copied()
        .zip(case.graph.neighbors().iter().copied())
        .collect();
    let mine: Vec<(usize, usize)> = ours
        .centers()
        .iter()
        .copied()
        .zip(ours.neighbors().iter().copied())
        .collect();
    theirs.sort_unstable();
    assert_eq!(mine, theirs);
    // Energies with our edges (another summation order) agree to rounding.
    let a = case.model.energies_f64(&case.graph).unwrap();
    let b = case.model.energies_f64(&ours).unwrap();
    assert!(rel_err(&b, &a) < 1e-13);
}

#[test]
fn every_intermediate_module_output_matches_nequip() {
    let mut case = load_case();
    let params = case.model.params().to_vec();
    let (_, tape) = forward(
        case.model.architecture(),
        &params,
        &case.graph,
        case.graph.positions(),
    )
    .unwrap();
    let checks: Vec<(&str, &[f64])> = vec![
        ("spharm/edge_attrs", tape.edge_attrs()),
        ("edge_norm/edge_lengths", tape.edge_lengths()),
    ];
    for (key, got) in checks {
        let err = rel_err(got, &floats(&mut case.expected, key));
        assert!(err < 1e-12, "{key}: {err:e}");
    }
    let outputs = tape.layer_outputs();
    assert_eq!(outputs.len(), 3);
    for (i, got) in outputs.iter().enumerate() {
        let key = format!("layer{i}_convnet/node_features");
        let err = rel_err(got, &floats(&mut case.expected, &key));
        assert!(err < 1e-9, "{key}: {err:e}");
    }
}
