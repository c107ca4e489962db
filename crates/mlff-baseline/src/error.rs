//! Errors of fitting and evaluating the pair potential.

use thiserror::Error;

/// Everything that can go wrong fitting or evaluating a [`crate::PairModel`].
#[derive(Debug, Error)]
pub enum BaselineError {
    /// A hyper-parameter is out of range.
    #[error("invalid parameter {what} = {value}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// Its value, formatted.
        value: String,
        /// The allowed range.
        reason: &'static str,
    },
    /// The training data has no energies or no forces.
    #[error("training dataset {dataset} has no {what}; the fit needs energies and forces")]
    MissingLabels {
        /// The dataset (file or molecule).
        dataset: String,
        /// `energies` or `forces`.
        what: &'static str,
    },
    /// No training frames were given.
    #[error("no training frames")]
    NoTrainingData,
    /// An element the model was not trained on.
    #[error(
        "element Z = {atomic_number} (atom {atom}) is not among the trained elements {trained:?}"
    )]
    UnknownElement {
        /// Atomic number.
        atomic_number: u8,
        /// Atom index.
        atom: usize,
        /// Elements the model knows.
        trained: Vec<u8>,
    },
    /// An element pair that never occurred within the cutoff in the training data.
    #[error(
        "element pair Z = {a}–{b} (atoms {i}, {j}) never occurred within the cutoff in training"
    )]
    UnseenPair {
        /// Smaller atomic number.
        a: u8,
        /// Larger atomic number.
        b: u8,
        /// First atom.
        i: usize,
        /// Second atom.
        j: usize,
    },
    /// Array sizes disagree.
    #[error("{what}: expected {expected} values, got {got}")]
    ShapeMismatch {
        /// Which array.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// Two atoms sit on top of each other, or a coordinate is not finite.
    #[error("atoms {i} and {j} are {distance} Å apart; positions must be finite and distinct")]
    DegenerateGeometry {
        /// First atom.
        i: usize,
        /// Second atom.
        j: usize,
        /// Their distance.
        distance: f64,
    },
    /// The normal equations could not be solved (should not happen with a positive ridge).
    #[error("the least-squares system is not positive definite (ridge {ridge}); raise the ridge")]
    Singular {
        /// The relative ridge used.
        ridge: f64,
    },
    /// A dataset operation failed.
    #[error(transparent)]
    Data(#[from] mlff_data::DataError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, BaselineError>;
