//! The model interface the benchmark trains and evaluates: any MLFF plugs in by implementing
//! [`ModelFactory`] (train) and [`FittedModel`] (predict, and drive MD).
//!
//! Units: datasets arrive in kcal/mol and Å (the runner converts); predictions are returned in
//! the same units.

use crate::device::Executor;
use anyhow::Result;
use mlff_data::Dataset;
use mlff_md::Potential;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::preset::Preset;

/// Energies `(T)` and forces `(T, N, 3)` (row-major, flat) predicted for a dataset, kcal/mol(/Å).
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// Energy per frame.
    pub energies: Vec<f64>,
    /// Forces, flat `(T, N, 3)`.
    pub forces: Vec<f64>,
}

/// What training needs besides data: the seed of every random choice, where to report, and
/// where the model may keep files.
pub struct TrainingContext<'a> {
    /// Seed (initial weights, batch order, …).
    pub seed: u64,
    /// Called with a fraction in [0, 1] as training progresses (drives the cell's bar).
    pub progress: &'a (dyn Fn(f64) + Sync),
    /// The cell's id.
    pub cell: &'a str,
    /// A directory the cell owns (created, emptied when the cell starts) for the model's files.
    pub workdir: &'a Path,
    /// The training frames: per molecule, indices into its dataset (the order of `train`).
    pub train_frames: &'a [(String, Vec<usize>)],
    /// The validation frames, likewise.
    pub validation_frames: &'a [(String, Vec<usize>)],
}

/// Trains models of one kind with fixed hyper-parameters.
pub trait ModelFactory: Send + Sync {
    /// Model name as written in results (`baseline-pair`, `nequip`).
    fn name(&self) -> String;

    /// Trains on `train` (one dataset per molecule; several for cross-molecule training),
    /// using `validation` (same layout, possibly empty datasets absent) for early stopping or
    /// model selection as the model sees fit.
    fn train(
        &self,
        train: &[Dataset],
        validation: &[Dataset],
        context: &TrainingContext<'_>,
    ) -> Result<Box<dyn FittedModel>>;
}

/// A trained model.
pub trait FittedModel: Send + Sync {
    /// Energies and forces of every frame of `data`.
    fn predict(&self, data: &Dataset) -> Result<Predictions>;

    /// The model as an MD potential for a molecule with these atomic numbers.
    fn potential<'a>(&'a self, atomic_numbers: &[u8]) -> Result<Box<dyn Potential + 'a>>;

    /// Anything worth recording about the training run (epochs, final losses, parameters, why
    /// it stopped and whether it converged).
    fn training_summary(&self) -> serde_json::Value;

    /// The hyper-parameters the model was really built and trained with (element types and
    /// training-set statistics included), enough to rebuild it; recorded in every cell result.
    fn hyper_parameters(&self) -> serde_json::Value;
}

/// The model a run benchmarks, as recorded in its manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSpec {
    /// The learned two-body potential of `mlff-baseline` (seconds per cell).
    Baseline,
    /// NequIP (`mlff-nequip`).
    Nequip,
    /// A model in another process, trained and served by the commands of its card.
    External(crate::external::ExternalCard),
}

impl ModelSpec {
    /// Short name (`baseline`, `nequip`, the card's name), used in default run names.
    pub fn key(&self) -> String {
        match self {
            ModelSpec::Baseline => "baseline".into(),
            ModelSpec::Nequip => "nequip".into(),
            ModelSpec::External(card) => card.name.clone(),
        }
    }

    /// The factory with the preset's hyper-parameters; NequIP predicts on `executor`.
    pub fn factory(&self, preset: Preset, executor: &Executor) -> Result<Box<dyn ModelFactory>> {
        match self {
            ModelSpec::Baseline => Ok(Box::new(crate::baseline_model::BaselineFactory::new(
                preset,
            ))),
            ModelSpec::Nequip => Ok(Box::new(crate::nequip_model::NequipFactory::new(
                preset,
                executor.clone(),
            ))),
            ModelSpec::External(card) => Ok(Box::new(crate::external::ExternalFactory::new(
                card.clone(),
            ))),
        }
    }
}
