//! A split: its description (strategy, parameters, seed) and the index lists it produced.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptors;
use crate::error::{Result, SplitError};
use crate::strategy::SplitRequest;

/// Format tag written into every split document.
pub const SPLIT_FORMAT: &str = "mlffbench-split/1";

/// Train, validation and test frame indices of one dataset (each sorted ascending).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameSplit {
    /// Training frames.
    pub train: Vec<usize>,
    /// Validation frames (carved from the training side; may be empty).
    pub validation: Vec<usize>,
    /// Test frames.
    pub test: Vec<usize>,
}

/// One contiguous training window of a sliding-window split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingWindow {
    /// First time position of the window.
    pub start: usize,
    /// One past the last time position of the window.
    pub end: usize,
    /// Frames strictly between the window's last frame and the first test frame.
    pub frames_to_test: usize,
    /// MD steps from the window's last frame to the first test frame.
    pub md_steps_to_test: u64,
    /// `md_steps_to_test` in femtoseconds, when the time step is known.
    pub time_to_test_fs: Option<f64>,
    /// Training frames of the window (dataset indices, sorted).
    pub train: Vec<usize>,
    /// Validation frames carved from the window (sorted).
    pub validation: Vec<usize>,
}

/// One training set of a learning curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NestedSubset {
    /// Number of training frames.
    pub size: usize,
    /// Training frames (sorted); contains every smaller subset's frames.
    pub train: Vec<usize>,
}

/// Frames of one named dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledFrames {
    /// Dataset label.
    pub dataset: String,
    /// Frame indices within that dataset (sorted).
    pub frames: Vec<usize>,
}

/// One train-on-these / test-on-that task of a cross-dataset split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossTask {
    /// Human-readable task name, e.g. `aspirin -> salicylic`.
    pub name: String,
    /// Training frames per training dataset.
    pub train: Vec<LabelledFrames>,
    /// Validation frames per training dataset.
    pub validation: Vec<LabelledFrames>,
    /// Test frames of the held-out dataset.
    pub test: LabelledFrames,
}

/// The index lists a strategy produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SplitIndices {
    /// One train / validation / test split.
    Single(FrameSplit),
    /// Several training windows sharing one test set.
    Windows {
        /// First time position of the test segment.
        test_start: usize,
        /// Test frames (sorted).
        test: Vec<usize>,
        /// Training windows in time order.
        windows: Vec<TrainingWindow>,
    },
    /// Nested training sets sharing one validation and one test set.
    Nested {
        /// Validation frames (sorted), disjoint from every subset.
        validation: Vec<usize>,
        /// Test frames (sorted).
        test: Vec<usize>,
        /// Training sets by increasing size.
        subsets: Vec<NestedSubset>,
    },
    /// Train-on-some-datasets, test-on-another tasks.
    Cross {
        /// The tasks.
        tasks: Vec<CrossTask>,
    },
}

/// A complete, self-describing split: what was asked for and what it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Always [`SPLIT_FORMAT`].
    pub format: String,
    /// Strategy, parameters, validation and seed: enough to regenerate `indices`.
    pub request: SplitRequest,
    /// The resulting index lists.
    pub indices: SplitIndices,
}

impl Split {
    /// Recomputes the split from its description (strategies that need no descriptors).
    pub fn regenerate(&self) -> Result<Split> {
        self.request.generate()
    }

    /// Recomputes a split of any strategy, with the descriptors it was made from.
    pub fn regenerate_with_descriptors(&self, descriptors: &dyn Descriptors) -> Result<Split> {
        self.request.generate_with_descriptors(descriptors)
    }

    /// Checks that the stored indices are exactly those the description produces.
    pub fn verify(&self) -> Result<()> {
        self.compare(&self.regenerate()?)
    }

    /// [`Split::verify`] for descriptor-based strategies.
    pub fn verify_with_descriptors(&self, descriptors: &dyn Descriptors) -> Result<()> {
        self.compare(&self.regenerate_with_descriptors(descriptors)?)
    }

    fn compare(&self, fresh: &Split) -> Result<()> {
        if self.format != SPLIT_FORMAT {
            return Err(SplitError::Mismatch {
                what: format!("format `{}` (expected `{SPLIT_FORMAT}`)", self.format),
            });
        }
        first_difference(&self.indices, &fresh.indices)
            .map_or(Ok(()), |what| Err(SplitError::Mismatch { what }))
    }

    /// Pretty JSON text of the split.
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(self)?)
    }

    /// Parses a split from JSON text.
    pub fn from_json(text: &str) -> Result<Split> {
        Ok(serde_json::from_str(text)?)
    }

    /// Writes the split as pretty JSON to `path`.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()?).map_err(|source| SplitError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a split from a JSON file.
    pub fn read_json(path: &Path) -> Result<Split> {
        let text = std::fs::read_to_string(path).map_err(|source| SplitError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Split::from_json(&text)
    }

    /// A few human-readable lines: strategy, seed and set sizes (for `split show`).
    pub fn summary(&self) -> String {
        let mut out = format!(
            "strategy: {}\nseed: {}\n",
            self.request.strategy.name(),
            self.request.seed
        );
        // Writing to a String cannot fail.
        let _ = match &self.indices {
            SplitIndices::Single(s) => writeln!(
                out,
                "train: {}  validation: {}  test: {}",
                s.train.len(),
                s.validation.len(),
                s.test.len()
            ),
            SplitIndices::Windows { test, windows, .. } => {
                let _ = writeln!(out, "test: {} frames", test.len());
                windows.iter().try_for_each(|w| {
                    let time = w
                        .time_to_test_fs
                        .map(|fs| format!(", {fs} fs"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "window [{}, {}): train {}  validation {}  to test: {} frames, {} MD steps{time}",
                        w.start,
                        w.end,
                        w.train.len(),
                        w.validation.len(),
                        w.frames_to_test,
                        w.md_steps_to_test
                    )
                })
            }
            SplitIndices::Nested {
                validation,
                test,
                subsets,
            } => {
                let sizes: Vec<String> = subsets.iter().map(|s| s.size.to_string()).collect();
                writeln!(
                    out,
                    "training sizes: {}  validation: {}  test: {}",
                    sizes.join(" < "),
                    validation.len(),
                    test.len()
                )
            }
            SplitIndices::Cross { tasks } => tasks.iter().try_for_each(|t| {
                let count =
                    |sets: &[LabelledFrames]| sets.iter().map(|s| s.frames.len()).sum::<usize>();
                writeln!(
                    out,
                    "{}: train {}  validation {}  test {}",
                    t.name,
                    count(&t.train),
                    count(&t.validation),
                    t.test.frames.len()
                )
            }),
        };
        out
    }
}

/// Name of the first part of `stored` that differs from `fresh`, if any.
fn first_difference(stored: &SplitIndices, fresh: &SplitIndices) -> Option<String> {
    use SplitIndices as S;
    let lists = |name: &str, a: &Vec<usize>, b: &Vec<usize>| (a != b).then(|| name.to_string());
    match (stored, fresh) {
        (S::Single(a), S::Single(b)) => lists("train", &a.train, &b.train)
            .or_else(|| lists("validation", &a.validation, &b.validation))
            .or_else(|| lists("test", &a.test, &b.test)),
        (
            S::Windows {
                test: ta,
                windows: wa,
                ..
            },
            S::Windows {
                test: tb,
                windows: wb,
                ..
            },
        ) => lists("test", ta, tb).or_else(|| {
            if wa.len() != wb.len() {
                return Some("number of windows".into());
            }
            wa.iter()
                .zip(wb)
                .position(|(a, b)| a != b)
                .map(|i| format!("window {i}"))
        }),
        (
            S::Nested {
                validation: va,
                test: ta,
                subsets: sa,
            },
            S::Nested {
                validation: vb,
                test: tb,
                subsets: sb,
            },
        ) => lists("test", ta, tb)
            .or_else(|| lists("validation", va, vb))
            .or_else(|| (sa != sb).then(|| "learning-curve subsets".into())),
        (S::Cross { tasks: a }, S::Cross { tasks: b }) => {
            if a.len() != b.len() {
                return Some("number of tasks".into());
            }
            a.iter()
                .zip(b)
                .find(|(x, y)| x != y)
                .map(|(x, _)| format!("task `{}`", x.name))
        }
        _ => Some("kind of index lists".into()),
    }
}
