//! Pearson and Spearman correlation with two-sided p-values and Fisher-z intervals (e.g. SOAP
//! similarity vs error).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{MetricsError, Result, check_finite};
use crate::inference::{Estimate, normal_quantile};

/// Which correlation coefficient.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationMethod {
    /// Pearson's product-moment correlation.
    #[default]
    Pearson,
    /// Spearman's rank correlation.
    Spearman,
}

impl CorrelationMethod {
    /// Variance factor c of Fisher's z = atanh(r): var z ≈ c / (n − 3); 1 for Pearson, 1.06
    /// for Spearman (Fieller, Hartley & Pearson 1957).
    fn z_variance_factor(self) -> f64 {
        match self {
            CorrelationMethod::Pearson => 1.0,
            CorrelationMethod::Spearman => 1.06,
        }
    }
}

/// A correlation coefficient with its two-sided p-value under "no correlation".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// Coefficient in [−1, 1].
    pub coefficient: f64,
    /// Two-sided p-value. Pearson: from t = r·√((n−2)/(1−r²)) with n − 2 degrees of freedom
    /// (exact on bivariate normal data). Spearman: exact over all n! orderings of the ranks
    /// for n ≤ [`EXACT_SPEARMAN_MAX_N`] (with n = 4, even ρ = ±1 has p = 1/12), else the
    /// large-sample t approximation, as in scipy.
    pub p_value: f64,
    /// Number of pairs.
    pub n: usize,
    /// Which coefficient (absent in old files: Pearson).
    #[serde(default)]
    pub method: CorrelationMethod,
}

impl Correlation {
    /// Fisher-z confidence interval of the coefficient at `level` (needs n ≥ 4; a coefficient
    /// of ±1 gives a zero-width interval).
    pub fn interval(&self, level: f64) -> Result<Estimate> {
        pooled_correlation(std::slice::from_ref(self), level)
    }
}

/// Fixed-effect pooled correlation of independent samples (e.g. one per test set): the mean
/// of Fisher's z weighted by (n − 3)/c, with its normal interval at `level`, back-transformed.
/// All parts must use the same method and have n ≥ 4.
pub fn pooled_correlation(parts: &[Correlation], level: f64) -> Result<Estimate> {
    let Some(first) = parts.first() else {
        return Err(MetricsError::Empty {
            what: "correlations to pool".into(),
        });
    };
    if let Some(i) = parts.iter().position(|c| c.method != first.method) {
        return Err(MetricsError::InvalidParameter {
            what: format!("correlation {i}"),
            reason: "pooled correlations must all be Pearson or all Spearman".into(),
        });
    }
    if let Some(c) = parts.iter().find(|c| c.n < 4) {
        return Err(MetricsError::TooFewPoints {
            what: "Fisher-z interval of a correlation".into(),
            needed: 4,
            got: c.n,
        });
    }
    if first.method == CorrelationMethod::Spearman
        && let Some(c) = parts.iter().find(|c| c.n < SPEARMAN_INTERVAL_MIN_N)
    {
        return Err(MetricsError::TooFewPoints {
            what: "Fisher-z interval of a Spearman correlation".into(),
            needed: SPEARMAN_INTERVAL_MIN_N,
            got: c.n,
        });
    }
    let z_quantile = normal_quantile(level)?;
    let n: usize = parts.iter().map(|c| c.n).sum();
    let exact = |r: f64| Estimate {
        value: r,
        lower: r,
        upper: r,
        level,
        n,
    };
    // A perfect correlation has infinite z and no sampling spread.
    if let [single] = parts
        && single.coefficient.abs() >= 1.0
    {
        return Ok(exact(single.coefficient));
    }
    let c = first.method.z_variance_factor();
    let weight = |p: &Correlation| (p.n - 3) as f64 / c;
    let total: f64 = parts.iter().map(weight).sum();
    // Coefficients of ±1 are pulled just inside so their z stays finite.
    let bound = 1.0 - 1e-12;
    let z: f64 = parts
        .iter()
        .map(|p| weight(p) * p.coefficient.clamp(-bound, bound).atanh())
        .sum::<f64>()
        / total;
    let half = z_quantile / total.sqrt();
    Ok(Estimate {
        value: z.tanh(),
        lower: (z - half).tanh(),
        upper: (z + half).tanh(),
        level,
        n,
    })
}

/// Largest n whose Spearman p-value is computed exactly, by enumerating all n! orderings.
pub const EXACT_SPEARMAN_MAX_N: usize = 9;

/// Smallest n with a Fisher-z interval for Spearman's ρ: its variance approximation
/// (1.06 / (n − 3), Fieller, Hartley & Pearson 1957) is for n ≥ 10.
pub const SPEARMAN_INTERVAL_MIN_N: usize = 10;

/// Pearson's product-moment correlation of `x` and `y`.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Correlation> {
    check_pairs(x, y)?;
    let r = pearson_coefficient(x, y)?;
    Ok(with_p_value(r, x.len(), CorrelationMethod::Pearson))
}

/// Spearman's rank correlation (Pearson on ranks; ties get their average rank).
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Correlation> {
    check_pairs(x, y)?;
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    let r = pearson_coefficient(&rx, &ry)?;
    let mut c = with_p_value(r, x.len(), CorrelationMethod::Spearman);
    if x.len() <= EXACT_SPEARMAN_MAX_N {
        c.p_value = exact_rank_p_value(&rx, &ry, r);
    }
    Ok(c)
}

/// Two-sided permutation p-value of a rank correlation: the share of all orderings of `ry`
/// whose |ρ| is at least |`r`| (ties keep their average ranks, so this is exact with ties).
fn exact_rank_p_value(rx: &[f64], ry: &[f64], r: f64) -> f64 {
    let n = rx.len();
    let mean = (n as f64 + 1.0) / 2.0;
    let cx: Vec<f64> = rx.iter().map(|v| v - mean).collect();
    let cy: Vec<f64> = ry.iter().map(|v| v - mean).collect();
    let sxx: f64 = cx.iter().map(|v| v * v).sum();
    let syy: f64 = cy.iter().map(|v| v * v).sum();
    let scale = (sxx * syy).sqrt();
    let threshold = r.abs() * scale - 1e-9 * scale.max(1.0);
    // Heap's algorithm over the positions of y's ranks.
    let mut perm = cy.clone();
    let mut c = vec![0usize; n];
    let (mut extreme, mut total) = (0u64, 0u64);
    let mut count = |p: &[f64]| {
        let dot: f64 = cx.iter().zip(p).map(|(a, b)| a * b).sum();
        total += 1;
        if dot.abs() >= threshold {
            extreme += 1;
        }
    };
    count(&perm);
    let mut i = 0;
    while i < n {
        if c[i] < i {
            if i % 2 == 0 {
                perm.swap(0, i);
            } else {
                perm.swap(c[i], i);
            }
            count(&perm);
            c[i] += 1;
            i = 0;
        } else {
            c[i] = 0;
            i += 1;
        }
    }
    extreme as f64 / total as f64
}

/// Ranks 1..=n of `values`, tied values sharing the mean of their ranks.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) share the mean rank of (start+1)..=end.
        let rank = (start + end + 1) as f64 / 2.0;
        order[start..end].iter().for_each(|&i| ranks[i] = rank);
        start = end;
    }
    ranks
}

pub(crate) fn check_pairs(x: &[f64], y: &[f64]) -> Result<()> {
    if x.len() != y.len() {
        return Err(MetricsError::ShapeMismatch {
            what: "second variable".into(),
            expected: vec![x.len()],
            got: vec![y.len()],
        });
    }
    if x.len() < 3 {
        return Err(MetricsError::TooFewPoints {
            what: "correlation with a p-value".into(),
            needed: 3,
            got: x.len(),
        });
    }
    check_finite("first variable", x, |i| format!("pair {i}"))?;
    check_finite("second variable", y, |i| format!("pair {i}"))
}

fn pearson_coefficient(x: &[f64], y: &[f64]) -> Result<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    for (what, s) in [("first variable", sxx), ("second variable", syy)] {
        if s == 0.0 {
            return Err(MetricsError::Degenerate {
                what: what.into(),
                reason: "correlation is undefined without variation".into(),
            });
        }
    }
    Ok((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

fn with_p_value(r: f64, n: usize, method: CorrelationMethod) -> Correlation {
    let dof = (n - 2) as f64;
    let p_value = if r.abs() >= 1.0 {
        0.0
    } else {
        let t = r * (dof / ((1.0 - r) * (1.0 + r))).sqrt();
        // dof ≥ 1 is guaranteed by check_pairs, so the distribution exists.
        let student = StudentsT::new(0.0, 1.0, dof).expect("n >= 3 gives dof >= 1");
        (2.0 * student.sf(t.abs())).min(1.0)
    };
    Correlation {
        coefficient: r,
        p_value,
        n,
        method,
    }
}
