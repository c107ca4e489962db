#![doc = include_str!("../README.md")]

mod config;
mod curve;
mod early_stopping;
mod ema;
mod error;
mod loss;
mod objective;
mod optimizer;
pub mod pair_potential;
mod scheduler;
mod state;
mod stats;
mod trainer;

pub use config::{Metric, OptimizerName, SchedulerName, TrainConfig};
pub use curve::{CSV_HEADER, CurveCsv, plot_curve};
pub use early_stopping::{EarlyStopping, EarlyStoppingConfig};
pub use ema::Ema;
pub use error::{ObjectiveError, Result, TrainError};
pub use loss::{
    BatchShape, EnergyTerm, ErrorMetrics, ForceTerm, LossCoeffs, LossField, LossFunction, LossKind,
    LossParts, LossTermSpec,
};
pub use objective::Objective;
pub use optimizer::{Adam, AdamConfig, clip_gradient_norm};
pub use scheduler::{PlateauConfig, PlateauMode, ReduceLrOnPlateau, ThresholdMode};
pub use state::{BestEpoch, EpochRecord, TrainState};
pub use stats::DataStats;
pub use trainer::{
    BEST_STATE_FILE, CURVE_CSV_FILE, CURVE_SVG_FILE, CheckpointEvent, CheckpointKind, STATE_FILE,
    StopReason, TrainOutcome, Trainer, epoch_order,
};
