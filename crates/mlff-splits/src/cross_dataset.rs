//! Cross-dataset splits: train on one molecule (or a union), test on another.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};
use crate::sampling::{draw, rng_for, stream};
use crate::split::{CrossTask, LabelledFrames, SplitIndices};
use crate::validation::{Validation, carve};

/// A dataset taking part in a cross-dataset split, named by a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFrames {
    /// Label, e.g. the molecule name.
    pub label: String,
    /// Frames in the dataset.
    pub n_frames: usize,
}

/// Which train/test tasks to build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossPlan {
    /// Every ordered pair (train on A, test on B), A ≠ B.
    AllPairs,
    /// One task: train on the union of `train`, test on `test`.
    Union {
        /// Training dataset labels.
        train: Vec<String>,
        /// Test dataset label.
        test: String,
    },
    /// For each dataset: train on all the others, test on it.
    LeaveOneOut,
}

/// Parameters of a cross-dataset split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossDatasetParams {
    /// The datasets, with unique labels.
    pub datasets: Vec<DatasetFrames>,
    /// Which tasks.
    pub plan: CrossPlan,
    /// Training frames drawn from each training dataset (validation included); all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_per_dataset: Option<usize>,
    /// Test frames drawn from the test dataset; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_per_dataset: Option<usize>,
}

impl CrossDatasetParams {
    pub(crate) fn generate(
        &self,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<SplitIndices> {
        self.check_datasets()?;
        // A dataset's training (and test) frames are the same in every task that uses it,
        // so tasks differ only in which datasets they combine.
        let plan = self.task_plan()?;
        let mut used_for_training = vec![false; self.datasets.len()];
        let mut used_for_test = vec![false; self.datasets.len()];
        for (train, test) in &plan {
            train.iter().for_each(|&d| used_for_training[d] = true);
            used_for_test[*test] = true;
        }
        let train_draws = self.draws(
            self.train_per_dataset,
            "training frames",
            seed,
            0,
            &used_for_training,
        )?;
        let test_draws = self.draws(
            self.test_per_dataset,
            "test frames",
            seed,
            1,
            &used_for_test,
        )?;
        let tasks = plan
            .into_iter()
            .enumerate()
            .map(|(t, (train, test))| {
                let mut rng = rng_for(seed, stream::TASK_BASE * 2 + t as u64);
                self.task(
                    &train,
                    test,
                    &train_draws,
                    &test_draws,
                    validation,
                    &mut rng,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SplitIndices::Cross { tasks })
    }

    fn check_datasets(&self) -> Result<()> {
        for (i, d) in self.datasets.iter().enumerate() {
            if d.n_frames == 0 {
                return Err(SplitError::EmptyDataset {
                    what: format!("dataset `{}`", d.label),
                });
            }
            if self.datasets[..i].iter().any(|e| e.label == d.label) {
                return Err(SplitError::DuplicateDataset {
                    label: d.label.clone(),
                });
            }
        }
        if self.datasets.len() < 2 {
            return Err(SplitError::InvalidParameter {
                what: "cross-dataset split".into(),
                reason: format!("needs at least 2 datasets, got {}", self.datasets.len()),
            });
        }
        Ok(())
    }

    fn position(&self, label: &str) -> Result<usize> {
        self.datasets
            .iter()
            .position(|d| d.label == label)
            .ok_or_else(|| SplitError::UnknownDataset {
                label: label.into(),
                known: self
                    .datasets
                    .iter()
                    .map(|d| d.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// (training dataset positions, test dataset position) per task.
    fn task_plan(&self) -> Result<Vec<(Vec<usize>, usize)>> {
        let n = self.datasets.len();
        match &self.plan {
            CrossPlan::AllPairs => Ok((0..n)
                .flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (vec![a], b)))
                .collect()),
            CrossPlan::LeaveOneOut => Ok((0..n)
                .map(|held| ((0..n).filter(|&d| d != held).collect(), held))
                .collect()),
            CrossPlan::Union { train, test } => {
                let test = self.position(test)?;
                let mut members = Vec::with_capacity(train.len());
                for label in train {
                    let d = self.position(label)?;
                    if d == test || members.contains(&d) {
                        return Err(SplitError::InvalidParameter {
                            what: "union training datasets".into(),
                            reason: format!("`{label}` is repeated or is also the test dataset"),
                        });
                    }
                    members.push(d);
                }
                if members.is_empty() {
                    return Err(SplitError::InvalidParameter {
                        what: "union training datasets".into(),
                        reason: "at least one training dataset is needed".into(),
                    });
                }
                Ok(vec![(members, test)])
            }
        }
    }

    /// The frames drawn from each dataset in the role (all frames when `per_dataset` is
    /// absent); empty for datasets not `used` in that role.
    fn draws(
        &self,
        per_dataset: Option<usize>,
        what: &str,
        seed: u64,
        role: u64,
        used: &[bool],
    ) -> Result<Vec<Vec<usize>>> {
        self.datasets
            .iter()
            .enumerate()
            .map(|(d, dataset)| {
                if !used[d] {
                    return Ok(Vec::new());
                }
                let all: Vec<usize> = (0..dataset.n_frames).collect();
                let Some(k) = per_dataset else {
                    return Ok(all);
                };
                crate::size::check_count(
                    &format!("{what} of `{}`", dataset.label),
                    k,
                    dataset.n_frames,
                )?;
                let mut rng = rng_for(seed, stream::TASK_BASE + 2 * d as u64 + role);
                Ok(draw(all, k, &mut rng))
            })
            .collect()
    }

    fn task(
        &self,
        train: &[usize],
        test: usize,
        train_draws: &[Vec<usize>],
        test_draws: &[Vec<usize>],
        validation: Option<&Validation>,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> Result<CrossTask> {
        let labels: Vec<&str> = train
            .iter()
            .map(|&d| self.datasets[d].label.as_str())
            .collect();
        let name = format!("{} -> {}", labels.join(" + "), self.datasets[test].label);
        // Pool all training frames, tagged by dataset, so validation is drawn across them.
        let offsets: Vec<usize> = train
            .iter()
            .scan(0, |acc, &d| {
                let start = *acc;
                *acc += train_draws[d].len();
                Some(start)
            })
            .collect();
        let total: usize = train.iter().map(|&d| train_draws[d].len()).sum();
        let pooled: Vec<usize> = (0..total).collect();
        let (kept, held) = carve(validation, pooled, false, &format!("task `{name}`"), rng)?;
        let unpool = |positions: &[usize]| -> Vec<LabelledFrames> {
            train
                .iter()
                .zip(&offsets)
                .map(|(&d, &offset)| LabelledFrames {
                    dataset: self.datasets[d].label.clone(),
                    frames: positions
                        .iter()
                        .filter(|&&p| p >= offset && p < offset + train_draws[d].len())
                        .map(|&p| train_draws[d][p - offset])
                        .collect(),
                })
                .collect()
        };
        Ok(CrossTask {
            name,
            train: unpool(&kept),
            validation: unpool(&held),
            test: LabelledFrames {
                dataset: self.datasets[test].label.clone(),
                frames: test_draws[test].clone(),
            },
        })
    }
}
