//! A uniform view of any split as a list of train-and-test runs, for code that trains and
//! scores models without caring which strategy made the split.

use crate::error::{Result, SplitError};
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

impl SplitRun {
    /// Checks the run against the datasets it will be used with (`n_frames` gives each
    /// label's frame count; `None` for an unknown label): every index in range, no frame twice
    /// in one set, and training, validation and test sets disjoint within each dataset. What
    /// every command that reads a split calls before it trains or scores anything.
    pub fn check(&self, n_frames: &dyn Fn(&str) -> Option<usize>) -> Result<()> {
        let sets: Vec<(&str, &LabelledFrames)> = self
            .train
            .iter()
            .map(|f| ("training", f))
            .chain(self.validation.iter().map(|f| ("validation", f)))
            .chain(std::iter::once(("test", &self.test)))
            .collect();
        let list = |set: &str, f: &LabelledFrames| {
            let label = if f.dataset.is_empty() {
                String::new()
            } else {
                format!(" of `{}`", f.dataset)
            };
            format!("run `{}`, {set} frames{label}", self.name)
        };
        let mut seen: std::collections::BTreeMap<(&str, usize), &str> = Default::default();
        for (set, frames) in &sets {
            let n = n_frames(&frames.dataset).ok_or_else(|| SplitError::UnknownDataset {
                label: frames.dataset.clone(),
                known: "the datasets given".into(),
            })?;
            for (position, &index) in frames.frames.iter().enumerate() {
                if index >= n {
                    return Err(SplitError::IndexOutOfRange {
                        list: list(set, frames),
                        position,
                        index,
                        n_frames: n,
                    });
                }
                if let Some(other) = seen.insert((frames.dataset.as_str(), index), set) {
                    let what = if other == *set {
                        list(set, frames)
                    } else {
                        format!("{} and its {other} frames", list(set, frames))
                    };
                    return Err(SplitError::DuplicateIndex { list: what, index });
                }
            }
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(train: &[usize], val: &[usize], test: &[usize]) -> SplitRun {
        SplitRun {
            name: "r".into(),
            train: vec![single(train)],
            validation: vec![single(val)],
            test: single(test),
        }
    }

    #[test]
    fn check_finds_overlaps_duplicates_and_frames_past_the_data() {
        let n = |_: &str| Some(10);
        assert!(run(&[0, 1], &[2], &[9]).check(&n).is_ok());
        let e = run(&[1, 2, 3], &[3, 4], &[9]).check(&n).unwrap_err();
        assert_eq!(
            e.to_string(),
            "run `r`, validation frames and its training frames: frame 3 appears more than once"
        );
        let e = run(&[1, 1], &[], &[9]).check(&n).unwrap_err();
        assert!(
            e.to_string().contains("frame 1 appears more than once"),
            "{e}"
        );
        let e = run(&[1], &[], &[10]).check(&n).unwrap_err();
        assert!(
            e.to_string()
                .contains("index 10 at position 0 is out of range for 10 frames"),
            "{e}"
        );
    }
}
