//! The study's experiments as a library.
//!
//! A run is a grid of independent *cells* (one training set, one seed) drawn from a [`Plan`]:
//! experiment 1 (sample efficiency), 2 (time-domain sensitivity) and 3 (cross-dataset
//! generalisation) train models; 4 (SOAP similarity against error) and 5 (MD stability) are
//! measured in those cells for every trained model and analysed across them. Each cell's
//! result is a JSON file written atomically, so reruns skip finished cells; the report
//! (`report.md`, `report.html`, figures, CSV) is rebuilt from whatever has finished.
//!
//! Any model takes part through [`ModelFactory`] (train) and [`FittedModel`] (predict, drive
//! MD): the built-in NequIP and pair baseline implement them like anyone else's, and
//! [`external`] implements them for a model in another process — a training command, and a
//! serving command whose calculator answers over the i-PI socket (ASE's `SocketClient`).
//!
//! ```no_run
//! use mlff_bench::{ModelSpec, Preset, RunRequest, run};
//! let request = RunRequest {
//!     name: "quick-baseline".into(),
//!     dir: "results/quick-baseline".into(),
//!     plan: Preset::Quick.plan(),
//!     explicit_sizes: false,
//!     model: ModelSpec::Baseline,
//!     data: None,
//!     frame_spacing_fs: None,
//!     only: vec!["e1".into()],
//!     jobs: 0,
//!     device: mlff_bench::device::Device::Cpu,
//! };
//! let outcome = run(&request)?;
//! println!("{}", outcome.report.display());
//! # Ok::<(), anyhow::Error>(())
//! ```

pub mod baseline_model;
pub mod cell_splits;
pub mod data;
pub mod device;
pub mod execute;
pub mod exp_cross;
pub mod exp_md;
pub mod exp_sample;
pub mod exp_soap;
pub mod exp_time;
pub mod experiment;
pub mod external;
pub mod generate;
pub mod grid;
pub mod measure;
pub mod model;
pub mod nequip_model;
pub mod plots;
pub mod preset;
pub mod report;
mod run;
pub mod slurm;
pub mod stats;
pub mod store;

pub use model::{FittedModel, ModelFactory, ModelSpec, Predictions, TrainingContext};
pub use preset::{Plan, Preset};
pub use run::{Prepared, RunOutcome, RunRequest, collect, emit_slurm, prepare, run, run_cell};
