//! pip nequip 0.19.1's ethanol fixture (`fixtures/nequip_ethanol/`): the model, the
//! graph nequip evaluated (its own edges) and its outputs.
#![allow(dead_code)]

use mlff_data::format::NpzReader;
use mlff_nequip::{AtomicGraph, Nequip, load_nequip_dir};

/// The fixture's model, graph, and expected `(total_energy, forces)`.
pub fn nequip_ethanol() -> (Nequip, AtomicGraph, Vec<f64>, Vec<f64>) {
    let dir = mlff_testkit::fixture("nequip_ethanol");
    let model = load_nequip_dir(&dir).unwrap();
    let mut inputs = NpzReader::open(&dir.join("inputs.npz")).unwrap();
    let mut ints = |k: &str| -> Vec<usize> {
        let v = inputs.integers(k).unwrap().expect(k).values;
        v.into_iter().map(|v| v as usize).collect()
    };
    let (types, batch, edges) = (ints("atom_types"), ints("batch"), ints("edge_index"));
    let pos = inputs.floats("pos").unwrap().expect("pos").values;
    let e = edges.len() / 2;
    let graph =
        AtomicGraph::with_edges(pos, types, batch, edges[..e].to_vec(), edges[e..].to_vec())
            .unwrap();
    let mut expected = NpzReader::open(&dir.join("expected.npz")).unwrap();
    let mut floats = |k: &str| expected.floats(k).unwrap().expect(k).values;
    let (energy, forces) = (floats("total_energy"), floats("forces"));
    (model, graph, energy, forces)
}
