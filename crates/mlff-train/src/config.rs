//! The training configuration, with nequip's key names so that a nequip YAML's training section
//! reads unchanged (unknown keys, such as the model's, are ignored so one file can hold both).

use crate::early_stopping::EarlyStoppingConfig;
use crate::error::{Result, TrainError};
use crate::loss::{LossCoeffs, LossFunction};
use crate::optimizer::AdamConfig;
use crate::scheduler::{PlateauConfig, PlateauMode, ThresholdMode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A per-epoch quantity that early stopping, the scheduler and best-model selection can watch
/// (nequip's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// The loss on the validation set (EMA weights when `use_ema`).
    #[serde(rename = "validation_loss")]
    ValidationLoss,
    /// The loss over the epoch's training batches.
    #[serde(rename = "training_loss")]
    TrainingLoss,
    /// Validation per-atom energy MAE.
    #[serde(rename = "validation_e_mae")]
    ValidationEMae,
    /// Validation per-atom energy RMSE.
    #[serde(rename = "validation_e_rmse")]
    ValidationERmse,
    /// Validation force-component MAE.
    #[serde(rename = "validation_f_mae")]
    ValidationFMae,
    /// Validation force-component RMSE.
    #[serde(rename = "validation_f_rmse")]
    ValidationFRmse,
    /// The learning rate used during the epoch.
    #[serde(rename = "LR")]
    Lr,
    /// Cumulative wall-clock seconds.
    #[serde(rename = "wall")]
    Wall,
}

impl Metric {
    /// The metric's configuration name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::ValidationLoss => "validation_loss",
            Metric::TrainingLoss => "training_loss",
            Metric::ValidationEMae => "validation_e_mae",
            Metric::ValidationERmse => "validation_e_rmse",
            Metric::ValidationFMae => "validation_f_mae",
            Metric::ValidationFRmse => "validation_f_rmse",
            Metric::Lr => "LR",
            Metric::Wall => "wall",
        }
    }
}

/// The optimiser (only Adam; AMSGrad through `optimizer_amsgrad`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OptimizerName {
    /// `torch.optim.Adam`.
    #[default]
    Adam,
}

/// The learning-rate schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SchedulerName {
    /// A constant learning rate.
    #[default]
    #[serde(rename = "none")]
    None,
    /// `torch.optim.lr_scheduler.ReduceLROnPlateau` on `metrics_key`, once per epoch.
    ReduceLROnPlateau,
}

/// Everything that controls a training run. Defaults follow nequip's trainer and torch, except
/// where noted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Seed of the per-epoch shuffles.
    pub seed: u64,
    /// Stop after this many epochs (nequip default 1,000,000).
    pub max_epochs: usize,
    /// Frames per optimiser step (default 5); the last batch of an epoch may be smaller.
    pub batch_size: usize,
    /// Initial learning rate (default 0.01).
    pub learning_rate: f64,
    /// Must be `Adam`.
    pub optimizer_name: OptimizerName,
    /// AMSGrad variant (default false).
    pub optimizer_amsgrad: bool,
    /// Adam's betas (default [0.9, 0.999]).
    pub optimizer_betas: [f64; 2],
    /// Adam's eps (default 1e-8).
    pub optimizer_eps: f64,
    /// L2 weight decay (default 0).
    pub optimizer_weight_decay: f64,
    /// Clip the gradient's 2-norm to this (default: no clipping, nequip's `inf`).
    pub max_gradient_norm: Option<f64>,
    /// `none` or `ReduceLROnPlateau` (default `none`).
    pub lr_scheduler_name: SchedulerName,
    /// Plateau patience in epochs (torch default 10).
    pub lr_scheduler_patience: usize,
    /// Plateau factor (torch default 0.1).
    pub lr_scheduler_factor: f64,
    /// Learning-rate floor of the scheduler (torch default 0).
    pub lr_scheduler_min_lr: f64,
    /// Improvement threshold (torch default 1e-4).
    pub lr_scheduler_threshold: f64,
    /// `rel` or `abs` (torch default `rel`).
    pub lr_scheduler_threshold_mode: ThresholdMode,
    /// `min` or `max` (torch default `min`).
    pub lr_scheduler_mode: PlateauMode,
    /// Cooldown epochs after a reduction (torch default 0).
    pub lr_scheduler_cooldown: usize,
    /// Minimal change of the rate (torch default 1e-8).
    pub lr_scheduler_eps: f64,
    /// Keep an exponential moving average of the weights for validation and the saved model
    /// (nequip default false).
    pub use_ema: bool,
    /// EMA decay. Default 0.99, as in nequip's rMD17 configurations (nequip's code default is
    /// 0.999).
    pub ema_decay: f64,
    /// Warm the EMA decay up as `min(decay, (1+n)/(10+n))` (nequip default true).
    pub ema_use_num_updates: bool,
    /// Stop when a metric has not improved for this many epochs.
    pub early_stopping_patiences: BTreeMap<Metric, usize>,
    /// Margins of the patience conditions.
    pub early_stopping_delta: BTreeMap<Metric, f64>,
    /// See [`EarlyStoppingConfig::cumulative_delta`].
    pub early_stopping_cumulative_delta: bool,
    /// Stop when a metric falls below a bound (e.g. `LR: 1.0e-6`).
    pub early_stopping_lower_bounds: BTreeMap<Metric, f64>,
    /// Stop when a metric rises above a bound.
    pub early_stopping_upper_bounds: BTreeMap<Metric, f64>,
    /// The metric for the scheduler and the best model (default `validation_loss`).
    pub metrics_key: Metric,
    /// Stop after this many wall-clock seconds (counted across resumes); checked between epochs.
    pub max_wall_time_s: Option<f64>,
    /// Write the full training state every this many epochs (0: only at the best and the end).
    pub save_checkpoint_freq: usize,
    /// The loss, nequip-style.
    pub loss_coeffs: LossCoeffs,
}

impl Default for TrainConfig {
    fn default() -> Self {
        let adam = AdamConfig::default();
        let plateau = PlateauConfig::default();
        TrainConfig {
            seed: 0,
            max_epochs: 1_000_000,
            batch_size: 5,
            learning_rate: 0.01,
            optimizer_name: OptimizerName::Adam,
            optimizer_amsgrad: adam.amsgrad,
            optimizer_betas: adam.betas,
            optimizer_eps: adam.eps,
            optimizer_weight_decay: adam.weight_decay,
            max_gradient_norm: None,
            lr_scheduler_name: SchedulerName::None,
            lr_scheduler_patience: plateau.patience,
            lr_scheduler_factor: plateau.factor,
            lr_scheduler_min_lr: plateau.min_lr,
            lr_scheduler_threshold: plateau.threshold,
            lr_scheduler_threshold_mode: plateau.threshold_mode,
            lr_scheduler_mode: plateau.mode,
            lr_scheduler_cooldown: plateau.cooldown,
            lr_scheduler_eps: plateau.eps,
            use_ema: false,
            ema_decay: 0.99,
            ema_use_num_updates: true,
            early_stopping_patiences: BTreeMap::new(),
            early_stopping_delta: BTreeMap::new(),
            early_stopping_cumulative_delta: false,
            early_stopping_lower_bounds: BTreeMap::new(),
            early_stopping_upper_bounds: BTreeMap::new(),
            metrics_key: Metric::ValidationLoss,
            max_wall_time_s: None,
            save_checkpoint_freq: 1,
            loss_coeffs: LossCoeffs::default(),
        }
    }
}

impl TrainConfig {
    /// The paper-era rMD17 recipe (mir-group/nequip-input-files, design notes §3): AMSGrad at
    /// lr 0.01, ReduceLROnPlateau (patience 50, factor 0.8), EMA 0.99, loss 1000·F + 1·E/atom,
    /// stop when LR < 1e-6 or after 1000 epochs without validation improvement.
    pub fn rmd17_paper() -> Self {
        use crate::loss::{LossField, LossKind, LossTermSpec};
        TrainConfig {
            optimizer_amsgrad: true,
            lr_scheduler_name: SchedulerName::ReduceLROnPlateau,
            lr_scheduler_patience: 50,
            lr_scheduler_factor: 0.8,
            use_ema: true,
            ema_decay: 0.99,
            early_stopping_patiences: BTreeMap::from([(Metric::ValidationLoss, 1000)]),
            early_stopping_lower_bounds: BTreeMap::from([(Metric::Lr, 1e-6)]),
            loss_coeffs: LossCoeffs(BTreeMap::from([
                (LossField::Forces, LossTermSpec::Coeff(1000.0)),
                (
                    LossField::TotalEnergy,
                    LossTermSpec::WithKind(1.0, LossKind::PerAtomMse),
                ),
            ])),
            ..TrainConfig::default()
        }
    }

    /// Parses YAML (nequip's format) and validates.
    pub fn from_yaml_str(text: &str) -> Result<Self> {
        let config: TrainConfig =
            serde_yaml::from_str(text).map_err(|e| TrainError::ConfigParse {
                format: "YAML",
                reason: e.to_string(),
            })?;
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML and validates.
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let config: TrainConfig = toml::from_str(text).map_err(|e| TrainError::ConfigParse {
            format: "TOML",
            reason: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value's range and that the pieces fit together.
    pub fn validate(&self) -> Result<()> {
        if self.max_epochs == 0 {
            // Zero epochs would train nothing and leave no best model to report.
            return Err(TrainError::config("max_epochs", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(TrainError::config("batch_size", "must be at least 1"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::config(
                "learning_rate",
                format!("{} must be finite and positive", self.learning_rate),
            ));
        }
        if let Some(m) = self.max_gradient_norm
            && (m.is_nan() || m <= 0.0)
        {
            return Err(TrainError::config(
                "max_gradient_norm",
                format!("{m} must be positive (leave it out for no clipping)"),
            ));
        }
        if let Some(w) = self.max_wall_time_s
            && (w.is_nan() || w <= 0.0)
        {
            return Err(TrainError::config(
                "max_wall_time_s",
                format!("{w} must be positive"),
            ));
        }
        self.adam().validate()?;
        self.plateau().validate()?;
        self.early_stopping().validate()?;
        if !(0.0..=1.0).contains(&self.ema_decay) {
            return Err(TrainError::config(
                "ema_decay",
                format!("{} is not in [0, 1]", self.ema_decay),
            ));
        }
        LossFunction::new(&self.loss_coeffs)?;
        Ok(())
    }

    /// The optimiser's settings.
    pub fn adam(&self) -> AdamConfig {
        AdamConfig {
            betas: self.optimizer_betas,
            eps: self.optimizer_eps,
            weight_decay: self.optimizer_weight_decay,
            amsgrad: self.optimizer_amsgrad,
        }
    }

    /// The scheduler's settings.
    pub fn plateau(&self) -> PlateauConfig {
        PlateauConfig {
            mode: self.lr_scheduler_mode,
            factor: self.lr_scheduler_factor,
            patience: self.lr_scheduler_patience,
            threshold: self.lr_scheduler_threshold,
            threshold_mode: self.lr_scheduler_threshold_mode,
            cooldown: self.lr_scheduler_cooldown,
            min_lr: self.lr_scheduler_min_lr,
            eps: self.lr_scheduler_eps,
        }
    }

    /// The early-stopping conditions.
    pub fn early_stopping(&self) -> EarlyStoppingConfig {
        EarlyStoppingConfig {
            patiences: self.early_stopping_patiences.clone(),
            delta: self.early_stopping_delta.clone(),
            cumulative_delta: self.early_stopping_cumulative_delta,
            lower_bounds: self.early_stopping_lower_bounds.clone(),
            upper_bounds: self.early_stopping_upper_bounds.clone(),
        }
    }

    /// The loss built from `loss_coeffs`.
    pub fn loss(&self) -> Result<LossFunction> {
        LossFunction::new(&self.loss_coeffs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEQUIP_YAML: &str = "
r_max: 4.0            # a model key: ignored here
seed: 123
max_epochs: 100000
batch_size: 5
learning_rate: 0.01
optimizer_name: Adam
optimizer_amsgrad: true
lr_scheduler_name: ReduceLROnPlateau
lr_scheduler_patience: 50
lr_scheduler_factor: 0.8
use_ema: true
ema_decay: 0.99
ema_use_num_updates: true
early_stopping_patiences:
  validation_loss: 1000
early_stopping_lower_bounds:
  LR: 1.0e-6
loss_coeffs:
  forces: 1000
  total_energy:
    - 1
    - PerAtomMSELoss
";

    #[test]
    fn nequip_yaml_reads_and_matches_the_paper_preset() {
        let c = TrainConfig::from_yaml_str(NEQUIP_YAML).unwrap();
        let paper = TrainConfig {
            seed: 123,
            max_epochs: 100000,
            ..TrainConfig::rmd17_paper()
        };
        assert_eq!(c, paper);
    }

    #[test]
    fn toml_round_trips() {
        let c = TrainConfig::rmd17_paper();
        let text = toml::to_string(&c).unwrap();
        assert_eq!(TrainConfig::from_toml_str(&text).unwrap(), c);
    }

    #[test]
    fn out_of_range_values_name_their_key() {
        for (yaml, key) in [
            ("batch_size: 0", "batch_size"),
            ("learning_rate: -1", "learning_rate"),
            ("lr_scheduler_factor: 2", "lr_scheduler_factor"),
            ("ema_decay: 1.5", "ema_decay"),
            ("optimizer_betas: [0.9, 1.0]", "optimizer_betas[1]"),
            (
                "early_stopping_patiences: {validation_loss: 0}",
                "early_stopping_patiences",
            ),
            ("max_gradient_norm: 0", "max_gradient_norm"),
        ] {
            let e = TrainConfig::from_yaml_str(yaml).unwrap_err().to_string();
            assert!(e.contains(key), "{yaml}: {e}");
        }
        let e = TrainConfig::from_yaml_str("optimizer_name: SGD")
            .unwrap_err()
            .to_string();
        assert!(e.contains("YAML"), "{e}");
        let e = TrainConfig::from_yaml_str("early_stopping_patiences: {validation_foo: 3}")
            .unwrap_err()
            .to_string();
        assert!(e.contains("validation_foo"), "{e}");
    }
}
