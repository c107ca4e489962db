//! Typed errors for SOAP parameters, inputs and similarity kernels.

use thiserror::Error;

/// Everything that can go wrong when building a SOAP calculator, computing descriptors or
/// comparing them.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SoapError {
    /// `r_cut` is not a finite number above the basis's lower bound.
    #[error("r_cut = {r_cut} is invalid: {reason}")]
    InvalidCutoff {
        /// The offending cutoff in Å.
        r_cut: f64,
        /// Why it is rejected (e.g. the GTO basis needs r_cut > 1 Å).
        reason: &'static str,
    },
    /// `n_max` outside 1..=[`crate::MAX_N_MAX`].
    #[error(
        "n_max = {0} is invalid: between 1 and {max} radial basis functions are supported (the \
         features grow as n_max² (l_max + 1) per pair of species)",
        max = crate::MAX_N_MAX
    )]
    InvalidNMax(usize),
    /// `l_max` above the supported maximum (20, as in DScribe).
    #[error("l_max = {0} is invalid: the maximum supported l_max is 20")]
    InvalidLMax(usize),
    /// `sigma` must be finite and positive.
    #[error("sigma = {0} is invalid: the Gaussian width must be finite and > 0")]
    InvalidSigma(f64),
    /// The species list is empty, has duplicates or a zero atomic number.
    #[error("invalid species list {species:?}: {reason}")]
    InvalidSpecies {
        /// The species list as given.
        species: Vec<u32>,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An atom's atomic number is not in the calculator's species list.
    #[error("atom {atom} has atomic number {z}, which is not in the species list {species:?}")]
    UnknownSpecies {
        /// Index of the atom in its frame.
        atom: usize,
        /// Its atomic number.
        z: u32,
        /// The calculator's species.
        species: Vec<u32>,
    },
    /// The Löwdin orthonormalisation of the radial basis failed (overlap not positive definite).
    #[error(
        "radial basis overlap matrix for l = {l} is not positive definite (smallest eigenvalue {min_eigenvalue:e}); lower n_max or raise r_cut"
    )]
    IllConditionedBasis {
        /// Angular channel whose overlap matrix failed.
        l: usize,
        /// Smallest eigenvalue found.
        min_eigenvalue: f64,
    },
    /// An input that must not be empty is empty.
    #[error("empty input: {0}")]
    EmptyInput(&'static str),
    /// Array shapes do not agree.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Which argument.
        what: &'static str,
        /// The expected shape, in words.
        expected: String,
        /// The shape given.
        got: String,
    },
    /// A coordinate or feature is NaN or infinite.
    #[error("non-finite value in {what} at index {index}")]
    NonFinite {
        /// Which argument.
        what: &'static str,
        /// Flat index of the first bad value.
        index: usize,
    },
    /// A selected centre index is out of range.
    #[error("centre index {index} is out of range for a frame with {n_atoms} atoms")]
    CentreOutOfRange {
        /// The index given.
        index: usize,
        /// Atoms in the frame.
        n_atoms: usize,
    },
    /// A kernel parameter is out of range.
    #[error("invalid kernel parameter {name} = {value}: {reason}")]
    InvalidKernelParameter {
        /// Parameter name.
        name: &'static str,
        /// Its value.
        value: f64,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A feature vector has zero norm, so a normalised (cosine) similarity is undefined.
    #[error("{what} {index} has zero norm; cosine similarity is undefined")]
    ZeroNorm {
        /// Which set the vector belongs to.
        what: &'static str,
        /// Its row index.
        index: usize,
    },
    /// The Sinkhorn iteration of the REMatch kernel did not converge.
    #[error(
        "REMatch Sinkhorn iteration did not converge in {iterations} iterations (error {error:e})"
    )]
    SinkhornNotConverged {
        /// Iterations run.
        iterations: usize,
        /// Last relative change.
        error: f64,
    },
}
