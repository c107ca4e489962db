//! The one error type of the crate: every bad input is reported with what and where.

use thiserror::Error;

/// Everything that can go wrong in `mlff-md`.
#[derive(Debug, Error)]
pub enum MdError {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A molecule description is malformed.
    #[error("molecule description {source_name}: {message}")]
    MoleculeFormat {
        /// File name or built-in name of the description.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// A built-in molecule name that does not exist.
    #[error("unknown built-in molecule {name:?}; known molecules: {known}")]
    UnknownMolecule {
        /// The requested name.
        name: String,
        /// Comma-separated list of the built-in names.
        known: String,
    },
    /// An element symbol or atomic number that the crate has no data for.
    #[error("atom {index}: unsupported element {element:?} (supported: H, C, N, O)")]
    UnknownElement {
        /// Atom index.
        index: usize,
        /// The symbol or atomic number as given.
        element: String,
    },
    /// UFF has no parameters for an atom's element/hybridization combination.
    #[error("atom {index} ({element}, hybridization {hybridization}): no UFF atom type")]
    MissingUffParameters {
        /// Atom index.
        index: usize,
        /// Element symbol.
        element: String,
        /// Hybridization as given.
        hybridization: String,
    },
    /// A bonding situation this UFF implementation does not cover.
    #[error("atom {index}: unsupported UFF topology: {reason}")]
    UnsupportedTopology {
        /// Atom index.
        index: usize,
        /// What is not covered.
        reason: String,
    },
    /// Two arrays that must agree in size do not.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Which quantity.
        what: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// An input that must not be empty is empty.
    #[error("empty input: {what}")]
    Empty {
        /// Which quantity.
        what: String,
    },
    /// A NaN or infinite value where a finite number is required.
    #[error("non-finite value in {what} at {location}")]
    NonFinite {
        /// Which quantity.
        what: String,
        /// Where (index, atom, step).
        location: String,
    },
    /// A configuration parameter is out of range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// The value given.
        value: String,
        /// Why it is not allowed.
        reason: String,
    },
    /// An MD run blew up (non-finite numbers or atoms flying apart).
    #[error("trajectory exploded at step {step}: {reason}")]
    Exploded {
        /// Integration step (counted from 0 at the start of the run, equilibration included).
        step: usize,
        /// What was detected.
        reason: String,
    },
    /// An npz file lacks an array or has an unsupported dtype.
    #[error("npz file {path}: {message}")]
    NpzFormat {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A potential implemented elsewhere (a machine-learned model) failed to evaluate.
    #[error("{potential} potential: {message}")]
    Potential {
        /// Which potential.
        potential: String,
        /// Its own error message.
        message: String,
    },
    /// An sGDML model file is malformed.
    #[error("sGDML model {source_name}: {message}")]
    SgdmlFormat {
        /// Path of the model.
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, MdError>;

/// Builds an [`MdError::InvalidParameter`].
pub(crate) fn invalid(name: &'static str, value: impl ToString, reason: &str) -> MdError {
    MdError::InvalidParameter {
        name,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// True for a finite number > 0 (false for NaN).
pub(crate) fn is_positive_finite(x: f64) -> bool {
    x.is_finite() && x > 0.0
}
