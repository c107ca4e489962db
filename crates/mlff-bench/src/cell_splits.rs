//! The frames a cell trains, validates and tests on, built with `mlff-splits` so that every
//! split is recorded as JSON that regenerates from its request.

use anyhow::{Context, Result};
use mlff_data::Dataset;
use mlff_splits::{
    RandomParams, Size, Split, SplitIndices, SplitRequest, Strategy, TimeHoldoutParams,
    TimeTestSegment, Validation, ValidationPlacement,
};

use crate::preset::Plan;
use crate::store::WindowRecord;

/// Test kinds.
pub const IID: &str = "iid";
/// The last `test_fraction` of the trajectory.
pub const TIME_HOLDOUT: &str = "time-holdout";
/// Another molecule (or the training molecule's own held-out frames, for the diagonal).
pub const CROSS: &str = "cross";

/// One test set.
#[derive(Debug, Clone)]
pub struct TestSet {
    /// [`IID`], [`TIME_HOLDOUT`] or [`CROSS`].
    pub kind: &'static str,
    /// Molecule.
    pub molecule: String,
    /// Frame indices into the molecule's dataset.
    pub frames: Vec<usize>,
}

/// Frames of one cell.
#[derive(Debug, Clone, Default)]
pub struct CellSplits {
    /// The splits they came from.
    pub splits: Vec<Split>,
    /// Training frames per molecule.
    pub train: Vec<(String, Vec<usize>)>,
    /// Validation frames per molecule.
    pub validation: Vec<(String, Vec<usize>)>,
    /// Test sets.
    pub tests: Vec<TestSet>,
    /// Training window (experiment 2).
    pub window: Option<WindowRecord>,
}

/// A validation set of `n` frames drawn at random from the training side.
pub fn validation(n: usize) -> Validation {
    Validation {
        size: Size::Count(n),
        placement: ValidationPlacement::default(),
    }
}

/// The time-holdout test segment of `data`.
pub fn segment(data: &Dataset, plan: &Plan) -> Result<TimeTestSegment> {
    let time = crate::data::time_order_of(data)?.with_context(|| {
        format!(
            "{}: the time order of the frames is unknown, so no time-holdout test exists",
            data.provenance().label().display()
        )
    })?;
    Ok(TimeTestSegment {
        time: Some(time),
        test_fraction: plan.test_fraction,
        gap: 0,
    })
}

/// The time-holdout split: (split, frames before the test segment, test frames).
pub fn time_holdout(
    data: &Dataset,
    plan: &Plan,
    seed: u64,
) -> Result<(Split, Vec<usize>, Vec<usize>)> {
    let request = SplitRequest::new(
        Strategy::TimeHoldout(TimeHoldoutParams {
            segment: segment(data, plan)?,
        }),
        seed,
    );
    let split = request.generate()?;
    let SplitIndices::Single(frames) = &split.indices else {
        anyhow::bail!("time holdout produced an unexpected split layout");
    };
    let (pool, test) = (frames.train.clone(), frames.test.clone());
    Ok((split, pool, test))
}

/// `size` random training frames (plus validation) and an i.i.d. test set of `n_test` frames,
/// all drawn from the frames before the time-holdout segment; tests on both.
pub fn iid_with_holdout(
    molecule: &str,
    data: &Dataset,
    plan: &Plan,
    size: usize,
    n_test: usize,
    seed: u64,
) -> Result<CellSplits> {
    let (holdout, pool, holdout_test) = time_holdout(data, plan, seed)?;
    let n_val = plan.validation_frames(size);
    let request = SplitRequest::new(
        Strategy::Random(RandomParams {
            n_frames: pool.len(),
            test: Size::Count(n_test),
            train: Some(Size::Count(size + n_val)),
        }),
        seed,
    )
    .with_validation(validation(n_val));
    let random = request.generate()?;
    let SplitIndices::Single(s) = &random.indices else {
        anyhow::bail!("random split produced an unexpected layout");
    };
    // The random split indexes positions in the pre-holdout pool.
    let map = |positions: &[usize]| positions.iter().map(|&p| pool[p]).collect::<Vec<_>>();
    let name = molecule.to_string();
    Ok(CellSplits {
        train: vec![(name.clone(), map(&s.train))],
        validation: vec![(name.clone(), map(&s.validation))],
        tests: vec![
            TestSet {
                kind: IID,
                molecule: name.clone(),
                frames: map(&s.test),
            },
            TestSet {
                kind: TIME_HOLDOUT,
                molecule: name,
                frames: holdout_test,
            },
        ],
        splits: vec![holdout, random],
        window: None,
    })
}

/// Frames available before the time-holdout segment.
pub fn pool_size(frames: usize, plan: &Plan) -> usize {
    frames - (plan.test_fraction * frames as f64).round() as usize
}
