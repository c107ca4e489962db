//! The interface a model implements to be trained: a flat `f64` parameter vector, a loss gradient
//! on a batch of examples, and error sums on any set of examples.

use crate::error::ObjectiveError;
use crate::loss::{LossFunction, LossParts};

/// A trainable model together with its training data.
///
/// Examples are addressed by index in `0..n_examples()` (for a force field: frames of the
/// dataset). Parameters are the optimiser's `f64` master copy; the objective may compute in
/// lower precision. Implementations must be deterministic (same inputs, same bits) for resumed
/// runs to reproduce uninterrupted ones.
pub trait Objective: Sync {
    /// The number of examples indices may refer to.
    fn n_examples(&self) -> usize;

    /// The length of the parameter vector.
    fn n_params(&self) -> usize;

    /// Overwrites `grad` (length `n_params()`) with `∂L/∂θ` of `loss` on the examples `batch`,
    /// and returns their error sums (from which the trainer computes `L` via
    /// [`LossFunction::value`]). Use [`BatchShape`](crate::BatchShape) with
    /// [`LossFunction::energy_derivative`] and [`LossFunction::force_derivatives`] for the
    /// derivatives of `L` with respect to the predictions, and [`LossParts::add_frame`] per frame.
    fn loss_and_gradient(
        &self,
        params: &[f64],
        batch: &[usize],
        loss: &LossFunction,
        grad: &mut [f64],
    ) -> Result<LossParts, ObjectiveError>;

    /// The error sums of the model with `params` on the examples `indices` (no gradient).
    fn evaluate(&self, params: &[f64], indices: &[usize]) -> Result<LossParts, ObjectiveError>;
}
