//! Models applied to `mlff_data` datasets: graphs of frame selections and batched prediction.

use crate::error::Result;
use crate::graph::AtomicGraph;
use crate::model::{Nequip, Prediction};
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
    progress: impl FnMut(usize),
) -> Result<DatasetPrediction> {
    let batches = DatasetBatches {
        model,
        data,
        indices,
        batch_frames,
    };
    batches.predict(|g| model.predict(g), progress)
}

/// Frames of a dataset cut into graphs for a model, to be predicted by any executor.
#[derive(Clone, Copy, Debug)]
pub struct DatasetBatches<'a> {
    /// The model whose types and cutoff build the graphs.
    pub model: &'a Nequip,
    /// The frames' source.
    pub data: &'a Dataset,
    /// Which frames, in output order.
    pub indices: &'a [usize],
    /// Frames per graph.
    pub batch_frames: usize,
}

impl DatasetBatches<'_> {
    /// Runs `predict` on every batch graph (e.g. the CPU model, or the same model on a GPU);
    /// `progress` gets the number of frames done after each batch.
    pub fn predict<E: From<crate::error::NequipError>>(
        &self,
        mut predict: impl FnMut(&AtomicGraph) -> std::result::Result<Prediction, E>,
        mut progress: impl FnMut(usize),
    ) -> std::result::Result<DatasetPrediction, E> {
        let (data, indices) = (self.data, self.indices);
        let mut out = DatasetPrediction {
            energies: Vec::with_capacity(indices.len()),
            forces: Vec::with_capacity(indices.len() * data.n_atoms() * 3),
        };
        for chunk in indices.chunks(self.batch_frames.max(1)) {
            let graph = graph_of(self.model, data, chunk)?;
            let p = predict(&graph)?;
            out.energies.extend_from_slice(&p.energies);
            out.forces.extend_from_slice(&p.forces);
            progress(out.energies.len());
        }
        Ok(out)
    }
}
