//! Typed errors of model construction, import and evaluation.

use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong when building, loading or evaluating a NequIP model.
#[derive(Debug, Error)]
pub enum NequipError {
    /// The executor running the model (e.g. a GPU) failed.
    #[error("{executor} failed: {message}")]
    Executor {
        /// Which executor.
        executor: String,
        /// Its error.
        message: String,
    },
    /// A hyper-parameter is missing, out of range or inconsistent.
    #[error("invalid NequIP configuration: {0}")]
    Config(String),
    /// Training failed (its configuration, a checkpoint, a resumed state, a diverging loss).
    #[error("training: {0}")]
    Training(#[from] mlff_train::TrainError),
    /// A configuration file could not be read or parsed.
    #[error("cannot read configuration {path}: {reason}")]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An atom's element is not one of the model's types.
    #[error(
        "atom {atom} of frame {frame} is element Z={z}, which this model was not built for (types: {types})"
    )]
    UnknownElement {
        /// Frame index in the batch.
        frame: usize,
        /// Atom index in the frame.
        atom: usize,
        /// Its atomic number.
        z: u8,
        /// The model's type names.
        types: String,
    },
    /// Two atoms are (nearly) on top of each other.
    #[error("atoms {i} and {j} of frame {frame} are {distance:.3e} Å apart (minimum {min} Å)")]
    AtomsTooClose {
        /// Frame index in the batch.
        frame: usize,
        /// First atom.
        i: usize,
        /// Second atom.
        j: usize,
        /// Their distance.
        distance: f64,
        /// The smallest allowed distance.
        min: f64,
    },
    /// A position is NaN or infinite.
    #[error("non-finite position of atom {atom} in frame {frame}")]
    NonFinitePosition {
        /// Frame index in the batch.
        frame: usize,
        /// Atom index in the frame.
        atom: usize,
    },
    /// Buffers of the wrong size.
    #[error("shape mismatch for {what}: expected {expected}, got {got}")]
    Shape {
        /// Which buffer.
        what: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// A weight file lacks a parameter or has it in the wrong shape.
    #[error("weights: {0}")]
    Weights(String),
    /// A checkpoint could not be read or written.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An equivariant operation rejected its input.
    #[error(transparent)]
    E3(#[from] mlff_e3::E3Error),
    /// Dataset I/O failed.
    #[error(transparent)]
    Data(#[from] mlff_data::DataError),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, NequipError>;
