//! Models applied to `mlff_data` datasets: graphs of frame selections and batched prediction.

use crate::error::Result;
use crate::graph::AtomicGraph;
use crate::model::Nequip;
use crate::types::TypeMap;
use mlff_data::Dataset;
use ndarray::Axis;

/// Atomic numbers and positions of frame `i`.
fn frame_row(data: &Dataset, i: usize) -> (Vec<u8>, Vec<[f64; 3]>) {
    let z = data.species().of_frame(i).to_vec();
    let pos = data
        .positions()
        .index_axis(Axis(0), i)
        .rows()
        .into_iter()
        .map(|r| [r[0], r[1], r[2]])
        .collect();
    (z, pos)
}

/// The graph of frames taken from several datasets (`(dataset, frame)` pairs), e.g. a batch
/// mixing molecules.
pub fn graph_of_frames(
    types: &TypeMap,
    r_max: f64,
    frames: &[(&Dataset, usize)],
) -> Result<AtomicGraph> {
    let rows: Vec<_> = frames.iter().map(|&(d, i)| frame_row(d, i)).collect();
    AtomicGraph::new(
        rows.iter().map(|(z, p)| (z.as_slice(), p.as_slice())),
        types,
        r_max,
    )
}

/// The graph of frames `indices` of `data` (positions in the dataset's length unit, which
/// must be the model's).
pub fn graph_of(model: &Nequip, data: &Dataset, indices: &[usize]) -> Result<AtomicGraph> {
    graph_with(model.types(), model.config().r_max, data, indices)
}

/// [`graph_of`] for a type map and cutoff.
pub fn graph_with(
    types: &TypeMap,
    r_max: f64,
    data: &Dataset,
    indices: &[usize],
) -> Result<AtomicGraph> {
    let frames: Vec<(&Dataset, usize)> = indices.iter().map(|&i| (data, i)).collect();
    graph_of_frames(types, r_max, &frames)
}

/// Predicted energies (per frame) and forces (`frames × atoms × 3`, flat) of a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetPrediction {
    /// Energy of each predicted frame, in the order of the requested indices.
    pub energies: Vec<f64>,
    /// Forces, flat in (frame, atom, xyz) order.
    pub forces: Vec<f64>,
}

/// Predicts frames `indices` of `data`, `batch_frames` frames per graph; `progress` is called
/// with the number of frames done after each batch.
pub fn predict_dataset(
    model: &Nequip,
    data: &Dataset,
    indices: &[usize],
    batch_frames: usize,
    mut progress: impl FnMut(usize),
) -> Result<DatasetPrediction> {
    let mut out = DatasetPrediction {
        energies: Vec::with_capacity(indices.len()),
        forces: Vec::with_capacity(indices.len() * data.n_atoms() * 3),
    };
    for chunk in indices.chunks(batch_frames.max(1)) {
        let graph = graph_of(model, data, chunk)?;
        let p = model.predict(&graph)?;
        out.energies.extend_from_slice(&p.energies);
        out.forces.extend_from_slice(&p.forces);
        progress(out.energies.len());
    }
    Ok(out)
}
