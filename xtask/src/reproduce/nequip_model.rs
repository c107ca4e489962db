//! [`ModelFactory`] for NequIP (`mlff-nequip`, trained with `mlff-train`).
//!
//! `quick` trains a small model (l_max 1, 3 layers, 16 features, r_max 4 Å — the size and
//! recipe of the design notes' accuracy anchor) for a fixed number of optimiser steps, so a cell costs the
//! same whatever its training size and the whole quick grid fits a 2-core CPU; `paper` uses
//! the paper-era rMD17 recipe (l_max 3, 5 layers, 64 features, AMSGrad, plateau schedule,
//! EMA, early stopping).

use crate::device::Executor;
use anyhow::{Context, Result};
use mlff_data::Dataset;
use mlff_md::Potential;
use mlff_nequip::{
    DatasetBatches, Nequip, NequipConfig, NequipPotential, NumFeatures, Predictor,
    apply_training_statistics, train_on,
};
use mlff_train::TrainConfig;
use std::sync::Arc;

use super::model::{FittedModel, ModelFactory, Predictions, TrainingContext};
use super::preset::Preset;

/// Optimiser steps of a `quick` cell.
const QUICK_STEPS: usize = 1200;

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

    fn model_config(&self, type_names: Vec<String>, seed: u64) -> NequipConfig {
        // (layers, l_max, features, radial MLP depth, width, trainable Bessel frequencies)
        let (layers, l_max, features, depth, width, bessel) = match self.preset {
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

    fn train_config(&self, n_train: usize, seed: u64) -> TrainConfig {
        let mut t = match self.preset {
            // The accuracy anchor's recipe (design notes §11): Adam 0.01, EMA 0.99, per-atom
            // energy : forces 1 : 1, batch 5 — which reaches nequip's accuracy in 2,400 steps.
            Preset::Quick => TrainConfig::from_yaml_str(&format!(
                "learning_rate: 0.01\nuse_ema: true\nema_decay: 0.99\nbatch_size: 5\n\
                 max_epochs: {}\nloss_coeffs: {{total_energy: [1, PerAtomMSELoss], forces: 1}}\n",
                (QUICK_STEPS * 5).div_ceil(n_train.max(1)).clamp(5, 200)
            ))
            .expect("a valid built-in configuration"),
            Preset::Paper => TrainConfig::rmd17_paper(),
        };
        t.seed = seed;
        t
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

    fn hyper_parameters(&self) -> serde_json::Value {
        serde_json::json!({
            "model": self.model_config(vec!["H".into()], 0),
            "training": self.train_config(1000, 0),
            "note": "type_names from the training data; max_epochs of quick = 1200 steps / (n_train / batch)",
        })
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
        let mut config = self.model_config(names, context.seed);
        apply_training_statistics(&mut config, &all, &train_idx)?;
        let model = Nequip::new(config)?;
        let tc = self.train_config(n_train, context.seed);
        let epochs = tc.max_epochs;
        let passes = self.executor.loss_passes(&model);
        let trained = train_on(
            passes.as_deref(),
            model,
            tc,
            &all,
            train_idx,
            val_idx,
            None,
            false,
            false,
        )
        .context("training NequIP")?;
        (context.progress)(1.0);
        let state = &trained.outcome.state;
        let summary = serde_json::json!({
            "parameters": trained.model.params().len(),
            "epochs": state.epoch,
            "max_epochs": epochs,
            "stop": format!("{:?}", trained.outcome.stop),
            "best_epoch": state.best.as_ref().map(|b| b.epoch),
            "best_validation": state.best.as_ref().map(|b| b.metric),
            "train_wall_s": state.elapsed_s,
        });
        let model = Arc::new(trained.model);
        let predictor = self.executor.predictor(model.clone())?;
        let mut summary = summary;
        summary["executor"] = predictor.executor().into();
        Ok(Box::new(FittedNequip {
            model,
            predictor,
            summary,
        }))
    }
}

struct FittedNequip {
    model: Arc<Nequip>,
    /// The model on the run's executor (the CPU model itself by default).
    predictor: Arc<dyn Predictor>,
    summary: serde_json::Value,
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
}
