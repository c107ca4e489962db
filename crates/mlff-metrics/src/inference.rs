//! Inference over independent replicates (seeds, frames, test sets): estimates with confidence
//! intervals, differences and ratios of means, learning-curve slopes and permutation tests of a
//! trend. Every random choice is seeded: the same seed gives the same numbers.

use std::fmt;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::bootstrap::{
    BootstrapOptions, ConfidenceInterval, check_confidence, check_options, percentile_bounds,
    resampled,
};
use crate::correlation::{average_ranks, check_pairs};
use crate::error::{MetricsError, Result, check_finite};
use crate::learning_curve::{PowerLawFit, fit_power_law, least_squares};

/// The confidence level used when none is given: 95%.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// A point estimate with a two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate on the full sample.
    pub value: f64,
    /// Lower bound of the interval.
    pub lower: f64,
    /// Upper bound of the interval.
    pub upper: f64,
    /// Confidence level of the interval, e.g. 0.95.
    pub level: f64,
    /// Independent units behind it (replicates, frames, points).
    pub n: usize,
}

impl Estimate {
    /// Whether the interval excludes `null` (the effect is significant at 1 − level).
    pub fn excludes(&self, null: f64) -> bool {
        null < self.lower || null > self.upper
    }

    /// A bootstrap interval from [`bootstrap_ci`] as an estimate over `n` units.
    pub fn from_interval(ci: &ConfidenceInterval, n: usize) -> Self {
        Self {
            value: ci.estimate,
            lower: ci.lower,
            upper: ci.upper,
            level: ci.confidence,
            n,
        }
    }

    /// Decimals that show the interval's half-width to two significant digits (the value's
    /// three significant digits when the interval has no width).
    fn decimals(&self) -> usize {
        let half = (self.upper - self.lower) / 2.0;
        let (scale, digits) = if half.is_finite() && half > 0.0 {
            (half, 1)
        } else {
            (self.value.abs(), 2)
        };
        if !(scale.is_finite() && scale > 0.0) {
            return 2;
        }
        (digits - scale.log10().floor() as i32).clamp(0, 12) as usize
    }
}

/// `value [lower, upper]`, rounded to the interval's precision unless a precision is given.
impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = f.precision().unwrap_or_else(|| self.decimals());
        write!(
            f,
            "{:.d$} [{:.d$}, {:.d$}]",
            self.value, self.lower, self.upper
        )
    }
}

/// The `0.5 + level/2` quantile of Student's t with `dof` degrees of freedom.
pub(crate) fn t_quantile(level: f64, dof: f64) -> Result<f64> {
    check_confidence(level)?;
    let t = StudentsT::new(0.0, 1.0, dof).map_err(|e| MetricsError::InvalidParameter {
        what: "Student t degrees of freedom".into(),
        reason: e.to_string(),
    })?;
    Ok(t.inverse_cdf(0.5 + level / 2.0))
}

/// The `0.5 + level/2` quantile of the standard normal distribution.
pub(crate) fn normal_quantile(level: f64) -> Result<f64> {
    check_confidence(level)?;
    let normal = Normal::new(0.0, 1.0).expect("the standard normal exists");
    Ok(normal.inverse_cdf(0.5 + level / 2.0))
}

fn check_sample(what: &str, values: &[f64], needed: usize) -> Result<()> {
    if values.len() < needed {
        return Err(MetricsError::TooFewPoints {
            what: what.into(),
            needed,
            got: values.len(),
        });
    }
    check_finite(what, values, |i| format!("value {i}"))
}

/// Mean and unbiased sample variance.
fn mean_variance(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (mean, ss / (n - 1.0))
}

/// Mean of independent replicates (e.g. one error per seed) with its Student-t interval at
/// `level` (n − 1 degrees of freedom; needs ≥ 2 values).
pub fn mean_interval(values: &[f64], level: f64) -> Result<Estimate> {
    check_sample("replicates of a mean", values, 2)?;
    let (mean, variance) = mean_variance(values);
    let n = values.len();
    let half = t_quantile(level, (n - 1) as f64)? * (variance / n as f64).sqrt();
    Ok(Estimate {
        value: mean,
        lower: mean - half,
        upper: mean + half,
        level,
        n,
    })
}

/// Difference mean(a) − mean(b) of two independent samples with Welch's interval at `level`
/// (Welch–Satterthwaite degrees of freedom; each sample needs ≥ 2 values).
pub fn welch_difference(a: &[f64], b: &[f64], level: f64) -> Result<Estimate> {
    check_sample("first sample of a difference", a, 2)?;
    check_sample("second sample of a difference", b, 2)?;
    check_confidence(level)?;
    let ((ma, va), (mb, vb)) = (mean_variance(a), mean_variance(b));
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (sa, sb) = (va / na, vb / nb);
    let se2 = sa + sb;
    let half = if se2 > 0.0 {
        let dof = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
        t_quantile(level, dof)? * se2.sqrt()
    } else {
        0.0
    };
    let value = ma - mb;
    Ok(Estimate {
        value,
        lower: value - half,
        upper: value + half,
        level,
        n: a.len() + b.len(),
    })
}

/// Percentile-bootstrap interval of `statistic(group means)`: every resample redraws each group
/// with replacement, independently (a stratified bootstrap). Each group needs ≥ 1 finite value.
pub fn bootstrap_group_means(
    groups: &[&[f64]],
    statistic: impl Fn(&[f64]) -> f64 + Sync + Send,
    options: &BootstrapOptions,
) -> Result<Estimate> {
    if groups.is_empty() {
        return Err(MetricsError::Empty {
            what: "bootstrap groups".into(),
        });
    }
    for (g, values) in groups.iter().enumerate() {
        if values.is_empty() {
            return Err(MetricsError::Empty {
                what: format!("bootstrap group {g}"),
            });
        }
        check_finite(&format!("bootstrap group {g}"), values, |i| {
            format!("value {i}")
        })?;
    }
    check_options(options)?;
    let means: Vec<f64> = groups
        .iter()
        .map(|g| g.iter().sum::<f64>() / g.len() as f64)
        .collect();
    let replicates = resampled(options, |rng| {
        let resampled_means: Vec<f64> = groups
            .iter()
            .map(|g| {
                let n = g.len();
                (0..n)
                    .map(|_| g[rand::Rng::random_range(rng, 0..n)])
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        statistic(&resampled_means)
    });
    let (lower, upper) = percentile_bounds(&replicates, options.confidence);
    Ok(Estimate {
        value: statistic(&means),
        lower,
        upper,
        level: options.confidence,
        n: groups.iter().map(|g| g.len()).sum(),
    })
}

fn check_positive_mean(what: &str, values: &[f64]) -> Result<()> {
    let sum: f64 = values.iter().sum();
    if sum > 0.0 {
        Ok(())
    } else {
        Err(MetricsError::InvalidParameter {
            what: what.into(),
            reason: format!(
                "a ratio needs a positive mean, got {}",
                sum / values.len() as f64
            ),
        })
    }
}

/// Ratio mean(numerators) / mean(denominators) of two independent samples (e.g. per-frame
/// errors of two models on different frames), each resampled separately (percentile bootstrap).
pub fn ratio_of_means(
    numerators: &[f64],
    denominators: &[f64],
    options: &BootstrapOptions,
) -> Result<Estimate> {
    if !denominators.is_empty() {
        check_positive_mean("ratio denominators", denominators)?;
    }
    bootstrap_group_means(&[numerators, denominators], |m| m[0] / m[1], options)
}

/// Geometric mean of per-replicate ratios numerators[i] / denominators[i] (e.g. the same model
/// scored on two test sets, one pair per seed or cell) with the Student-t interval of the mean
/// log ratio at `level`, back-transformed (needs ≥ 2 pairs, all values positive). A ratio and
/// its inverse count alike, so exchangeable pairs centre on 1; unlike a percentile bootstrap,
/// the interval keeps its coverage with a handful of replicates.
pub fn paired_ratio(numerators: &[f64], denominators: &[f64], level: f64) -> Result<Estimate> {
    check_same_length(numerators, denominators)?;
    for (what, values) in [
        ("paired ratio numerators", numerators),
        ("paired ratio denominators", denominators),
    ] {
        check_sample(what, values, 2)?;
        if let Some(i) = values.iter().position(|d| *d <= 0.0) {
            return Err(MetricsError::InvalidParameter {
                what: format!("{what}, pair {i}"),
                reason: format!("{} must be positive", values[i]),
            });
        }
    }
    let log_ratios: Vec<f64> = numerators
        .iter()
        .zip(denominators)
        .map(|(a, b)| (a / b).ln())
        .collect();
    let log = mean_interval(&log_ratios, level)?;
    Ok(Estimate {
        value: log.value.exp(),
        lower: log.lower.exp(),
        upper: log.upper.exp(),
        ..log
    })
}

fn check_same_length(numerators: &[f64], denominators: &[f64]) -> Result<()> {
    if numerators.len() == denominators.len() {
        Ok(())
    } else {
        Err(MetricsError::ShapeMismatch {
            what: "ratio denominators".into(),
            expected: vec![numerators.len()],
            got: vec![denominators.len()],
        })
    }
}

/// Ratio Σ numerators / Σ denominators of paired values (e.g. two models' per-frame errors on
/// the same frames) with a percentile-bootstrap interval resampling the pairs jointly.
pub fn ratio_of_paired_means(
    numerators: &[f64],
    denominators: &[f64],
    options: &BootstrapOptions,
) -> Result<Estimate> {
    check_same_length(numerators, denominators)?;
    check_sample("paired numerators", numerators, 1)?;
    check_sample("paired denominators", denominators, 1)?;
    check_positive_mean("ratio denominators", denominators)?;
    check_options(options)?;
    let n = numerators.len();
    let replicates = resampled(options, |rng| {
        let (mut a, mut b) = (0.0, 0.0);
        for _ in 0..n {
            let i = rand::Rng::random_range(rng, 0..n);
            a += numerators[i];
            b += denominators[i];
        }
        a / b
    });
    let (lower, upper) = percentile_bounds(&replicates, options.confidence);
    Ok(Estimate {
        value: numerators.iter().sum::<f64>() / denominators.iter().sum::<f64>(),
        lower,
        upper,
        level: options.confidence,
        n,
    })
}

impl PowerLawFit {
    /// The log–log slope with its Student-t interval at `level` (n − 2 degrees of freedom).
    pub fn slope_estimate(&self, level: f64) -> Result<Estimate> {
        let (lower, upper) = self.slope_interval(level)?;
        Ok(Estimate {
            value: self.slope,
            lower,
            upper,
            level,
            n: self.points,
        })
    }
}

/// Learning-curve slope over all (size, replicate) points with a stratified bootstrap interval:
/// each resample redraws the replicates (seeds) within every size and refits the log–log line.
/// Same requirements as [`fit_power_law`].
pub fn power_law_slope_bootstrap(
    sizes: &[f64],
    errors: &[f64],
    options: &BootstrapOptions,
) -> Result<Estimate> {
    fit_power_law(sizes, errors)?;
    let mut distinct: Vec<f64> = sizes.to_vec();
    distinct.sort_unstable_by(f64::total_cmp);
    distinct.dedup();
    let groups: Vec<Vec<f64>> = distinct
        .iter()
        .map(|s| {
            sizes
                .iter()
                .zip(errors)
                .filter(|(n, _)| *n == s)
                .map(|(_, e)| e.log10())
                .collect()
        })
        .collect();
    // x is constant within a size, so the OLS slope only depends on the mean log error of each
    // size: slope = Σ_g n_g (x_g − x̄) ȳ_g / Σ_g n_g (x_g − x̄)².
    let total = sizes.len() as f64;
    let x: Vec<f64> = distinct.iter().map(|s| s.log10()).collect();
    let counts: Vec<f64> = groups.iter().map(|g| g.len() as f64).collect();
    let mean_x = x.iter().zip(&counts).map(|(x, n)| x * n).sum::<f64>() / total;
    let weights: Vec<f64> = x
        .iter()
        .zip(&counts)
        .map(|(x, n)| n * (x - mean_x))
        .collect();
    let sxx: f64 = x.iter().zip(&weights).map(|(x, w)| w * (x - mean_x)).sum();
    let slope = |means: &[f64]| weights.iter().zip(means).map(|(w, m)| w * m).sum::<f64>() / sxx;
    let refs: Vec<&[f64]> = groups.iter().map(Vec::as_slice).collect();
    bootstrap_group_means(&refs, slope, options)
}

/// OLS slope of `y` on `x` with its Student-t interval at `level` (n − 2 degrees of freedom;
/// needs ≥ 3 points and two distinct x).
pub fn linear_slope(x: &[f64], y: &[f64], level: f64) -> Result<Estimate> {
    check_pairs(x, y)?;
    let line = least_squares(x, y, "trend predictor")?;
    let half = t_quantile(level, (x.len() - 2) as f64)? * line.slope_stderr;
    Ok(Estimate {
        value: line.slope,
        lower: line.slope - half,
        upper: line.slope + half,
        level,
        n: x.len(),
    })
}

/// The statistic of a permutation test for a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendStatistic {
    /// Spearman's rank correlation (monotone trends, robust to outliers).
    Spearman,
    /// OLS slope of y on x (linear trends).
    Slope,
}

/// Permutation-test settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PermutationOptions {
    /// Random permutations (all n! are enumerated when n! is not larger).
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// Confidence level of the slope interval.
    pub level: f64,
}

impl Default for PermutationOptions {
    fn default() -> Self {
        Self {
            permutations: 9999,
            seed: 0,
            level: DEFAULT_LEVEL,
        }
    }
}

/// Outcome of a permutation test for a trend of y against x.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendTest {
    /// Which statistic was permuted.
    pub statistic: TrendStatistic,
    /// Its value on the data (ρ, or the slope).
    pub observed: f64,
    /// Two-sided p-value: exact share of permutations at least as extreme when enumerated,
    /// else (b + 1)/(m + 1) for b of m random permutations at least as extreme.
    pub p_value: f64,
    /// Permutations evaluated.
    pub permutations: usize,
    /// Whether every permutation was enumerated.
    pub exact: bool,
    /// OLS slope of y on x with its Student-t interval.
    pub slope: Estimate,
}

impl TrendTest {
    /// Whether the trend is significant at `alpha` (e.g. 0.05).
    pub fn significant(&self, alpha: f64) -> bool {
        self.p_value < alpha
    }
}

/// n!, or `None` when it exceeds `limit`.
fn factorial_within(n: usize, limit: usize) -> Option<usize> {
    (1..=n).try_fold(1usize, |acc, k| acc.checked_mul(k).filter(|f| *f <= limit))
}

/// Calls `visit` with every permutation of 0..n (Heap's algorithm).
fn for_each_permutation(n: usize, mut visit: impl FnMut(&[usize])) {
    let mut perm: Vec<usize> = (0..n).collect();
    let mut c = vec![0usize; n];
    visit(&perm);
    let mut i = 1;
    while i < n {
        if c[i] < i {
            let j = if i % 2 == 0 { 0 } else { c[i] };
            perm.swap(j, i);
            visit(&perm);
            c[i] += 1;
            i = 1;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
}

/// Seeded permutation test of a trend of `y` against `x` (two-sided), with the OLS slope and its
/// interval. Needs ≥ 3 finite pairs and two distinct x.
pub fn permutation_trend(
    x: &[f64],
    y: &[f64],
    statistic: TrendStatistic,
    options: &PermutationOptions,
) -> Result<TrendTest> {
    check_pairs(x, y)?;
    if options.permutations == 0 {
        return Err(MetricsError::InvalidParameter {
            what: "permutations".into(),
            reason: "at least 1 needed".into(),
        });
    }
    let slope = linear_slope(x, y, options.level)?;
    let (a, b) = match statistic {
        TrendStatistic::Spearman => (average_ranks(x), average_ranks(y)),
        TrendStatistic::Slope => (x.to_vec(), y.to_vec()),
    };
    // Both statistics are Σ aᵢ·b_π(i) with centred a, times a factor that permutations keep.
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(&a), mean(&b));
    let a: Vec<f64> = a.iter().map(|v| v - ma).collect();
    let saa: f64 = a.iter().map(|v| v * v).sum();
    let sbb: f64 = b.iter().map(|v| (v - mb).powi(2)).sum();
    let cross = |perm: &[usize]| -> f64 { a.iter().zip(perm).map(|(ai, &j)| ai * b[j]).sum() };
    let identity: Vec<usize> = (0..x.len()).collect();
    let observed_sum = cross(&identity);
    let observed = match statistic {
        TrendStatistic::Spearman if sbb > 0.0 => observed_sum / (saa * sbb).sqrt(),
        TrendStatistic::Spearman => 0.0,
        TrendStatistic::Slope => observed_sum / saa,
    };
    // Relative tolerance so permutations tied with the data (up to rounding) count as extreme.
    let threshold = observed_sum.abs() * (1.0 - 1e-12);
    let extreme = |perm: &[usize]| cross(perm).abs() >= threshold;
    let (p_value, permutations, exact) = match factorial_within(x.len(), options.permutations) {
        Some(total) => {
            let mut count = 0usize;
            for_each_permutation(x.len(), |perm| count += usize::from(extreme(perm)));
            (count as f64 / total as f64, total, true)
        }
        None => {
            let count: usize = (0..options.permutations)
                .into_par_iter()
                .map(|i| {
                    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
                    rng.set_stream(i as u64);
                    let mut perm = identity.clone();
                    perm.shuffle(&mut rng);
                    usize::from(extreme(&perm))
                })
                .sum();
            let m = options.permutations;
            ((count + 1) as f64 / (m + 1) as f64, m, false)
        }
    };
    Ok(TrendTest {
        statistic,
        observed,
        p_value,
        permutations,
        exact,
        slope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlation::{pooled_correlation, spearman};
    use rand::Rng;
    use std::f64::consts::E;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} != {b} (±{tol})");
    }

    fn noise(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random::<f64>() - 0.5).collect()
    }

    #[test]
    fn t_interval_matches_hand_computation() {
        // mean 5, s = √4.8, s/√6 = 0.894427191, t(0.975, 5) = 2.570581836.
        let e = mean_interval(&[2.0, 4.0, 4.0, 5.0, 7.0, 8.0], 0.95).unwrap();
        close(e.value, 5.0, 1e-12);
        close(e.lower, 5.0 - 2.570_581_836 * 0.894_427_191, 1e-8);
        close(e.upper, 5.0 + 2.570_581_836 * 0.894_427_191, 1e-8);
        assert_eq!(e.n, 6);
        assert!(e.excludes(0.0) && !e.excludes(5.0));
    }

    #[test]
    fn welch_with_equal_variances_has_pooled_dof() {
        // Variances 2.5 and 2.5, n = 5 each: se = 1, Welch dof = 8, t(0.975, 8) = 2.306004135.
        let e =
            welch_difference(&[1.0, 2.0, 3.0, 4.0, 5.0], &[3.0, 4.0, 5.0, 6.0, 7.0], 0.95).unwrap();
        close(e.value, -2.0, 1e-12);
        close(e.lower, -2.0 - 2.306_004_135, 1e-8);
        close(e.upper, -2.0 + 2.306_004_135, 1e-8);
        assert!(!e.excludes(0.0));
        let shifted: Vec<f64> = [1.0, 2.0, 3.0, 4.0, 5.0].iter().map(|v| v + 10.0).collect();
        assert!(
            welch_difference(&shifted, &[1.0, 2.0, 3.0, 4.0, 5.0], 0.95)
                .unwrap()
                .excludes(0.0)
        );
    }

    #[test]
    fn display_rounds_to_the_interval() {
        let e = Estimate {
            value: 0.8512,
            lower: 0.7101,
            upper: 0.9903,
            level: 0.95,
            n: 3,
        };
        assert_eq!(e.to_string(), "0.85 [0.71, 0.99]");
        assert_eq!(format!("{e:.3}"), "0.851 [0.710, 0.990]");
        let slope = Estimate {
            value: -0.3512,
            lower: -0.4523,
            upper: -0.2501,
            ..e
        };
        assert_eq!(slope.to_string(), "-0.35 [-0.45, -0.25]");
        let point = Estimate {
            value: 12.345,
            lower: 12.345,
            upper: 12.345,
            ..e
        };
        assert_eq!(point.to_string(), "12.3 [12.3, 12.3]");
    }

    #[test]
    fn fisher_z_interval_matches_the_textbook() {
        // r = 0.5, n = 28: z = 0.549306, se = 0.2, tanh(z ± 1.959964·0.2).
        let c = crate::correlation::Correlation {
            coefficient: 0.5,
            p_value: 0.0,
            n: 28,
            method: crate::correlation::CorrelationMethod::Pearson,
        };
        let e = c.interval(0.95).unwrap();
        close(e.lower, 0.156_028_36, 1e-7);
        close(e.upper, 0.735_818_48, 1e-7);
        assert!(e.excludes(0.0));
        // Two such samples pooled: same z, standard error 1/√50.
        let pooled = pooled_correlation(&[c, c], 0.95).unwrap();
        close(pooled.value, 0.5, 1e-12);
        close(
            pooled.upper,
            (0.5f64.atanh() + 1.959_963_985 / 50f64.sqrt()).tanh(),
            1e-8,
        );
        assert_eq!(pooled.n, 56);
        let small = Correlation { n: 3, ..c };
        assert!(matches!(
            small.interval(0.95).unwrap_err(),
            MetricsError::TooFewPoints { needed: 4, .. }
        ));
    }

    use crate::correlation::Correlation;

    #[test]
    fn perfectly_monotone_sample_of_eight() {
        let x: Vec<f64> = (0..8).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| v * v + 1.0).collect();
        // Enumerated: only the identity and the reversal reach |ρ| = 1, so p = 2/8!.
        let exact = PermutationOptions {
            permutations: 40_320,
            ..Default::default()
        };
        let t = permutation_trend(&x, &y, TrendStatistic::Spearman, &exact).unwrap();
        assert!(t.exact && t.permutations == 40_320);
        close(t.observed, 1.0, 1e-12);
        close(t.p_value, 2.0 / 40_320.0, 1e-15);
        assert!(t.slope.excludes(0.0) && t.slope.value > 0.0);
        // Sampled: (b + 1)/(m + 1) with b almost surely 0, never below the exact bound.
        let sampled = PermutationOptions {
            permutations: 999,
            seed: 3,
            ..Default::default()
        };
        let s = permutation_trend(&x, &y, TrendStatistic::Slope, &sampled).unwrap();
        assert!(!s.exact);
        assert!(
            s.p_value >= 1.0 / 1000.0 && s.p_value <= 3.0 / 1000.0,
            "{}",
            s.p_value
        );
        assert!(s.significant(0.05));
        let again = permutation_trend(&x, &y, TrendStatistic::Slope, &sampled).unwrap();
        assert_eq!(s, again);
    }

    #[test]
    fn null_effects_on_pure_noise_are_not_significant() {
        let x: Vec<f64> = (0..40).map(f64::from).collect();
        let y = noise(17, 40);
        let options = PermutationOptions {
            permutations: 1999,
            seed: 5,
            ..Default::default()
        };
        for statistic in [TrendStatistic::Spearman, TrendStatistic::Slope] {
            let t = permutation_trend(&x, &y, statistic, &options).unwrap();
            assert!(!t.significant(0.05), "{statistic:?}: p = {}", t.p_value);
            assert!(!t.slope.excludes(0.0), "{}", t.slope);
        }
        let rho = spearman(&x, &y).unwrap().interval(0.95).unwrap();
        assert!(!rho.excludes(0.0), "{rho}");
        let m = mean_interval(&y, 0.95).unwrap();
        assert!(!m.excludes(0.0), "{m}");
        let z = noise(12, 30);
        assert!(!welch_difference(&y, &z, 0.95).unwrap().excludes(0.0));
        let positive = |v: &[f64]| v.iter().map(|e| 1.0 + e).collect::<Vec<_>>();
        let boot = BootstrapOptions {
            seed: 7,
            ..Default::default()
        };
        let r = ratio_of_means(&positive(&y), &positive(&z), &boot).unwrap();
        assert!(!r.excludes(1.0), "{r}");
        let paired = paired_ratio(&positive(&y[..30]), &positive(&z), 0.95).unwrap();
        assert!(!paired.excludes(1.0), "{paired}");
        let joint = ratio_of_paired_means(&positive(&y[..30]), &positive(&z), &boot).unwrap();
        assert!(!joint.excludes(1.0), "{joint}");
        // A learning curve with no size dependence: flat error plus noise.
        let sizes: Vec<f64> = [50.0, 100.0, 200.0, 400.0].repeat(5);
        let errors: Vec<f64> = noise(13, 20).iter().map(|e| 1.0 + 0.2 * e).collect();
        let fit = fit_power_law(&sizes, &errors).unwrap();
        assert!(!fit.slope_estimate(0.95).unwrap().excludes(0.0));
        let b = power_law_slope_bootstrap(&sizes, &errors, &boot).unwrap();
        assert!(!b.excludes(0.0), "{b}");
    }

    #[test]
    fn ratios_and_slopes_find_real_effects() {
        let boot = BootstrapOptions::default();
        let paired = paired_ratio(&[2.0, 4.0, 6.0], &[1.0, 2.0, 3.0], 0.95).unwrap();
        for bound in [paired.value, paired.lower, paired.upper] {
            close(bound, 2.0, 1e-12);
        }
        // Log ratios ln2 ± 1: s = √2, se = 1, half-width t(0.975, 1) = 12.706204736.
        let spread = paired_ratio(&[2.0 * E, 2.0 / E], &[1.0, 1.0], 0.95).unwrap();
        close(spread.value, 2.0, 1e-12);
        close(spread.upper.ln() - 2f64.ln(), 12.706_204_736, 1e-8);
        let joint = ratio_of_paired_means(&[2.0, 4.0, 6.0], &[1.0, 2.0, 3.0], &boot).unwrap();
        assert_eq!((joint.value, joint.lower, joint.upper), (2.0, 2.0, 2.0));
        let unpaired = ratio_of_means(&[2.0, 2.2, 1.8, 2.1], &[1.0, 1.1, 0.9], &boot).unwrap();
        close(unpaired.value, 2.025, 1e-12);
        assert!(unpaired.excludes(1.0) && unpaired.n == 7);
        // error = 3·n^−0.4 with multiplicative noise, three seeds per size.
        let sizes: Vec<f64> = [50.0, 100.0, 200.0, 400.0, 800.0].repeat(3);
        let errors: Vec<f64> = sizes
            .iter()
            .zip(noise(21, 15))
            .map(|(n, e)| 3.0 * n.powf(-0.4) * (1.0 + 0.1 * e))
            .collect();
        let fit = fit_power_law(&sizes, &errors).unwrap();
        let t = fit.slope_estimate(0.95).unwrap();
        assert!(t.upper < 0.0 && t.lower < -0.4 && t.upper > -0.4, "{t}");
        let b = power_law_slope_bootstrap(&sizes, &errors, &boot).unwrap();
        close(b.value, fit.slope, 1e-12);
        assert!(b.upper < 0.0 && (b.value + 0.4).abs() < 0.03, "{b}");
        // Noise-free replicates: every resample refits the same line.
        let exact: Vec<f64> = sizes.iter().map(|n| 3.0 * n.powf(-0.4)).collect();
        let b = power_law_slope_bootstrap(&sizes, &exact, &boot).unwrap();
        close(b.lower, -0.4, 1e-12);
        close(b.upper, -0.4, 1e-12);
    }

    #[test]
    fn seeds_determine_the_numbers() {
        let (a, b) = (noise(1, 25), noise(2, 25));
        let shift = |v: &[f64]| v.iter().map(|e| 2.0 + e).collect::<Vec<_>>();
        let (a, b) = (shift(&a), shift(&b));
        let with = |seed| BootstrapOptions {
            seed,
            ..Default::default()
        };
        let first = ratio_of_means(&a, &b, &with(4)).unwrap();
        assert_eq!(first, ratio_of_means(&a, &b, &with(4)).unwrap());
        assert_ne!(first, ratio_of_means(&a, &b, &with(5)).unwrap());
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert!(matches!(
            mean_interval(&[1.0], 0.95).unwrap_err(),
            MetricsError::TooFewPoints { needed: 2, .. }
        ));
        assert!(matches!(
            mean_interval(&[1.0, 2.0], 1.5).unwrap_err(),
            MetricsError::InvalidParameter { .. }
        ));
        assert!(matches!(
            mean_interval(&[1.0, f64::NAN], 0.95).unwrap_err(),
            MetricsError::NonFinite { .. }
        ));
        let boot = BootstrapOptions::default();
        assert!(matches!(
            paired_ratio(&[1.0, 2.0], &[1.0], 0.95).unwrap_err(),
            MetricsError::ShapeMismatch { .. }
        ));
        assert!(matches!(
            ratio_of_paired_means(&[1.0, 2.0], &[1.0], &boot).unwrap_err(),
            MetricsError::ShapeMismatch { .. }
        ));
        assert!(matches!(
            paired_ratio(&[1.0, 2.0], &[1.0, 0.0], 0.95).unwrap_err(),
            MetricsError::InvalidParameter { .. }
        ));
        assert!(matches!(
            ratio_of_means(&[1.0], &[], &boot).unwrap_err(),
            MetricsError::Empty { .. }
        ));
        assert!(matches!(
            permutation_trend(
                &[1.0, 1.0, 1.0],
                &[1.0, 2.0, 3.0],
                TrendStatistic::Slope,
                &PermutationOptions::default()
            )
            .unwrap_err(),
            MetricsError::Degenerate { .. }
        ));
    }
}
