//! [`ModelFactory`] for NequIP (`mlff-nequip`, trained with `mlff-train`).
//!
//! Every cell trains until its validation loss has converged, so a learning curve measures the
//! data, not a step budget. `quick` trains a small model (l_max 1, 3 layers, 16 features,
//! r_max 4 Å — the size of the design notes' accuracy anchor) with Adam, EMA and a plateau
//! schedule whose patience is a fixed number of optimiser steps; it stops as converged once the
//! learning rate has been halved [`QUICK_LR_HALVINGS`] times, or when the validation loss has not
//! improved for [`QUICK_STALL_PATIENCES`] patiences. A cap on optimiser steps bounds the run, and
//! a cell that reaches it records that it did not converge. `paper` uses the paper-era rMD17
//! recipe (l_max 3, 5 layers, 64 features, AMSGrad, plateau schedule, EMA, early stopping).

use crate::device::Executor;
use anyhow::{Context, Result};
use mlff_data::Dataset;
use mlff_md::Potential;
use mlff_nequip::{
    DatasetBatches, Nequip, NequipConfig, NequipPotential, NumFeatures, Predictor, TrainOptions,
    apply_training_statistics, train,
};
use mlff_train::{
    LossCoeffs, LossField, LossKind, LossTermSpec, Metric, SchedulerName, StopReason, TrainConfig,
};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::{FittedModel, ModelFactory, Predictions, TrainingContext};
use crate::preset::Preset;

/// Initial learning rate of `quick`.
const QUICK_LR: f64 = 0.01;
/// Frames per optimiser step of `quick`: one, so small training sets get many updates per
/// second (a step costs about a fifth of a five-frame step).
const QUICK_BATCH: usize = 1;
/// Optimiser steps without a validation improvement before `quick` halves the learning rate
/// (rounded up to whole epochs).
const QUICK_PATIENCE_STEPS: usize = 100;
/// Halvings of the learning rate after which `quick` counts the validation loss as converged.
pub const QUICK_LR_HALVINGS: i32 = 4;
/// Patiences without any validation improvement after which `quick` stops as converged.
pub const QUICK_STALL_PATIENCES: usize = 3;
/// Relative validation improvement that counts as one (torch's `rel` threshold): the loss
/// counts as converged at a learning rate once it improves by less than 3 % per patience.
const QUICK_THRESHOLD: f64 = 0.03;
/// `quick`'s cap on optimiser steps: a base plus a number per training frame, so a larger
/// training set gets the steps it needs to converge.
fn quick_max_steps(n_train: usize) -> usize {
    4000 + 80 * n_train
}

/// Trains NequIP models with a preset's hyper-parameters (on the CPU) and predicts with them
/// on an executor.
pub struct NequipFactory {
    preset: Preset,
    executor: Executor,
}

impl NequipFactory {
    /// The factory of a preset, predicting on `executor`.
    pub fn new(preset: Preset, executor: Executor) -> Self {
        Self { preset, executor }
    }

    fn train_config(&self, n_train: usize, seed: u64) -> TrainConfig {
        let mut t = match self.preset {
            Preset::Quick => quick_train_config(n_train),
            Preset::Paper => TrainConfig::rmd17_paper(),
        };
        t.seed = seed;
        t
    }
}

/// The NequIP architecture of `preset` for elements `type_names` (statistics not yet applied).
pub fn preset_model_config(preset: Preset, type_names: Vec<String>, seed: u64) -> NequipConfig {
    // (layers, l_max, features, radial MLP depth, width, trainable Bessel frequencies)
    let (layers, l_max, features, depth, width, bessel) = match preset {
        Preset::Quick => (3, 1, 16, 1, 32, false),
        Preset::Paper => (5, 3, 64, 3, 64, true),
    };
    let mut c = NequipConfig::new(type_names, 4.0);
    c.num_layers = layers;
    c.l_max = l_max;
    c.num_features = NumFeatures::Uniform(features);
    c.radial_mlp_depth = depth;
    c.radial_mlp_width = width;
    c.bessel_trainable = bessel;
    c.seed = seed;
    c
}

/// `quick`'s recipe for `n_train` frames: Adam at 0.01 with EMA 0.99 and per-atom energy :
/// forces 1 : 1 (the accuracy anchor's, design notes §11), batch 1, plus the plateau schedule
/// and convergence stops described in the module documentation.
fn quick_train_config(n_train: usize) -> TrainConfig {
    let batch = QUICK_BATCH;
    let steps_per_epoch = n_train.div_ceil(batch).max(1);
    let patience = QUICK_PATIENCE_STEPS.div_ceil(steps_per_epoch).max(1);
    let min_lr = QUICK_LR * 0.5f64.powi(QUICK_LR_HALVINGS);
    TrainConfig {
        learning_rate: QUICK_LR,
        batch_size: batch,
        use_ema: true,
        ema_decay: 0.99,
        lr_scheduler_name: SchedulerName::ReduceLROnPlateau,
        lr_scheduler_patience: patience,
        lr_scheduler_factor: 0.5,
        lr_scheduler_threshold: QUICK_THRESHOLD,
        // Stop once the rate is below the QUICK_LR_HALVINGS-th halving (with room for rounding).
        early_stopping_lower_bounds: BTreeMap::from([(Metric::Lr, min_lr * 1.5)]),
        early_stopping_patiences: BTreeMap::from([(
            Metric::ValidationLoss,
            QUICK_STALL_PATIENCES * (patience + 1),
        )]),
        max_epochs: quick_max_steps(n_train).div_ceil(steps_per_epoch),
        loss_coeffs: LossCoeffs(BTreeMap::from([
            (LossField::Forces, LossTermSpec::Coeff(1.0)),
            (
                LossField::TotalEnergy,
                LossTermSpec::WithKind(1.0, LossKind::PerAtomMse),
            ),
        ])),
        ..TrainConfig::default()
    }
}

/// Why training stopped, in words, and whether the validation loss had converged by then.
fn stop_summary(stop: &StopReason) -> (String, bool) {
    match stop {
        StopReason::EarlyStopping(why) => (format!("converged: {why}"), true),
        StopReason::MaxEpochs => (
            "not converged: the step cap was reached while the validation loss still improved"
                .into(),
            false,
        ),
        StopReason::WallTime => ("not converged: wall-clock limit".into(), false),
        StopReason::Interrupted => ("not converged: interrupted".into(), false),
    }
}

fn type_names(sets: &[Dataset]) -> Vec<String> {
    let mut z: Vec<u8> = sets.iter().flat_map(|d| d.species().elements()).collect();
    z.sort_unstable();
    z.dedup();
    z.iter()
        .filter_map(|&z| mlff_data::elements::symbol(z).map(str::to_string))
        .collect()
}

impl ModelFactory for NequipFactory {
    fn name(&self) -> String {
        "nequip".into()
    }

    fn train(
        &self,
        train_sets: &[Dataset],
        validation: &[Dataset],
        context: &TrainingContext<'_>,
    ) -> Result<Box<dyn FittedModel>> {
        let names = type_names(train_sets);
        let all: Vec<&Dataset> = train_sets.iter().chain(validation).collect();
        let n_train: usize = train_sets.iter().map(|d| d.len()).sum();
        let n_val: usize = validation.iter().map(|d| d.len()).sum();
        let train_idx: Vec<usize> = (0..n_train).collect();
        // Validation needs at least one frame: fall back to the last training frame.
        let val_idx: Vec<usize> = if n_val > 0 {
            (n_train..n_train + n_val).collect()
        } else {
            vec![n_train - 1]
        };
        let mut config = preset_model_config(self.preset, names, context.seed);
        apply_training_statistics(&mut config, &all, &train_idx)?;
        let model = Nequip::new(config)?;
        let tc = self.train_config(n_train, context.seed);
        let epochs = tc.max_epochs;
        let passes = self.executor.loss_passes(&model);
        let options = TrainOptions {
            passes: passes.as_deref(),
            ..TrainOptions::default()
        };
        let trained =
            train(model, tc, &all, train_idx, val_idx, options).context("training NequIP")?;
        (context.progress)(1.0);
        let state = &trained.outcome.state;
        let (stop, converged) = stop_summary(&trained.outcome.stop);
        let summary = serde_json::json!({
            "parameters": trained.model.params().len(),
            "epochs": state.epoch,
            "max_epochs": epochs,
            "steps": state.step,
            "converged": converged,
            "stop": stop,
            "final_lr": state.lr,
            "best_epoch": state.best.as_ref().map(|b| b.epoch),
            "best_validation": state.best.as_ref().map(|b| b.metric),
            "train_wall_s": state.elapsed_s,
        });
        let hyper_parameters = serde_json::json!({
            "model": trained.model.config(),
            "training": state.config,
        });
        let model = Arc::new(trained.model);
        let predictor = self.executor.predictor(model.clone())?;
        let mut summary = summary;
        summary["executor"] = predictor.executor().into();
        Ok(Box::new(FittedNequip {
            model,
            predictor,
            summary,
            hyper_parameters,
        }))
    }
}

struct FittedNequip {
    model: Arc<Nequip>,
    /// The model on the run's executor (the CPU model itself by default).
    predictor: Arc<dyn Predictor>,
    summary: serde_json::Value,
    /// The model's configuration (types and training statistics included) and its training's.
    hyper_parameters: serde_json::Value,
}

impl FittedModel for FittedNequip {
    fn predict(&self, data: &Dataset) -> Result<Predictions> {
        let indices: Vec<usize> = (0..data.len()).collect();
        let batches = DatasetBatches {
            model: &self.model,
            data,
            indices: &indices,
            batch_frames: 32,
        };
        let p = batches.predict(|g| self.predictor.predict_graph(g), |_| ())?;
        Ok(Predictions {
            energies: p.energies,
            forces: p.forces,
        })
    }

    fn potential<'a>(&'a self, atomic_numbers: &[u8]) -> Result<Box<dyn Potential + 'a>> {
        Ok(Box::new(NequipPotential::with_predictor(
            self.predictor.clone(),
            atomic_numbers.to_vec(),
        )?))
    }

    fn training_summary(&self) -> serde_json::Value {
        self.summary.clone()
    }

    fn hyper_parameters(&self) -> serde_json::Value {
        self.hyper_parameters.clone()
    }
}
