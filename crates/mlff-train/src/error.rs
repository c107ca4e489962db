//! The crate's one error type: every failure says what went wrong and where (which field, epoch,
//! step, batch or file).

use std::path::PathBuf;

/// An error raised by an [`Objective`](crate::Objective) implementation; boxed so that each model
/// keeps its own error type.
pub type ObjectiveError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong while configuring, running, checkpointing or resuming training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A configuration value is out of range or inconsistent.
    #[error("invalid training configuration: `{field}`: {reason}")]
    InvalidConfig {
        /// The configuration key (nequip's name where one exists).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration file could not be parsed.
    #[error("cannot parse training configuration as {format}: {reason}")]
    ConfigParse {
        /// `YAML` or `TOML`.
        format: &'static str,
        /// The parser's message (with line and column).
        reason: String,
    },
    /// The training or validation indices are unusable.
    #[error("invalid {set} indices: {reason}")]
    InvalidSplit {
        /// `training` or `validation`.
        set: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A vector's length disagrees with the number of parameters.
    #[error("{what} has {got} entries, but the objective has {expected} parameters")]
    ParameterCount {
        /// Which vector.
        what: &'static str,
        /// The objective's parameter count.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// The objective failed.
    #[error("objective failed in epoch {epoch} ({phase}): {source}")]
    Objective {
        /// The 1-based epoch being run.
        epoch: usize,
        /// `training step N` or `validation`.
        phase: String,
        /// The objective's own error.
        source: ObjectiveError,
    },
    /// A loss, gradient or metric became NaN or infinite; the run stopped without writing the
    /// bad state anywhere.
    #[error(
        "non-finite {what} in epoch {epoch} at optimiser step {step} (frames {batch:?}); training stopped. {}",
        match last_checkpoint {
            Some(p) => format!("The last good checkpoint is {}.", p.display()),
            None => "No checkpoint had been written yet.".to_string(),
        }
    )]
    NonFinite {
        /// Which quantity (`training loss`, `gradient entry 17`, `validation loss`, ...).
        what: String,
        /// The 1-based epoch being run.
        epoch: usize,
        /// The number of optimiser steps completed before the failure.
        step: u64,
        /// The frames of the failing batch (empty for validation).
        batch: Vec<usize>,
        /// The newest checkpoint on disk, if any.
        last_checkpoint: Option<PathBuf>,
    },
    /// A metric named in the configuration has no value (e.g. a force metric on energy-only data).
    #[error("metric `{metric}` used by `{field}` has no value in epoch {epoch}: {reason}")]
    MissingMetric {
        /// The metric's name.
        metric: String,
        /// The configuration key that uses it.
        field: &'static str,
        /// The 1-based epoch.
        epoch: usize,
        /// Why it has no value.
        reason: &'static str,
    },
    /// A state cannot be resumed with this configuration or data split.
    #[error("cannot resume: {0}")]
    ResumeMismatch(String),
    /// The operating system refused a read or write.
    #[error("{file}: {source}")]
    Io {
        /// The file concerned.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint file is not one, is truncated, or is inconsistent.
    #[error("{file}: not a valid training checkpoint: {reason}")]
    BadCheckpoint {
        /// The file concerned.
        file: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An error from the data crate (atomic writes, dataset access).
    #[error(transparent)]
    Data(#[from] mlff_data::DataError),
    /// The caller's checkpoint hook failed.
    #[error("checkpoint hook failed at epoch {epoch}: {source}")]
    Hook {
        /// The 1-based epoch.
        epoch: usize,
        /// The hook's error.
        source: ObjectiveError,
    },
    /// The training curve could not be plotted.
    #[error("{file}: cannot plot the training curve: {reason}")]
    Plot {
        /// The SVG file.
        file: PathBuf,
        /// The plotting library's message.
        reason: String,
    },
    /// Dataset statistics cannot be computed.
    #[error("dataset statistics: {0}")]
    Statistics(String),
}

/// The crate's result type.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

impl TrainError {
    /// Shorthand for [`TrainError::InvalidConfig`].
    pub(crate) fn config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        TrainError::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
