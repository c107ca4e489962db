//! The grid: every experiment as a list of independent cells, each named by a stable id.

use serde::{Deserialize, Serialize};

use crate::preset::Plan;

/// The experiments of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExperimentKey {
    /// 1: error against training-set size (i.i.d. and time-holdout tests).
    SampleEfficiency,
    /// 2: training windows at several distances from the test segment.
    TimeDomain,
    /// 3: train on some molecules, test on others.
    CrossDataset,
    /// 4: SOAP similarity of test to training frames against error (measured in cells of 1–3).
    SoapSimilarity,
    /// 5: MD stability of every single-molecule model (measured in cells of 1–2).
    MdStability,
}

impl ExperimentKey {
    /// Every experiment, in report order.
    pub const ALL: [ExperimentKey; 5] = [
        ExperimentKey::SampleEfficiency,
        ExperimentKey::TimeDomain,
        ExperimentKey::CrossDataset,
        ExperimentKey::SoapSimilarity,
        ExperimentKey::MdStability,
    ];

    /// Short key (`e1` … `e5`), used in cell ids and `--only`.
    pub fn key(self) -> &'static str {
        match self {
            ExperimentKey::SampleEfficiency => "e1",
            ExperimentKey::TimeDomain => "e2",
            ExperimentKey::CrossDataset => "e3",
            ExperimentKey::SoapSimilarity => "e4",
            ExperimentKey::MdStability => "e5",
        }
    }

    /// Title in the report.
    pub fn title(self) -> &'static str {
        match self {
            ExperimentKey::SampleEfficiency => "Experiment 1 — sample efficiency",
            ExperimentKey::TimeDomain => "Experiment 2 — time-domain sensitivity",
            ExperimentKey::CrossDataset => "Experiment 3 — cross-dataset generalisation",
            ExperimentKey::SoapSimilarity => "Experiment 4 — SOAP similarity and error",
            ExperimentKey::MdStability => "Experiment 5 — MD stability",
        }
    }

    /// Whether a cell of this (training) experiment carries the measurements of `other`.
    pub fn measures(self, other: ExperimentKey) -> bool {
        self == other
            || match other {
                ExperimentKey::SoapSimilarity => self != ExperimentKey::MdStability,
                ExperimentKey::MdStability => {
                    matches!(
                        self,
                        ExperimentKey::SampleEfficiency | ExperimentKey::TimeDomain
                    )
                }
                _ => false,
            }
    }
}

/// What one cell trains and tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CellSpec {
    /// Experiment 1: `size` random frames before the holdout.
    Sample {
        /// Molecule.
        molecule: String,
        /// Training frames.
        size: usize,
        /// Seed.
        seed: u64,
    },
    /// Experiment 2: training window number `index` (0 = earliest).
    Window {
        /// Molecule.
        molecule: String,
        /// Window position.
        index: usize,
        /// Seed.
        seed: u64,
    },
    /// Experiment 2's contrast: a random training set of the window's size.
    WindowIid {
        /// Molecule.
        molecule: String,
        /// Seed.
        seed: u64,
    },
    /// Experiment 3: train on the union of `train`, test on each of `tests`.
    Cross {
        /// Training molecules.
        train: Vec<String>,
        /// Test molecules.
        tests: Vec<String>,
        /// Seed.
        seed: u64,
    },
}

impl CellSpec {
    /// The experiment the cell belongs to.
    pub fn experiment(&self) -> ExperimentKey {
        match self {
            CellSpec::Sample { .. } => ExperimentKey::SampleEfficiency,
            CellSpec::Window { .. } | CellSpec::WindowIid { .. } => ExperimentKey::TimeDomain,
            CellSpec::Cross { .. } => ExperimentKey::CrossDataset,
        }
    }

    /// Stable id, e.g. `e1-aspirin-n200-s0`, `e3-aspirin+benzene-to-salicylic_acid-s0`.
    pub fn id(&self) -> String {
        let key = self.experiment().key();
        match self {
            CellSpec::Sample {
                molecule,
                size,
                seed,
            } => format!("{key}-{molecule}-n{size}-s{seed}"),
            CellSpec::Window {
                molecule,
                index,
                seed,
            } => format!("{key}-{molecule}-w{index}-s{seed}"),
            CellSpec::WindowIid { molecule, seed } => format!("{key}-{molecule}-iid-s{seed}"),
            CellSpec::Cross { train, tests, seed } if train.len() == 1 => {
                let _ = tests;
                format!("{key}-{}-s{seed}", train[0])
            }
            CellSpec::Cross { train, tests, seed } => {
                format!("{key}-{}-to-{}-s{seed}", train.join("+"), tests.join("+"))
            }
        }
    }

    /// The molecules it reads.
    pub fn molecules(&self) -> Vec<String> {
        match self {
            CellSpec::Sample { molecule, .. }
            | CellSpec::Window { molecule, .. }
            | CellSpec::WindowIid { molecule, .. } => vec![molecule.clone()],
            CellSpec::Cross { train, tests, .. } => {
                let mut all: Vec<String> = train.iter().chain(tests).cloned().collect();
                all.sort();
                all.dedup();
                all
            }
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        match self {
            CellSpec::Sample { seed, .. }
            | CellSpec::Window { seed, .. }
            | CellSpec::WindowIid { seed, .. }
            | CellSpec::Cross { seed, .. } => *seed,
        }
    }
}

/// Every cell of a plan, experiments 1–3 in order.
pub fn build(plan: &Plan) -> Vec<CellSpec> {
    crate::experiment::all()
        .iter()
        .flat_map(|e| e.cells(plan))
        .collect()
}

/// The cells `--only` selects: each filter is an experiment key (`e1` … `e5`; `e4` and `e5`
/// select the cells that measure them) or a prefix of cell ids.
pub fn filter(cells: Vec<CellSpec>, only: &[String]) -> Vec<CellSpec> {
    if only.is_empty() {
        return cells;
    }
    cells
        .into_iter()
        .filter(|cell| {
            let id = cell.id();
            only.iter().any(|f| {
                let by_experiment = ExperimentKey::ALL
                    .iter()
                    .any(|e| e.key() == f && cell.experiment().measures(*e));
                by_experiment || id.starts_with(f.as_str())
            })
        })
        .collect()
}
