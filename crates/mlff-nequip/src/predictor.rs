//! Executors of a model's energy and force passes behind one interface, so the code that
//! evaluates datasets or drives MD does not care whether the model runs on the CPU or a GPU.

use crate::error::Result;
use crate::graph::AtomicGraph;
use crate::model::{Nequip, Prediction};

/// Computes energies and forces of graphs built for [`Predictor::model`].
///
/// [`Nequip`] itself is the CPU predictor; `mlff-nequip-cuda` implements it for the same model
/// on a GPU.
pub trait Predictor: Send + Sync {
    /// The model whose types and cutoff the graphs are built with.
    fn model(&self) -> &Nequip;
    /// Energies (per frame) and forces (`atoms × 3`) of `graph`.
    fn predict_graph(&self, graph: &AtomicGraph) -> Result<Prediction>;
    /// A short name for logs and reports (`cpu`, `cuda:0 (NVIDIA H100 …)`, …).
    fn executor(&self) -> String;
}

impl Predictor for Nequip {
    fn model(&self) -> &Nequip {
        self
    }
    fn predict_graph(&self, graph: &AtomicGraph) -> Result<Prediction> {
        self.predict(graph)
    }
    fn executor(&self) -> String {
        "cpu".into()
    }
}
