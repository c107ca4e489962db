//! Typed errors for every bad split request.

use std::path::PathBuf;

/// Everything that can go wrong when building, reading or verifying a split.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// The dataset has no frames at all.
    #[error("{what}: the dataset has no frames")]
    EmptyDataset {
        /// Which input was empty.
        what: String,
    },
    /// A requested set size is larger than the frames available for it.
    #[error("{what}: requested {requested} frames but only {available} are available")]
    SizeTooLarge {
        /// Which set was requested.
        what: String,
        /// Frames requested.
        requested: usize,
        /// Frames available.
        available: usize,
    },
    /// A requested set size is zero where at least one frame is needed.
    #[error("{what}: the size must be at least 1 frame")]
    ZeroSize {
        /// Which set was requested.
        what: String,
    },
    /// A fraction outside the open interval (0, 1), or not finite.
    #[error("{what}: fraction {value} must lie strictly between 0 and 1")]
    FractionOutOfRange {
        /// Which fraction.
        what: String,
        /// The value given.
        value: f64,
    },
    /// A training window does not fit in the part of the trajectory before the test segment.
    #[error(
        "training window of {window} frames does not fit in the {pool} frames before the test segment"
    )]
    WindowTooLarge {
        /// Window size in frames.
        window: usize,
        /// Frames available before the test segment (and gap).
        pool: usize,
    },
    /// A time-based strategy was requested for data whose time order is unknown.
    #[error(
        "strategy `{strategy}` needs the trajectory's time order, which is unknown for this dataset"
    )]
    TimeOrderUnknown {
        /// The strategy that needs it.
        strategy: String,
    },
    /// The time order given is not a permutation of the frames, or its MD steps are inconsistent.
    #[error("invalid time order: {reason}")]
    InvalidTimeOrder {
        /// What is wrong, with the offending position.
        reason: String,
    },
    /// A time step that is not a finite positive number of femtoseconds.
    #[error("time step {value} fs must be finite and positive")]
    InvalidTimestep {
        /// The value given.
        value: f64,
    },
    /// Learning-curve sizes that are not strictly increasing.
    #[error(
        "learning-curve sizes must be strictly increasing: size {next} at position {position} follows {previous}"
    )]
    SizesNotIncreasing {
        /// Position of the offending size in the list.
        position: usize,
        /// The size before it.
        previous: usize,
        /// The offending size.
        next: usize,
    },
    /// A parameter outside its valid range (counts, iterations, stride…).
    #[error("{what}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        what: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A dataset label that the cross-dataset request does not define.
    #[error("unknown dataset label `{label}` (defined: {known})")]
    UnknownDataset {
        /// The label asked for.
        label: String,
        /// The labels that exist, comma-separated.
        known: String,
    },
    /// Two datasets in a cross-dataset request share a label.
    #[error("dataset label `{label}` appears more than once")]
    DuplicateDataset {
        /// The repeated label.
        label: String,
    },
    /// A frame index outside the dataset.
    #[error("{list}: index {index} at position {position} is out of range for {n_frames} frames")]
    IndexOutOfRange {
        /// Which index list.
        list: String,
        /// Position in the list.
        position: usize,
        /// The index.
        index: usize,
        /// Frames in the dataset.
        n_frames: usize,
    },
    /// A frame index that appears twice in one list, or in two lists that must be disjoint.
    #[error("{list}: frame {index} appears more than once")]
    DuplicateIndex {
        /// Which list (or pair of lists).
        list: String,
        /// The repeated frame.
        index: usize,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line of an index file that is not a non-negative integer.
    #[error("{path}:{line}: `{text}` is not a frame index (a non-negative integer)")]
    IndexFileParse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The offending text.
        text: String,
    },
    /// A split JSON document that cannot be parsed or written.
    #[error("split JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A descriptor matrix whose frame count differs from the request.
    #[error("descriptor matrix has {got} frames but the request covers {expected}")]
    DescriptorShape {
        /// Frames the request covers.
        expected: usize,
        /// Frames the descriptors have.
        got: usize,
    },
    /// A descriptor entry that is NaN or infinite.
    #[error("descriptor of frame {frame}, column {column} is not finite ({value})")]
    NonFiniteDescriptor {
        /// Frame index.
        frame: usize,
        /// Column index.
        column: usize,
        /// The value.
        value: f64,
    },
    /// Descriptors differ from those the split was made with.
    #[error(
        "descriptor fingerprint {got} differs from {expected} recorded in the split: not the same descriptors"
    )]
    DescriptorMismatch {
        /// Fingerprint recorded in the split.
        expected: String,
        /// Fingerprint of the descriptors supplied.
        got: String,
    },
    /// Regenerating a descriptor-based split needs the descriptor matrix.
    #[error(
        "strategy `{strategy}` depends on descriptors: use regenerate_with_descriptors / verify_with_descriptors"
    )]
    NeedsDescriptors {
        /// The strategy.
        strategy: String,
    },
    /// A stored split whose indices differ from those its description regenerates.
    #[error("split does not match its description: {what} differs when regenerated")]
    Mismatch {
        /// Which part differs.
        what: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = SplitError> = std::result::Result<T, E>;
