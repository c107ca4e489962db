//! Seeded percentile-bootstrap confidence intervals, resampling whole frames.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{MetricsError, Result, check_finite};
use crate::scores::Scores;

/// The statistic whose sampling distribution is bootstrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// Mean of the values (pass per-frame absolute errors for an MAE).
    Mean,
    /// Square root of the mean (pass per-frame mean squared errors for an RMSE).
    SqrtOfMean,
}

impl Statistic {
    fn of(self, sum: f64, n: usize) -> f64 {
        let mean = sum / n as f64;
        match self {
            Statistic::Mean => mean,
            Statistic::SqrtOfMean => mean.max(0.0).sqrt(),
        }
    }
}

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    /// Number of resamples (e.g. 1000–10,000).
    pub resamples: usize,
    /// Confidence level in (0, 1), e.g. 0.95.
    pub confidence: f64,
    /// Seed of the resampling.
    pub seed: u64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            resamples: 2000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// A point estimate with a percentile-bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// The statistic on the full sample.
    pub estimate: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level.
    pub confidence: f64,
    /// Resamples drawn.
    pub resamples: usize,
}

impl ConfidenceInterval {
    fn scaled(self, k: f64) -> Self {
        Self {
            estimate: self.estimate * k,
            lower: self.lower * k,
            upper: self.upper * k,
            ..self
        }
    }
}

/// Percentile-bootstrap interval of `statistic` over `values` (one value per independent unit,
/// e.g. per frame). Resample `i` uses its own ChaCha8 stream, so results do not depend on the
/// number of threads.
pub fn bootstrap_ci(
    values: &[f64],
    statistic: Statistic,
    options: &BootstrapOptions,
) -> Result<ConfidenceInterval> {
    if values.is_empty() {
        return Err(MetricsError::Empty {
            what: "bootstrap sample".into(),
        });
    }
    check_finite("bootstrap sample", values, |i| format!("value {i}"))?;
    check_options(options)?;
    let n = values.len();
    let replicates = resampled(options, |rng| {
        let sum: f64 = (0..n).map(|_| values[rng.random_range(0..n)]).sum();
        statistic.of(sum, n)
    });
    let (lower, upper) = percentile_bounds(&replicates, options.confidence);
    Ok(ConfidenceInterval {
        estimate: statistic.of(values.iter().sum(), n),
        lower,
        upper,
        confidence: options.confidence,
        resamples: options.resamples,
    })
}

/// Checks the resample count (≥ 2) and the confidence level of `options`.
pub(crate) fn check_options(options: &BootstrapOptions) -> Result<()> {
    if options.resamples < 2 {
        return Err(MetricsError::InvalidParameter {
            what: "bootstrap resamples".into(),
            reason: format!("{} given, at least 2 needed", options.resamples),
        });
    }
    check_confidence(options.confidence)
}

/// The statistic of each of `options.resamples` resamples, ascending. Resample `i` draws from
/// its own ChaCha8 stream `i` of `options.seed`, so results do not depend on the number of
/// threads.
pub(crate) fn resampled(
    options: &BootstrapOptions,
    statistic: impl Fn(&mut ChaCha8Rng) -> f64 + Sync + Send,
) -> Vec<f64> {
    let mut replicates: Vec<f64> = (0..options.resamples)
        .into_par_iter()
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
            rng.set_stream(i as u64);
            statistic(&mut rng)
        })
        .collect();
    replicates.sort_unstable_by(f64::total_cmp);
    replicates
}

/// Equal-tailed percentile interval at `confidence` of ascending `sorted` replicates.
pub(crate) fn percentile_bounds(sorted: &[f64], confidence: f64) -> (f64, f64) {
    let alpha = 1.0 - confidence;
    (
        percentile(sorted, alpha / 2.0),
        percentile(sorted, 1.0 - alpha / 2.0),
    )
}

pub(crate) fn check_confidence(confidence: f64) -> Result<()> {
    if confidence.is_finite() && confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(MetricsError::InvalidParameter {
            what: "confidence level".into(),
            reason: format!("{confidence} must lie strictly between 0 and 1"),
        })
    }
}

/// The `q`-quantile (0 ≤ q ≤ 1) of ascending `sorted` values with linear interpolation between
/// order statistics (numpy's default `percentile` method). `sorted` must be non-empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let below = h.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

/// Bootstrap intervals of the headline metrics, resampling frames.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreIntervals {
    /// Per-atom energy MAE.
    pub energy_per_atom_mae: ConfidenceInterval,
    /// Per-atom energy RMSE.
    pub energy_per_atom_rmse: ConfidenceInterval,
    /// Force component MAE.
    pub force_mae: ConfidenceInterval,
    /// Force component RMSE.
    pub force_rmse: ConfidenceInterval,
}

impl ScoreIntervals {
    /// The same intervals scaled by a unit conversion factor.
    pub fn scaled(&self, k: f64) -> Self {
        Self {
            energy_per_atom_mae: self.energy_per_atom_mae.scaled(k),
            energy_per_atom_rmse: self.energy_per_atom_rmse.scaled(k),
            force_mae: self.force_mae.scaled(k),
            force_rmse: self.force_rmse.scaled(k),
        }
    }
}

impl Scores {
    /// Bootstrap intervals of the headline metrics (whole frames resampled, since atoms within
    /// a frame are correlated), in this score's unit.
    pub fn bootstrap(&self, options: &BootstrapOptions) -> Result<ScoreIntervals> {
        let column = |f: fn(&crate::scores::FrameErrors) -> f64| -> Vec<f64> {
            self.per_frame.iter().map(f).collect()
        };
        Ok(ScoreIntervals {
            energy_per_atom_mae: bootstrap_ci(
                &column(|f| f.energy_error_per_atom.abs()),
                Statistic::Mean,
                options,
            )?,
            energy_per_atom_rmse: bootstrap_ci(
                &column(|f| f.energy_error_per_atom.powi(2)),
                Statistic::SqrtOfMean,
                options,
            )?,
            force_mae: bootstrap_ci(&column(|f| f.force_component_mae), Statistic::Mean, options)?,
            force_rmse: bootstrap_ci(
                &column(|f| f.force_component_rmse.powi(2)),
                Statistic::SqrtOfMean,
                options,
            )?,
        })
    }
}
