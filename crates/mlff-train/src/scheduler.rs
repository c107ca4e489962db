//! `torch.optim.lr_scheduler.ReduceLROnPlateau`, stepped once per epoch on the validation metric.
//!
//! Semantics (torch's): a value is an improvement if it beats the best so far by the threshold
//! (`rel`: `a < best·(1−threshold)` in `min` mode; `abs`: `a < best − threshold`); otherwise the
//! count of bad epochs grows. While cooling down after a reduction, bad epochs are not counted.
//! When the count exceeds `patience` the rate becomes `max(lr·factor, min_lr)` — unless that
//! changes it by no more than `eps` — and the count restarts. NaN is never an improvement.

use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};

/// Whether the monitored metric should fall or rise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PlateauMode {
    /// Lower is better (losses, errors).
    #[default]
    Min,
    /// Higher is better.
    Max,
}

/// How the improvement threshold is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    /// Relative to the best value.
    #[default]
    Rel,
    /// An absolute margin.
    Abs,
}

/// The scheduler's settings (nequip's `lr_scheduler_*` keys; defaults are torch's).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlateauConfig {
    /// `lr_scheduler_mode`.
    pub mode: PlateauMode,
    /// `lr_scheduler_factor`: multiplier applied on a plateau (0 < factor < 1).
    pub factor: f64,
    /// `lr_scheduler_patience`: bad epochs tolerated before reducing.
    pub patience: usize,
    /// `lr_scheduler_threshold`.
    pub threshold: f64,
    /// `lr_scheduler_threshold_mode`.
    pub threshold_mode: ThresholdMode,
    /// `lr_scheduler_cooldown`: epochs after a reduction during which bad epochs are ignored.
    pub cooldown: usize,
    /// `lr_scheduler_min_lr`: the rate never goes below this.
    pub min_lr: f64,
    /// `lr_scheduler_eps`: reductions smaller than this are skipped.
    pub eps: f64,
}

impl Default for PlateauConfig {
    /// torch's defaults: min, factor 0.1, patience 10, threshold 1e-4 rel, cooldown 0, min_lr 0,
    /// eps 1e-8.
    fn default() -> Self {
        PlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

impl PlateauConfig {
    /// Checks torch's constraints (factor < 1) and that every number is finite and sensible.
    pub fn validate(&self) -> Result<()> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(TrainError::config(
                "lr_scheduler_factor",
                format!("{} is not in (0, 1)", self.factor),
            ));
        }
        for (field, v) in [
            ("lr_scheduler_threshold", self.threshold),
            ("lr_scheduler_min_lr", self.min_lr),
            ("lr_scheduler_eps", self.eps),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(TrainError::config(
                    field,
                    format!("{v} must be finite and ≥ 0"),
                ));
            }
        }
        Ok(())
    }
}

/// The scheduler's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReduceLrOnPlateau {
    /// The settings.
    pub config: PlateauConfig,
    /// The best metric so far (`None` before the first step: torch's ±inf).
    pub best: Option<f64>,
    /// Consecutive epochs without improvement.
    pub num_bad_epochs: usize,
    /// Epochs of cooldown left.
    pub cooldown_counter: usize,
    /// Steps taken.
    pub last_epoch: usize,
}

impl ReduceLrOnPlateau {
    /// A fresh scheduler.
    pub fn new(config: PlateauConfig) -> Result<Self> {
        config.validate()?;
        Ok(ReduceLrOnPlateau {
            config,
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
        })
    }

    fn is_better(&self, value: f64) -> bool {
        let Some(best) = self.best else {
            return !value.is_nan();
        };
        let c = &self.config;
        match (c.mode, c.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => value < best * (1.0 - c.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => value < best - c.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => value > best * (1.0 + c.threshold),
            (PlateauMode::Max, ThresholdMode::Abs) => value > best + c.threshold,
        }
    }

    /// Records one epoch's `metric` and returns the learning rate to use from now on.
    pub fn step(&mut self, metric: f64, lr: f64) -> f64 {
        self.last_epoch += 1;
        if self.is_better(metric) {
            self.best = Some(metric);
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.config.patience {
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
            let new_lr = (lr * self.config.factor).max(self.config.min_lr);
            if lr - new_lr > self.config.eps {
                return new_lr;
            }
        }
        lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lrs(config: PlateauConfig, metrics: &[f64]) -> Vec<f64> {
        let mut s = ReduceLrOnPlateau::new(config).unwrap();
        let mut lr = 1.0;
        metrics
            .iter()
            .map(|&m| {
                lr = s.step(m, lr);
                lr
            })
            .collect()
    }

    /// torch: with patience 2 the rate drops on the 3rd consecutive non-improving epoch.
    #[test]
    fn reduces_after_patience_bad_epochs() {
        let c = PlateauConfig {
            patience: 2,
            factor: 0.5,
            ..PlateauConfig::default()
        };
        assert_eq!(
            lrs(c, &[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
            [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
        );
    }

    /// An improvement smaller than the relative threshold (1e-4) counts as a bad epoch.
    #[test]
    fn tiny_improvements_do_not_count() {
        let c = PlateauConfig {
            patience: 0,
            factor: 0.5,
            ..PlateauConfig::default()
        };
        assert_eq!(lrs(c, &[1.0, 0.99995, 0.5]), [1.0, 0.5, 0.5]);
    }

    #[test]
    fn cooldown_and_min_lr_are_respected() {
        let c = PlateauConfig {
            patience: 0,
            factor: 0.1,
            cooldown: 2,
            min_lr: 0.05,
            ..PlateauConfig::default()
        };
        // epoch 2 reduces to 0.1 and starts a 2-epoch cooldown; epoch 5 reduces to the floor.
        assert_eq!(
            lrs(c, &[1.0, 2.0, 2.0, 2.0, 2.0, 2.0]),
            [1.0, 0.1, 0.1, 0.1, 0.05, 0.05]
        );
    }

    #[test]
    fn nan_is_never_an_improvement() {
        let c = PlateauConfig {
            patience: 1,
            factor: 0.5,
            ..PlateauConfig::default()
        };
        assert_eq!(lrs(c, &[f64::NAN, f64::NAN, 1.0]), [1.0, 0.5, 0.5]);
    }

    #[test]
    fn bad_factor_is_rejected() {
        let c = PlateauConfig {
            factor: 1.0,
            ..PlateauConfig::default()
        };
        let e = ReduceLrOnPlateau::new(c).unwrap_err().to_string();
        assert!(e.contains("lr_scheduler_factor"), "{e}");
    }
}
