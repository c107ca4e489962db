//! Reproducible train/validation/test splits for benchmarking machine-learning force fields on
//! molecular-dynamics data.
//!
//! A [`SplitRequest`] names a [`Strategy`] with its parameters, an optional [`Validation`] rule
//! and a seed; [`SplitRequest::generate`] turns it into a [`Split`], a serde value holding both
//! the request and the resulting index lists. [`Split::verify`] regenerates the indices from the
//! request and checks they are identical, so a `split.json` is its own proof of provenance.
//!
//! Strategies work on frame counts only (no dependency on a dataset crate); time-based
//! strategies take a [`TimeOrder`], descriptor-based ones any [`Descriptors`] implementation.
//!
//! ```
//! use mlff_splits::{RandomParams, Size, SplitRequest, Strategy, Validation, ValidationPlacement};
//!
//! let request = SplitRequest::new(
//!     Strategy::Random(RandomParams { n_frames: 10_000, test: Size::Count(1000), train: Some(Size::Count(1000)) }),
//!     42,
//! )
//! .with_validation(Validation { size: Size::Count(50), placement: ValidationPlacement::Random });
//! let split = request.generate()?;
//! split.verify()?;
//! # Ok::<(), mlff_splits::SplitError>(())
//! ```

mod clusters;
mod cross_dataset;
mod descriptor;
mod error;
mod farthest_point;
mod learning_curve;
mod random;
mod rmd17;
mod runs;
mod sampling;
mod size;
mod split;
mod strategy;
mod temporal;
mod time_order;
mod validation;

pub use clusters::{ClusterHoldoutParams, kmeans};
pub use cross_dataset::{CrossDatasetParams, CrossPlan, DatasetFrames};
pub use descriptor::{DescriptorRows, Descriptors, fingerprint};
pub use error::{Result, SplitError};
pub use farthest_point::{FarthestPointParams, SelectedRole, farthest_point_order};
pub use learning_curve::{LearningCurveParams, LearningPool};
pub use random::RandomParams;
pub use rmd17::{Rmd17Params, parse_index_text, read_index_file, rmd17_index_paths};
pub use runs::{SINGLE_DATASET, SplitRun};
pub use size::Size;
pub use split::{
    CrossTask, FrameSplit, LabelledFrames, NestedSubset, SPLIT_FORMAT, Split, SplitIndices,
    TrainingWindow,
};
pub use strategy::{SplitRequest, Strategy};
pub use temporal::{
    DEFAULT_TEST_FRACTION, SlidingWindowParams, TimeHoldoutParams, TimeTestSegment, WindowPlacement,
};
pub use time_order::TimeOrder;
pub use validation::{Validation, ValidationPlacement};
