//! Split requests: a strategy with its parameters, a validation rule and a seed.

use serde::{Deserialize, Serialize};

use crate::clusters::ClusterHoldoutParams;
use crate::cross_dataset::CrossDatasetParams;
use crate::descriptor::Descriptors;
use crate::error::{Result, SplitError};
use crate::farthest_point::FarthestPointParams;
use crate::learning_curve::LearningCurveParams;
use crate::random::RandomParams;
use crate::rmd17::Rmd17Params;
use crate::split::{SPLIT_FORMAT, Split, SplitIndices};
use crate::temporal::{SlidingWindowParams, TimeHoldoutParams};
use crate::validation::Validation;

/// A splitting strategy and its parameters (JSON: `"strategy": "<name>"` plus the fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum Strategy {
    /// Conventional i.i.d. random split.
    Random(RandomParams),
    /// One of rMD17's five published train/test index files.
    Rmd17Published(Rmd17Params),
    /// The last fraction of the trajectory is the test set, optionally after a gap.
    TimeHoldout(TimeHoldoutParams),
    /// Contiguous training windows at several positions before one test segment.
    SlidingWindows(SlidingWindowParams),
    /// Nested training sets of increasing size sharing one test set.
    LearningCurve(LearningCurveParams),
    /// Train on some datasets (molecules), test on another.
    CrossDataset(CrossDatasetParams),
    /// Farthest-point sampling in descriptor space.
    FarthestPoint(FarthestPointParams),
    /// Whole k-means clusters of descriptor space held out as the test set.
    ClusterHoldout(ClusterHoldoutParams),
}

impl Strategy {
    /// The strategy's JSON name.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Random(_) => "random",
            Strategy::Rmd17Published(_) => "rmd17_published",
            Strategy::TimeHoldout(_) => "time_holdout",
            Strategy::SlidingWindows(_) => "sliding_windows",
            Strategy::LearningCurve(_) => "learning_curve",
            Strategy::CrossDataset(_) => "cross_dataset",
            Strategy::FarthestPoint(_) => "farthest_point",
            Strategy::ClusterHoldout(_) => "cluster_holdout",
        }
    }

    /// Whether generating this strategy needs a descriptor matrix.
    pub fn needs_descriptors(&self) -> bool {
        matches!(
            self,
            Strategy::FarthestPoint(_) | Strategy::ClusterHoldout(_)
        )
    }
}

/// Everything needed to (re)generate a split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRequest {
    /// Strategy and parameters.
    #[serde(flatten)]
    pub strategy: Strategy,
    /// Validation set carved from each training side; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<Validation>,
    /// Seed of every random choice.
    pub seed: u64,
}

impl SplitRequest {
    /// A request without a validation set.
    pub fn new(strategy: Strategy, seed: u64) -> Self {
        Self {
            strategy,
            validation: None,
            seed,
        }
    }

    /// The same request with a validation set carved from each training side.
    pub fn with_validation(mut self, validation: Validation) -> Self {
        self.validation = Some(validation);
        self
    }

    /// Generates the split (strategies that need no descriptors).
    pub fn generate(&self) -> Result<Split> {
        let validation = self.validation.as_ref();
        let seed = self.seed;
        let indices = match &self.strategy {
            Strategy::Random(p) => p.generate(validation, seed)?,
            Strategy::Rmd17Published(p) => p.generate(validation, seed)?,
            Strategy::TimeHoldout(p) => p.generate(validation, seed)?,
            Strategy::SlidingWindows(p) => p.generate(validation, seed)?,
            Strategy::LearningCurve(p) => p.generate(validation, seed)?,
            Strategy::CrossDataset(p) => p.generate(validation, seed)?,
            Strategy::FarthestPoint(_) | Strategy::ClusterHoldout(_) => {
                return Err(SplitError::NeedsDescriptors {
                    strategy: self.strategy.name().into(),
                });
            }
        };
        Ok(self.wrap(indices))
    }

    /// Generates the split of any strategy; descriptor-based ones use `descriptors`
    /// (others ignore it).
    pub fn generate_with_descriptors(&self, descriptors: &dyn Descriptors) -> Result<Split> {
        let validation = self.validation.as_ref();
        let indices = match &self.strategy {
            Strategy::FarthestPoint(p) => p.generate(descriptors, validation, self.seed)?,
            Strategy::ClusterHoldout(p) => p.generate(descriptors, validation, self.seed)?,
            _ => return self.generate(),
        };
        Ok(self.wrap(indices))
    }

    fn wrap(&self, indices: SplitIndices) -> Split {
        Split {
            format: SPLIT_FORMAT.to_string(),
            request: self.clone(),
            indices,
        }
    }
}
