//! The conventional i.i.d. random split.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};
use crate::sampling::{draw_sorted, rng_for, stream};
use crate::size::Size;
use crate::split::SplitIndices;
use crate::validation::{Validation, single_split};

/// Parameters of a random split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomParams {
    /// Frames in the dataset.
    pub n_frames: usize,
    /// Test set size (a fraction is of all frames).
    pub test: Size,
    /// Training side size, validation included (a fraction is of the non-test frames);
    /// all non-test frames when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<Size>,
}

impl RandomParams {
    /// Produces the index lists.
    pub(crate) fn generate(
        &self,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<SplitIndices> {
        if self.n_frames == 0 {
            return Err(SplitError::EmptyDataset {
                what: "random split".into(),
            });
        }
        let n_test = self.test.resolve("test set", self.n_frames)?;
        if n_test == self.n_frames {
            return Err(SplitError::SizeTooLarge {
                what: "test set (at least one training frame must remain)".into(),
                requested: n_test,
                available: self.n_frames - 1,
            });
        }
        let (test, rest) = draw_sorted(
            (0..self.n_frames).collect(),
            n_test,
            &mut rng_for(seed, stream::TEST),
        );
        single_split(rest, self.train, test, validation, seed, "random split")
    }
}
