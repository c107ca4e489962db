//! Set sizes given as a frame count or as a fraction of the frames available.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};

/// A set size: an absolute number of frames, or a fraction of the frames available.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Size {
    /// Exactly this many frames.
    Count(usize),
    /// This fraction of the frames available, rounded to the nearest frame; must lie in (0, 1).
    Fraction(f64),
}

impl Size {
    /// Number of frames this size means out of `available`, checked to be in `1..=available`.
    pub fn resolve(self, what: &str, available: usize) -> Result<usize> {
        let count = match self {
            Size::Count(n) => n,
            Size::Fraction(f) => fraction_of(what, f, available)?,
        };
        check_count(what, count, available)
    }
}

/// `round(f · n)` for a fraction strictly inside (0, 1).
pub(crate) fn fraction_of(what: &str, fraction: f64, n: usize) -> Result<usize> {
    if !(fraction.is_finite() && fraction > 0.0 && fraction < 1.0) {
        return Err(SplitError::FractionOutOfRange {
            what: what.to_string(),
            value: fraction,
        });
    }
    Ok((fraction * n as f64).round() as usize)
}

/// Checks `1 <= count <= available`.
pub(crate) fn check_count(what: &str, count: usize, available: usize) -> Result<usize> {
    if count == 0 {
        return Err(SplitError::ZeroSize {
            what: what.to_string(),
        });
    }
    if count > available {
        return Err(SplitError::SizeTooLarge {
            what: what.to_string(),
            requested: count,
            available,
        });
    }
    Ok(count)
}
