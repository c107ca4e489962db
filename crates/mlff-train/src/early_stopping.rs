//! Early stopping with nequip's semantics (`early_stopping_patiences`, `_delta`,
//! `_cumulative_delta`, `_lower_bounds`, `_upper_bounds`), evaluated once per epoch on that
//! epoch's metrics.
//!
//! Patience: the first value becomes the minimum; afterwards a value that is not below
//! `minimum − delta` increments the counter (and, unless cumulative, still lowers the minimum if
//! it is lower), any other value resets it; the run stops when a counter reaches its patience.
//! Bounds stop the run when a metric is strictly below a lower bound (e.g. `LR < 1e-6`) or above
//! an upper bound.

use crate::config::Metric;
use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The conditions (part of [`TrainConfig`](crate::TrainConfig)).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EarlyStoppingConfig {
    /// Epochs without improvement tolerated, per metric.
    pub patiences: BTreeMap<Metric, usize>,
    /// Improvement margins per metric (default 0).
    pub delta: BTreeMap<Metric, f64>,
    /// Keep the minimum fixed on sub-delta improvements.
    pub cumulative_delta: bool,
    /// Stop when a metric falls below its bound.
    pub lower_bounds: BTreeMap<Metric, f64>,
    /// Stop when a metric rises above its bound.
    pub upper_bounds: BTreeMap<Metric, f64>,
}

impl EarlyStoppingConfig {
    /// nequip's checks: positive patiences, non-negative deltas, a patience for every delta.
    pub fn validate(&self) -> Result<()> {
        for (m, &p) in &self.patiences {
            if p < 1 {
                return Err(TrainError::config(
                    format!("early_stopping_patiences.{}", m.name()),
                    "patience must be a positive integer",
                ));
            }
        }
        for (m, &d) in &self.delta {
            if !(d.is_finite() && d >= 0.0) {
                return Err(TrainError::config(
                    format!("early_stopping_delta.{}", m.name()),
                    format!("{d} must be finite and ≥ 0"),
                ));
            }
            if !self.patiences.contains_key(m) {
                return Err(TrainError::config(
                    format!("early_stopping_delta.{}", m.name()),
                    "a delta needs a patience for the same metric",
                ));
            }
        }
        for (field, bounds) in [
            ("early_stopping_lower_bounds", &self.lower_bounds),
            ("early_stopping_upper_bounds", &self.upper_bounds),
        ] {
            if let Some((m, b)) = bounds.iter().find(|(_, b)| b.is_nan()) {
                return Err(TrainError::config(
                    format!("{field}.{}", m.name()),
                    format!("bound {b} is not a number"),
                ));
            }
        }
        Ok(())
    }

    /// Every metric these conditions read.
    pub fn metrics(&self) -> impl Iterator<Item = Metric> + '_ {
        self.patiences
            .keys()
            .chain(self.lower_bounds.keys())
            .chain(self.upper_bounds.keys())
            .copied()
    }
}

/// Counters and minimums of the patience conditions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement, per metric.
    pub counters: BTreeMap<Metric, usize>,
    /// Best value so far, per metric.
    pub minimums: BTreeMap<Metric, f64>,
}

impl EarlyStopping {
    /// Records one epoch's metrics (`value` looks a metric up) and returns why the run should
    /// stop, if it should.
    pub fn check(
        &mut self,
        config: &EarlyStoppingConfig,
        mut value: impl FnMut(Metric) -> Result<f64>,
    ) -> Result<Option<String>> {
        let mut reasons = Vec::new();
        for (&metric, &patience) in &config.patiences {
            let v = value(metric)?;
            let delta = config.delta.get(&metric).copied().unwrap_or(0.0);
            let counter = self.counters.entry(metric).or_insert(0);
            match self.minimums.get(&metric).copied() {
                None => {
                    self.minimums.insert(metric, v);
                }
                Some(min) if v >= min - delta => {
                    if !config.cumulative_delta && v < min {
                        self.minimums.insert(metric, v);
                    }
                    *counter += 1;
                    if *counter >= patience {
                        reasons.push(format!(
                            "{} has not reduced for {patience} epochs",
                            metric.name()
                        ));
                    }
                }
                Some(_) => {
                    self.minimums.insert(metric, v);
                    *counter = 0;
                }
            }
        }
        for (&metric, &bound) in &config.lower_bounds {
            let v = value(metric)?;
            if v < bound {
                reasons.push(format!(
                    "{} = {v:e} is smaller than {bound:e}",
                    metric.name()
                ));
            }
        }
        for (&metric, &bound) in &config.upper_bounds {
            let v = value(metric)?;
            if v > bound {
                reasons.push(format!(
                    "{} = {v:e} is larger than {bound:e}",
                    metric.name()
                ));
            }
        }
        Ok((!reasons.is_empty()).then(|| reasons.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(patience: usize, delta: f64) -> EarlyStoppingConfig {
        EarlyStoppingConfig {
            patiences: BTreeMap::from([(Metric::ValidationLoss, patience)]),
            delta: BTreeMap::from([(Metric::ValidationLoss, delta)]),
            lower_bounds: BTreeMap::from([(Metric::Lr, 1e-6)]),
            ..EarlyStoppingConfig::default()
        }
    }

    /// The epoch (1-based) at which the run stops, feeding `losses` at learning rate `lr`.
    fn stop_epoch(c: &EarlyStoppingConfig, losses: &[f64], lr: f64) -> Option<usize> {
        let mut es = EarlyStopping::default();
        losses
            .iter()
            .position(|&l| {
                es.check(c, |m| Ok(if m == Metric::Lr { lr } else { l }))
                    .unwrap()
                    .is_some()
            })
            .map(|i| i + 1)
    }

    #[test]
    fn patience_counts_epochs_without_improvement() {
        let c = config(2, 0.0);
        // epoch 1 sets the minimum; 2 and 3 do not improve → stop at 3.
        assert_eq!(stop_epoch(&c, &[1.0, 1.0, 1.5, 0.1], 1.0), Some(3));
        // an improvement resets the counter.
        assert_eq!(stop_epoch(&c, &[1.0, 1.0, 0.5, 0.6, 0.4], 1.0), None);
        // improvements within delta are no improvement.
        let c = config(2, 0.1);
        assert_eq!(stop_epoch(&c, &[1.0, 0.95, 0.9], 1.0), Some(3));
    }

    #[test]
    fn lower_bound_is_strict() {
        let c = config(100, 0.0);
        assert_eq!(stop_epoch(&c, &[1.0, 0.5], 1e-6), None);
        assert_eq!(stop_epoch(&c, &[1.0, 0.5], 9.9e-7), Some(1));
    }

    #[test]
    fn invalid_conditions_are_rejected() {
        assert!(config(0, 0.0).validate().is_err());
        assert!(config(3, -1.0).validate().is_err());
        let mut c = config(3, 0.0);
        c.patiences.clear();
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("early_stopping_delta")
        );
    }
}
