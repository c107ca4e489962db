//! Validation sets, always carved from the training side of a split.

use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};
use crate::sampling::{draw, draw_sorted, rng_for, stream};
use crate::size::{Size, check_count};
use crate::split::{FrameSplit, SplitIndices};

/// How large a validation set to carve from each training side, and where from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    /// Frames taken from the training side (a fraction is of the training side).
    pub size: Size,
    /// Which training frames become validation frames.
    #[serde(default)]
    pub placement: ValidationPlacement,
}

/// Which training frames become validation frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationPlacement {
    /// A seeded random draw from the training side.
    #[default]
    Random,
    /// The latest training frames in time (for time-based strategies only), so validation
    /// mimics "predict what comes next" as the test set does.
    Tail,
}

/// The training side split into (train, validation), both sorted.
///
/// `side` must be in time order when `time_ordered` is true (needed for `Tail`).
pub(crate) fn carve(
    spec: Option<&Validation>,
    side: Vec<usize>,
    time_ordered: bool,
    what: &str,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let Some(spec) = spec else {
        let mut train = side;
        train.sort_unstable();
        return Ok((train, Vec::new()));
    };
    let label = format!("validation set of {what}");
    let k = match spec.size {
        Size::Count(k) => k,
        Size::Fraction(_) => spec.size.resolve(&label, side.len())?,
    };
    // At least one training frame must remain.
    check_count(&label, k, side.len().saturating_sub(1))?;
    match spec.placement {
        ValidationPlacement::Random => {
            let (validation, train) = draw_sorted(side, k, rng);
            Ok((train, validation))
        }
        ValidationPlacement::Tail if time_ordered => {
            let mut train = side;
            let mut validation = train.split_off(train.len() - k);
            train.sort_unstable();
            validation.sort_unstable();
            Ok((train, validation))
        }
        ValidationPlacement::Tail => Err(SplitError::InvalidParameter {
            what: label,
            reason: "placement `tail` needs a time-ordered training side; use `random`".into(),
        }),
    }
}

/// A single split from a training side and a test set: the side is optionally subsampled to
/// `side_size` (stream `TRAIN`), then validation is carved from it (stream `VALIDATION`).
pub(crate) fn single_split(
    side: Vec<usize>,
    side_size: Option<Size>,
    mut test: Vec<usize>,
    validation: Option<&Validation>,
    seed: u64,
    what: &str,
) -> Result<SplitIndices> {
    let side = match side_size {
        Some(size) => {
            let k = size.resolve(&format!("training side of {what}"), side.len())?;
            draw(side, k, &mut rng_for(seed, stream::TRAIN))
        }
        None => side,
    };
    let (train, validation) = carve(
        validation,
        side,
        false,
        what,
        &mut rng_for(seed, stream::VALIDATION),
    )?;
    test.sort_unstable();
    Ok(SplitIndices::Single(FrameSplit {
        train,
        validation,
        test,
    }))
}
