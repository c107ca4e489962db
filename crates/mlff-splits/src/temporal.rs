//! Time-based strategies: a test segment at the end of the trajectory, and training frames
//! strictly before it (all of them, or contiguous windows).

use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};
use crate::sampling::{rng_for, stream};
use crate::size::{check_count, fraction_of};
use crate::split::{FrameSplit, SplitIndices, TrainingWindow};
use crate::time_order::TimeOrder;
use crate::validation::{Validation, carve};

/// Default test fraction of time-based strategies (the last 10% of the trajectory).
pub const DEFAULT_TEST_FRACTION: f64 = 0.1;

fn default_test_fraction() -> f64 {
    DEFAULT_TEST_FRACTION
}

/// The test segment at the end of a time-ordered trajectory, and the gap before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeTestSegment {
    /// Time order of the frames; `None` (unknown) makes generation fail with a clear error.
    #[serde(default)]
    pub time: Option<TimeOrder>,
    /// Fraction of the trajectory, at its end, used as the test set (default 0.1).
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// Frames left out between the training part and the test segment.
    #[serde(default)]
    pub gap: usize,
}

/// A resolved test segment: time positions `test_start..n_frames`; training positions must lie
/// in `0..pool_end`.
pub(crate) struct ResolvedSegment<'a> {
    pub time: &'a TimeOrder,
    pub test_start: usize,
    pub pool_end: usize,
}

impl TimeTestSegment {
    /// A segment over `time` with the default test fraction and no gap.
    pub fn new(time: TimeOrder) -> Self {
        Self {
            time: Some(time),
            test_fraction: DEFAULT_TEST_FRACTION,
            gap: 0,
        }
    }

    pub(crate) fn resolve(&self, strategy: &str) -> Result<ResolvedSegment<'_>> {
        let time = self
            .time
            .as_ref()
            .ok_or_else(|| SplitError::TimeOrderUnknown {
                strategy: strategy.into(),
            })?;
        time.validate()?;
        let n = time.n_frames;
        if n == 0 {
            return Err(SplitError::EmptyDataset {
                what: strategy.into(),
            });
        }
        let n_test = check_count(
            "test segment",
            fraction_of("test fraction", self.test_fraction, n)?,
            n,
        )?;
        let test_start = n - n_test;
        if self.gap >= test_start {
            return Err(SplitError::SizeTooLarge {
                what: "gap before the test segment (no training frame would remain)".into(),
                requested: self.gap,
                available: test_start.saturating_sub(1),
            });
        }
        Ok(ResolvedSegment {
            time,
            test_start,
            pool_end: test_start - self.gap,
        })
    }
}

impl ResolvedSegment<'_> {
    fn test_frames(&self) -> Vec<usize> {
        let mut test = self.time.frames_in(self.test_start..self.time.n_frames);
        test.sort_unstable();
        test
    }
}

/// Parameters of the time-holdout split: train on everything before the (gap and) test segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeHoldoutParams {
    /// Test segment and gap.
    #[serde(flatten)]
    pub segment: TimeTestSegment,
}

impl TimeHoldoutParams {
    pub(crate) fn generate(
        &self,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<SplitIndices> {
        let segment = self.segment.resolve("time_holdout")?;
        let side = segment.time.frames_in(0..segment.pool_end);
        let (train, validation) = carve(
            validation,
            side,
            true,
            "time holdout",
            &mut rng_for(seed, stream::VALIDATION),
        )?;
        Ok(SplitIndices::Single(FrameSplit {
            train,
            validation,
            test: segment.test_frames(),
        }))
    }
}

/// Where sliding windows go inside the pre-test part of the trajectory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowPlacement {
    /// K windows evenly spaced from the trajectory start to the test segment (K = 1: the window
    /// right before the test segment).
    Positions(usize),
    /// Windows every `stride` frames, anchored so that the last one ends right before the test
    /// segment (and gap).
    Stride(usize),
}

/// Parameters of sliding training windows sharing one test segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlidingWindowParams {
    /// Test segment and gap.
    #[serde(flatten)]
    pub segment: TimeTestSegment,
    /// Frames per window (validation included).
    pub window: usize,
    /// Window positions.
    pub placement: WindowPlacement,
}

impl SlidingWindowParams {
    pub(crate) fn generate(
        &self,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<SplitIndices> {
        let segment = self.segment.resolve("sliding_windows")?;
        let pool = segment.pool_end;
        check_count("training window", self.window, usize::MAX)?;
        if self.window > pool {
            return Err(SplitError::WindowTooLarge {
                window: self.window,
                pool,
            });
        }
        let starts = window_starts(self.placement, pool - self.window)?;
        let windows = starts
            .into_iter()
            .enumerate()
            .map(|(k, start)| self.window_at(&segment, start, k as u64, validation, seed))
            .collect::<Result<Vec<_>>>()?;
        Ok(SplitIndices::Windows {
            test_start: segment.test_start,
            test: segment.test_frames(),
            windows,
        })
    }

    fn window_at(
        &self,
        segment: &ResolvedSegment<'_>,
        start: usize,
        k: u64,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<TrainingWindow> {
        let end = start + self.window;
        let time = segment.time;
        let md_steps_to_test = time.steps_between(end - 1, segment.test_start);
        // Each window draws its validation frames from its own stream.
        let mut rng = rng_for(seed, stream::TASK_BASE + k);
        let (train, validation) = carve(
            validation,
            time.frames_in(start..end),
            true,
            &format!("window {k}"),
            &mut rng,
        )?;
        Ok(TrainingWindow {
            start,
            end,
            frames_to_test: segment.test_start - end,
            md_steps_to_test,
            time_to_test_fs: time.timestep_fs.map(|dt| md_steps_to_test as f64 * dt),
            train,
            validation,
        })
    }
}

/// Window start positions, chronological, for windows whose start lies in `0..=last_start`.
fn window_starts(placement: WindowPlacement, last_start: usize) -> Result<Vec<usize>> {
    match placement {
        WindowPlacement::Positions(0) | WindowPlacement::Stride(0) => {
            Err(SplitError::InvalidParameter {
                what: "window placement".into(),
                reason: "the number of positions and the stride must be at least 1".into(),
            })
        }
        WindowPlacement::Positions(1) => Ok(vec![last_start]),
        WindowPlacement::Positions(k) if k > last_start + 1 => Err(SplitError::InvalidParameter {
            what: "window placement".into(),
            reason: format!(
                "{k} distinct window positions do not fit: only {} start positions exist",
                last_start + 1
            ),
        }),
        WindowPlacement::Positions(k) => Ok((0..k)
            .map(|i| {
                // Integer rounding of i·last_start/(k−1), exact for any size.
                ((i as u128 * last_start as u128 * 2 + (k as u128 - 1)) / (2 * (k as u128 - 1)))
                    as usize
            })
            .collect()),
        WindowPlacement::Stride(stride) => {
            let mut starts: Vec<usize> = (0..=last_start / stride)
                .map(|i| last_start - i * stride)
                .collect();
            starts.reverse();
            Ok(starts)
        }
    }
}
