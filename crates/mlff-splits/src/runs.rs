//! A uniform view of any split as a list of train-and-test runs, for code that trains and
//! scores models without caring which strategy made the split.

use crate::split::{LabelledFrames, Split, SplitIndices};

/// Dataset label used in runs of single-dataset strategies.
pub const SINGLE_DATASET: &str = "";

/// One model to train and score: its training, validation and test frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRun {
    /// Run name, e.g. `window 2 [44500, 45500)`, `n_train = 1000`, `aspirin -> ethanol`.
    pub name: String,
    /// Training frames per dataset (label [`SINGLE_DATASET`] for single-dataset strategies).
    pub train: Vec<LabelledFrames>,
    /// Validation frames per dataset.
    pub validation: Vec<LabelledFrames>,
    /// Test frames.
    pub test: LabelledFrames,
}

fn single(frames: &[usize]) -> LabelledFrames {
    LabelledFrames {
        dataset: SINGLE_DATASET.to_string(),
        frames: frames.to_vec(),
    }
}

impl Split {
    /// Every run the split defines: one for single splits, one per window, per learning-curve
    /// size or per cross-dataset task.
    pub fn runs(&self) -> Vec<SplitRun> {
        match &self.indices {
            SplitIndices::Single(s) => vec![SplitRun {
                name: self.request.strategy.name().to_string(),
                train: vec![single(&s.train)],
                validation: vec![single(&s.validation)],
                test: single(&s.test),
            }],
            SplitIndices::Windows { test, windows, .. } => windows
                .iter()
                .enumerate()
                .map(|(k, w)| SplitRun {
                    name: format!("window {k} [{}, {})", w.start, w.end),
                    train: vec![single(&w.train)],
                    validation: vec![single(&w.validation)],
                    test: single(test),
                })
                .collect(),
            SplitIndices::Nested {
                validation,
                test,
                subsets,
            } => subsets
                .iter()
                .map(|s| SplitRun {
                    name: format!("n_train = {}", s.size),
                    train: vec![single(&s.train)],
                    validation: vec![single(validation)],
                    test: single(test),
                })
                .collect(),
            SplitIndices::Cross { tasks } => tasks
                .iter()
                .map(|t| SplitRun {
                    name: t.name.clone(),
                    train: t.train.clone(),
                    validation: t.validation.clone(),
                    test: t.test.clone(),
                })
                .collect(),
        }
    }
}
