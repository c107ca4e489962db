#![doc = include_str!("../README.md")]

pub mod architecture;
pub mod checkpoint;
pub mod config;
pub mod dataset;
mod dense;
pub mod error;
pub mod evaluate;
pub mod graph;
pub mod import;
pub mod loss;
pub mod model;
pub mod neighbors;
pub mod params;
pub mod potential;
pub mod predictor;
pub mod radial_mlp;
pub mod self_connection;
pub mod training;
pub mod types;

pub use architecture::{Architecture, ConvLayer};
pub use checkpoint::Checkpoint;
pub use config::{NequipConfig, NumFeatures, PerType, Precision};
pub use dataset::{DatasetBatches, DatasetPrediction, graph_of, graph_with, predict_dataset};
pub use error::{NequipError, Result};
pub use evaluate::{Energies, Gradients, Tape, backward, forward};
pub use graph::{AtomicGraph, MIN_DISTANCE};
pub use import::{load_nequip_dir, load_state_dict};
pub use loss::{
    CpuPasses, LossPasses, Targets, batch_errors, batch_loss_gradient, errors_with,
    loss_gradient_with, seeded_duals,
};
pub use model::{Nequip, Prediction};
pub use neighbors::{NeighborList, neighbor_list};
pub use params::{ParamLayout, ParamSegment};
pub use potential::NequipPotential;
pub use predictor::Predictor;
pub use training::{
    NequipObjective, RunFiles, TrainOptions, TrainedModel, apply_training_statistics, train,
};
pub use types::TypeMap;
