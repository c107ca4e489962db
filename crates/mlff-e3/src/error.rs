//! Typed errors of every fallible operation in the crate.

use thiserror::Error;

/// Everything that can go wrong when building or running an equivariant operation.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum E3Error {
    /// An irreps string could not be parsed.
    #[error("cannot parse irreps {input:?} at term {term}: {reason}")]
    IrrepsParse {
        /// The full input string.
        input: String,
        /// Zero-based index of the `+`-separated term that failed.
        term: usize,
        /// What was wrong with it.
        reason: String,
    },
    /// A buffer has the wrong length for the declared shape.
    #[error("shape mismatch for {what}: expected {expected} values, got {got}")]
    ShapeMismatch {
        /// Which argument.
        what: &'static str,
        /// Expected number of values.
        expected: usize,
        /// Number of values received.
        got: usize,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter {what}: {reason}")]
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// An input contains NaN or infinity.
    #[error("non-finite value in {what} at flat index {index}")]
    NonFinite {
        /// Which argument.
        what: &'static str,
        /// Flat index of the first offending value.
        index: usize,
    },
    /// A tensor-product or linear instruction is inconsistent with its irreps.
    #[error("invalid instruction {index}: {reason}")]
    InvalidInstruction {
        /// Position of the instruction in the list.
        index: usize,
        /// What is inconsistent.
        reason: String,
    },
    /// An index (edge endpoint, irrep index) points outside its range.
    #[error("index out of range in {what}: {index} >= {len}")]
    IndexOutOfRange {
        /// Which argument.
        what: &'static str,
        /// The offending index.
        index: usize,
        /// The exclusive upper bound.
        len: usize,
    },
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, E3Error>;

/// Checks that a buffer holds exactly `expected` values.
pub(crate) fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(E3Error::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Checks that every value of a buffer is finite.
pub(crate) fn check_finite<T: crate::Scalar>(what: &'static str, values: &[T]) -> Result<()> {
    use rayon::prelude::*;
    // Per-edge arrays hold millions of values: scanned by the pool (the first bad index all
    // the same).
    const BLOCK: usize = 1 << 14;
    let first_bad = |block: &[T]| block.iter().position(|v| !v.is_finite());
    let bad = if values.len() < 4 * BLOCK {
        first_bad(values)
    } else {
        values
            .par_chunks(BLOCK)
            .position_first(|block| first_bad(block).is_some())
            .and_then(|b| first_bad(&values[b * BLOCK..]).map(|i| b * BLOCK + i))
    };
    match bad {
        None => Ok(()),
        Some(index) => Err(E3Error::NonFinite { what, index }),
    }
}

/// Number of rows of a finite batch `x` (`rows × width`); rejects `width = 0` and ragged input.
pub(crate) fn batch_rows<T: crate::Scalar>(
    what: &'static str,
    x: &[T],
    width: usize,
) -> Result<usize> {
    if width == 0 {
        return Err(E3Error::InvalidParameter {
            what,
            reason: "rows have width 0 (empty irreps)".into(),
        });
    }
    if !x.len().is_multiple_of(width) {
        return Err(E3Error::ShapeMismatch {
            what,
            expected: (x.len() / width + 1) * width,
            got: x.len(),
        });
    }
    check_finite(what, x)?;
    Ok(x.len() / width)
}

#[cfg(test)]
mod tests {
    use super::{E3Error, check_finite};

    #[test]
    fn the_first_non_finite_value_is_reported_at_every_size() {
        for len in [10, 1 << 16, (1 << 16) + 3, 1 << 20] {
            let mut x = vec![1.0f32; len];
            assert!(check_finite("x", &x).is_ok());
            for bad in [len - 1, len / 2, len / 3] {
                x[bad] = f32::NAN;
                x[len - 1] = f32::INFINITY;
                match check_finite("x", &x) {
                    Err(E3Error::NonFinite { index, .. }) => assert_eq!(index, bad.min(len - 1)),
                    other => panic!("expected a non-finite error, got {other:?}"),
                }
            }
        }
    }
}
