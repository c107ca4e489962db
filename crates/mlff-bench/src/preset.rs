//! Presets: the grid sizes and measurement settings of a run (`quick` for a 2-core CPU,
//! `paper` for the study's full scale), overridable from the command line.

use serde::{Deserialize, Serialize};

/// A named set of experiment settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// One molecule per experiment, sizes 10–100, five windows, three seeds, models trained to
    /// convergence, short MD: about ten minutes on 2 cores.
    Quick,
    /// All ten molecules, sizes up to 50,000 (capped by the data), three seeds, 300 ps MD.
    Paper,
}

/// Experiment 1: error against training-set size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePlan {
    /// Molecules.
    pub molecules: Vec<String>,
    /// Training-set sizes (validation frames come on top).
    pub sizes: Vec<usize>,
    /// Frames of the i.i.d. test set, drawn from the pre-holdout part of the trajectory.
    pub iid_test: usize,
}

/// Experiment 2: training windows at several distances from the test segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimePlan {
    /// Molecules.
    pub molecules: Vec<String>,
    /// Frames per window (training frames; validation frames are carved on top).
    pub window: usize,
    /// Number of window positions, evenly spaced from the start to the test segment.
    pub positions: usize,
}

/// Experiment 3: train on some molecules, test on others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossPlan {
    /// Molecules of the train-on-A/test-on-B matrix.
    pub molecules: Vec<String>,
    /// Training frames per training molecule.
    pub train_frames: usize,
    /// Test frames per test molecule.
    pub test_frames: usize,
    /// Molecule tested by the growing union of training molecules.
    pub ladder_target: String,
    /// Training molecules added one at a time (the first one alone is a matrix cell).
    pub ladder: Vec<String>,
}

/// Experiment 4 settings: SOAP similarity of test to training frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoapPlan {
    /// Cutoff, Å.
    pub r_cut: f64,
    /// Radial functions.
    pub n_max: usize,
    /// Angular degree.
    pub l_max: usize,
    /// Gaussian width, Å.
    pub sigma: f64,
    /// At most this many training frames (evenly spaced) enter the similarity.
    pub max_train_frames: usize,
}

/// Experiment 5 settings: MD stability with every single-molecule model. Each run holds
/// Langevin MD at `temperature_k` for `steps` steps (Fu et al.'s fixed-temperature run: survival
/// time and h(r)), then heats at `heating_rate_k_per_ps` up to `max_temperature_k` (the
/// collapse temperature), and runs `nve_steps` of NVE from the state at the end of the hold
/// (energy drift).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdPlan {
    /// Runs per model, started from evenly spaced time-holdout test frames.
    pub runs: usize,
    /// Steps held at `temperature_k` before the heating (at most; a run stops at its collapse).
    pub steps: usize,
    /// Steps between collapse checks, h(r) frames and NVE energy samples.
    pub save_every: usize,
    /// Time step, fs.
    pub dt_fs: f64,
    /// Langevin temperature of the hold (and start of the ramp), K.
    pub temperature_k: f64,
    /// Langevin friction, 1/fs.
    pub friction_per_fs: f64,
    /// Heating rate after the hold, K/ps (0, as in plans from before the ramp: no heating).
    #[serde(default)]
    pub heating_rate_k_per_ps: f64,
    /// Highest target temperature of the ramp, K.
    #[serde(default)]
    pub max_temperature_k: f64,
    /// NVE steps from the state at the end of the hold (0: no drift measurement).
    #[serde(default)]
    pub nve_steps: usize,
}

/// Everything that defines a run's grid and measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The preset it came from.
    pub preset: Preset,
    /// Seeds of every cell.
    pub seeds: Vec<u64>,
    /// Fraction at the end of each trajectory held out as the time test set.
    pub test_fraction: f64,
    /// Validation frames as a fraction of the training frames (at least 5).
    pub validation_fraction: f64,
    /// Experiment 1.
    pub sample: SamplePlan,
    /// Experiment 2.
    pub time: TimePlan,
    /// Experiment 3.
    pub cross: CrossPlan,
    /// Experiment 4.
    pub soap: SoapPlan,
    /// Experiment 5.
    pub md: MdPlan,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Preset {
    /// The preset's plan.
    pub fn plan(self) -> Plan {
        match self {
            Preset::Quick => Plan {
                preset: self,
                seeds: vec![0, 1, 2],
                test_fraction: 0.1,
                validation_fraction: 0.1,
                sample: SamplePlan {
                    molecules: names(&["aspirin"]),
                    sizes: vec![10, 20, 50, 100],
                    iid_test: 200,
                },
                time: TimePlan {
                    molecules: names(&["aspirin"]),
                    window: 50,
                    positions: 5,
                },
                cross: CrossPlan {
                    molecules: names(&["aspirin", "salicylic_acid"]),
                    train_frames: 100,
                    test_frames: 200,
                    ladder_target: "salicylic_acid".into(),
                    ladder: names(&["aspirin", "benzene"]),
                },
                soap: SoapPlan {
                    r_cut: 5.0,
                    n_max: 4,
                    l_max: 4,
                    sigma: 0.5,
                    max_train_frames: 200,
                },
                // ≈ 1400 NequIP steps per model (2 × (100 hold + 300 ramp + 300 NVE)): about
                // 4.8 s at the measured 3.4 ms per aspirin step on one core.
                md: MdPlan {
                    runs: 3,
                    steps: 100,
                    save_every: 10,
                    dt_fs: 0.5,
                    temperature_k: 500.0,
                    friction_per_fs: 0.05,
                    heating_rate_k_per_ps: 20_000.0,
                    max_temperature_k: 5000.0,
                    nve_steps: 1000,
                },
            },
            Preset::Paper => Plan {
                preset: self,
                seeds: vec![0, 1, 2],
                test_fraction: 0.1,
                validation_fraction: 0.05,
                sample: SamplePlan {
                    molecules: names(&mlff_md::BUILTIN_MOLECULES),
                    sizes: vec![200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000],
                    iid_test: 1000,
                },
                time: TimePlan {
                    molecules: names(&mlff_md::BUILTIN_MOLECULES),
                    window: 1000,
                    positions: 8,
                },
                cross: CrossPlan {
                    molecules: names(&mlff_md::BUILTIN_MOLECULES),
                    train_frames: 1000,
                    test_frames: 1000,
                    ladder_target: "salicylic_acid".into(),
                    ladder: names(&[
                        "aspirin",
                        "benzene",
                        "toluene",
                        "naphthalene",
                        "malonaldehyde",
                    ]),
                },
                soap: SoapPlan {
                    r_cut: 5.0,
                    n_max: 8,
                    l_max: 6,
                    sigma: 0.5,
                    max_train_frames: 2000,
                },
                md: MdPlan {
                    runs: 5,
                    steps: 600_000,
                    save_every: 20,
                    dt_fs: 0.5,
                    temperature_k: 500.0,
                    friction_per_fs: 0.01,
                    heating_rate_k_per_ps: 100.0,
                    max_temperature_k: 3000.0,
                    nve_steps: 200_000,
                },
            },
        }
    }
}

impl Plan {
    /// Validation frames carved from `train` training frames.
    pub fn validation_frames(&self, train: usize) -> usize {
        ((train as f64 * self.validation_fraction).round() as usize).max(5)
    }
}
