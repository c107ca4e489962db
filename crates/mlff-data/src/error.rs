//! The one error type of the crate: every failure names the file (or source) and the problem.

use std::path::PathBuf;

/// Everything that can go wrong when reading, checking, selecting or writing a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The operating system refused a read or write.
    #[error("{file}: {source}")]
    Io {
        /// The file concerned.
        file: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not a readable archive (truncated download, not a zip, corrupt member).
    #[error("{file}: corrupt or truncated archive: {reason}")]
    CorruptArchive {
        /// The file concerned.
        file: PathBuf,
        /// What the archive reader reported.
        reason: String,
    },
    /// The format could not be recognised from the content.
    #[error("{file}: cannot recognise the format: {reason}")]
    UnknownFormat {
        /// The file concerned.
        file: PathBuf,
        /// Why detection failed.
        reason: String,
    },
    /// The file is an sGDML model without embedded frames: a potential, not a dataset.
    #[error(
        "{file}: this is an sGDML model file, not a dataset (it holds no frames); evaluate it as a potential instead"
    )]
    NotADataset {
        /// The file concerned.
        file: PathBuf,
    },
    /// A required array is absent from an npz archive.
    #[error("{file}: missing array `{key}` required by the {layout} layout")]
    MissingKey {
        /// The file concerned.
        file: PathBuf,
        /// The missing array's name.
        key: String,
        /// The layout that needs it.
        layout: &'static str,
    },
    /// An array has a dtype that cannot represent what it should hold.
    #[error("{file}: array `{key}` has dtype `{dtype}`, expected {expected}")]
    WrongDtype {
        /// The file concerned.
        file: PathBuf,
        /// The array's name.
        key: String,
        /// The dtype found.
        dtype: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// Array shapes disagree with each other or with the layout.
    #[error("{file}: shape mismatch: {detail}")]
    ShapeMismatch {
        /// The file concerned.
        file: PathBuf,
        /// Which shapes and why.
        detail: String,
    },
    /// A value that has the right shape but cannot mean anything: an unknown unit name, a
    /// negative frame index, a time index that is not a whole number.
    #[error("{file}: invalid {field}: {detail}")]
    InvalidValue {
        /// The file concerned.
        file: PathBuf,
        /// Which field (`energy_unit`, `old_indices`, `time_index`, …).
        field: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A NaN or infinite value was found.
    #[error("{file}: non-finite value ({value}) in {field} of frame {frame}")]
    NonFinite {
        /// The file concerned.
        file: PathBuf,
        /// Which quantity (positions, energies, forces).
        field: &'static str,
        /// The frame holding it.
        frame: usize,
        /// The offending value.
        value: f64,
    },
    /// An element symbol or atomic number not in the periodic table.
    #[error("{file}: unknown element `{element}` ({location})")]
    UnknownElement {
        /// The file concerned.
        file: PathBuf,
        /// The symbol or number as found.
        element: String,
        /// Where it was found.
        location: String,
    },
    /// A text file could not be parsed.
    #[error("{file}:{line}: {message}")]
    Parse {
        /// The file concerned.
        file: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with that line.
        message: String,
    },
    /// The dataset holds no frames or no atoms.
    #[error("{file}: the dataset is empty ({what})")]
    Empty {
        /// The file concerned.
        file: PathBuf,
        /// What is empty.
        what: String,
    },
    /// A time-based operation was asked of a dataset whose trajectory order is unknown.
    #[error("{file}: the trajectory time order of this dataset is unknown ({reason})")]
    NoTimeOrder {
        /// The file concerned.
        file: PathBuf,
        /// Why no order is known.
        reason: String,
    },
    /// A frame index beyond the dataset.
    #[error("frame index {index} out of range: the dataset has {len} frames")]
    IndexOutOfRange {
        /// The requested index.
        index: usize,
        /// The number of frames.
        len: usize,
    },
    /// The operation needs labels (energies or forces) the dataset does not have.
    #[error("{file}: the dataset has no {what} (it holds geometries only)")]
    MissingLabels {
        /// The file concerned.
        file: PathBuf,
        /// `energies` or `forces`.
        what: &'static str,
    },
    /// A dataset cannot be written in the requested format.
    #[error("cannot write {format}: {reason}")]
    Unwritable {
        /// The target format.
        format: &'static str,
        /// Why not.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
