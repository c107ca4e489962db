//! Nested training sets of increasing size for learning curves (sample efficiency).

use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};
use crate::sampling::{draw_sorted, partial_shuffle, rng_for, stream};
use crate::size::{Size, check_count};
use crate::split::{NestedSubset, SplitIndices};
use crate::temporal::TimeTestSegment;
use crate::validation::{Validation, carve};

/// Where the training subsets come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LearningPool {
    /// Test set drawn at random; subsets are prefixes of one random permutation of the rest.
    Random {
        /// Test set size (a fraction is of all frames).
        test: Size,
    },
    /// Test set is the end of the trajectory; subset k is the `n_k` latest frames before it
    /// (after the gap and any validation frames), so every subset ends at the same distance
    /// from the test segment and only the amount of data changes.
    Contiguous {
        /// Test segment and gap.
        #[serde(flatten)]
        segment: TimeTestSegment,
    },
}

/// Parameters of a learning-curve split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearningCurveParams {
    /// Frames in the dataset (for a contiguous pool, must equal the time order's frame count).
    pub n_frames: usize,
    /// Training-set sizes, strictly increasing.
    pub sizes: Vec<usize>,
    /// Where the subsets come from.
    pub pool: LearningPool,
}

impl LearningCurveParams {
    pub(crate) fn generate(
        &self,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<SplitIndices> {
        self.check_sizes()?;
        let (test, pool, time_ordered) = self.test_and_pool(seed)?;
        // One validation set for all subsets, so the subsets stay nested.
        let (pool, validation) = carve_in_order(validation, pool, time_ordered, seed)?;
        let largest = *self.sizes.last().unwrap_or(&0);
        check_count("largest learning-curve size", largest, pool.len())?;
        let ordered = if time_ordered {
            // Latest frames first, so prefixes are the frames nearest the test segment.
            pool.into_iter().rev().collect()
        } else {
            let mut pool = pool;
            partial_shuffle(&mut pool, largest, &mut rng_for(seed, stream::POOL));
            pool
        };
        let subsets = self
            .sizes
            .iter()
            .map(|&size| {
                let mut train = ordered[..size].to_vec();
                train.sort_unstable();
                NestedSubset { size, train }
            })
            .collect();
        Ok(SplitIndices::Nested {
            validation,
            test,
            subsets,
        })
    }

    fn check_sizes(&self) -> Result<()> {
        if self.sizes.is_empty() {
            return Err(SplitError::InvalidParameter {
                what: "learning-curve sizes".into(),
                reason: "at least one size is needed".into(),
            });
        }
        check_count("smallest learning-curve size", self.sizes[0], usize::MAX)?;
        match self.sizes.windows(2).position(|w| w[1] <= w[0]) {
            Some(i) => Err(SplitError::SizesNotIncreasing {
                position: i + 1,
                previous: self.sizes[i],
                next: self.sizes[i + 1],
            }),
            None => Ok(()),
        }
    }

    /// (sorted test frames, pool frames, whether the pool is in time order).
    fn test_and_pool(&self, seed: u64) -> Result<(Vec<usize>, Vec<usize>, bool)> {
        if self.n_frames == 0 {
            return Err(SplitError::EmptyDataset {
                what: "learning curve".into(),
            });
        }
        match &self.pool {
            LearningPool::Random { test } => {
                let n_test = test.resolve("test set", self.n_frames)?;
                let (test, pool) = draw_sorted(
                    (0..self.n_frames).collect(),
                    n_test,
                    &mut rng_for(seed, stream::TEST),
                );
                Ok((test, pool, false))
            }
            LearningPool::Contiguous { segment } => {
                let resolved = segment.resolve("learning_curve (contiguous pool)")?;
                if resolved.time.n_frames != self.n_frames {
                    return Err(SplitError::InvalidTimeOrder {
                        reason: format!(
                            "time order covers {} frames but the dataset has {}",
                            resolved.time.n_frames, self.n_frames
                        ),
                    });
                }
                let mut test = resolved.time.frames_in(resolved.test_start..self.n_frames);
                test.sort_unstable();
                Ok((test, resolved.time.frames_in(0..resolved.pool_end), true))
            }
        }
    }
}

/// Carves validation frames from the pool, returning the remaining pool in its original order.
fn carve_in_order(
    validation: Option<&Validation>,
    pool: Vec<usize>,
    time_ordered: bool,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if validation.is_none() {
        return Ok((pool, Vec::new()));
    }
    let (_, validation) = carve(
        validation,
        pool.clone(),
        time_ordered,
        "learning-curve pool",
        &mut rng_for(seed, stream::VALIDATION),
    )?;
    let mut is_validation = vec![false; pool.iter().max().map_or(0, |&m| m + 1)];
    validation.iter().for_each(|&f| is_validation[f] = true);
    let rest = pool.into_iter().filter(|&f| !is_validation[f]).collect();
    Ok((rest, validation))
}
