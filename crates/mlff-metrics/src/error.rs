//! Typed errors for bad metric inputs.

/// Everything that can go wrong when scoring predictions or computing statistics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Two inputs that must have the same shape do not.
    #[error("shape mismatch: {what} is {got:?} but must be {expected:?}")]
    ShapeMismatch {
        /// Which input.
        what: String,
        /// Shape required.
        expected: Vec<usize>,
        /// Shape given.
        got: Vec<usize>,
    },
    /// An input with no frames, atoms or samples.
    #[error("{what} is empty")]
    Empty {
        /// Which input.
        what: String,
    },
    /// A NaN or infinite value in an input.
    #[error("{what}: non-finite value {value} at {location}")]
    NonFinite {
        /// Which input.
        what: String,
        /// Where, e.g. `frame 3, atom 2, component 1`.
        location: String,
        /// The value.
        value: f64,
    },
    /// An atomic number outside 1..=118.
    #[error("atomic number {z} at {location} is not an element (1..=118)")]
    InvalidAtomicNumber {
        /// The value.
        z: u8,
        /// Where.
        location: String,
    },
    /// Too few points for a statistic (e.g. a fit with a slope uncertainty needs 3).
    #[error("{what} needs at least {needed} points, got {got}")]
    TooFewPoints {
        /// Which statistic.
        what: String,
        /// Points needed.
        needed: usize,
        /// Points given.
        got: usize,
    },
    /// Inputs without variation where a statistic needs some (e.g. correlation of a constant).
    #[error("{what} is constant: {reason}")]
    Degenerate {
        /// Which input.
        what: String,
        /// Why that is a problem here.
        reason: String,
    },
    /// A parameter out of its valid range.
    #[error("{what}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        what: String,
        /// Why.
        reason: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;

/// Checks every value is finite, naming the first bad one by its position.
pub(crate) fn check_finite(
    what: &str,
    values: &[f64],
    locate: impl Fn(usize) -> String,
) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(MetricsError::NonFinite {
            what: what.into(),
            location: locate(i),
            value: values[i],
        }),
        None => Ok(()),
    }
}
