//! Learning-curve fit: error ≈ a · n^b, fitted as a straight line in log–log space.

use crate::error::{MetricsError, Result};
use crate::inference::t_quantile;
use serde::{Deserialize, Serialize};

/// Ordinary least-squares fit of log10(error) = intercept + slope · log10(training size).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerLawFit {
    /// Log–log slope b (e.g. −0.5: error halves when data grows 4×).
    pub slope: f64,
    /// Standard error of the slope (from the residual variance, n − 2 degrees of freedom).
    pub slope_stderr: f64,
    /// log10 of the prefactor a.
    pub intercept: f64,
    /// Standard error of the intercept.
    pub intercept_stderr: f64,
    /// Coefficient of determination in log–log space.
    pub r_squared: f64,
    /// Points fitted.
    pub points: usize,
}

impl PowerLawFit {
    /// Fitted error at training size `n`.
    pub fn predict(&self, n: f64) -> f64 {
        10f64.powf(self.intercept + self.slope * n.log10())
    }

    /// Two-sided confidence interval of the slope at `confidence` (Student t, n − 2 dof).
    pub fn slope_interval(&self, confidence: f64) -> Result<(f64, f64)> {
        let t = t_quantile(confidence, (self.points - 2) as f64)?;
        Ok((
            self.slope - t * self.slope_stderr,
            self.slope + t * self.slope_stderr,
        ))
    }
}

/// Fits error ≈ a · n^b to (training size, error) points; needs ≥ 3 points with at least two
/// distinct sizes, all sizes and errors positive and finite.
pub fn fit_power_law(sizes: &[f64], errors: &[f64]) -> Result<PowerLawFit> {
    if sizes.len() != errors.len() {
        return Err(MetricsError::ShapeMismatch {
            what: "learning-curve errors".into(),
            expected: vec![sizes.len()],
            got: vec![errors.len()],
        });
    }
    if sizes.len() < 3 {
        return Err(MetricsError::TooFewPoints {
            what: "learning-curve fit with slope uncertainty".into(),
            needed: 3,
            got: sizes.len(),
        });
    }
    for (what, values) in [("training size", sizes), ("error", errors)] {
        if let Some(i) = values.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(MetricsError::InvalidParameter {
                what: format!("learning-curve {what} at point {i}"),
                reason: format!(
                    "{} must be finite and positive for a log–log fit",
                    values[i]
                ),
            });
        }
    }
    let x: Vec<f64> = sizes.iter().map(|v| v.log10()).collect();
    let y: Vec<f64> = errors.iter().map(|v| v.log10()).collect();
    let line = least_squares(&x, &y, "learning-curve training sizes")?;
    Ok(PowerLawFit {
        slope: line.slope,
        slope_stderr: line.slope_stderr,
        intercept: line.intercept,
        intercept_stderr: line.intercept_stderr,
        r_squared: line.r_squared,
        points: x.len(),
    })
}

/// An ordinary least-squares line y = intercept + slope · x with standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LineFit {
    /// Slope.
    pub slope: f64,
    /// Standard error of the slope (residual variance with n − 2 degrees of freedom).
    pub slope_stderr: f64,
    /// Intercept.
    pub intercept: f64,
    /// Standard error of the intercept.
    pub intercept_stderr: f64,
    /// Coefficient of determination.
    pub r_squared: f64,
}

/// Least-squares line through (x, y) (≥ 3 finite points, checked by the caller); `what` names
/// x in the error when all x are equal.
pub(crate) fn least_squares(x: &[f64], y: &[f64], what: &str) -> Result<LineFit> {
    let m = x.len() as f64;
    let (mean_x, mean_y) = (x.iter().sum::<f64>() / m, y.iter().sum::<f64>() / m);
    let sxx: f64 = x.iter().map(|v| (v - mean_x).powi(2)).sum();
    let syy: f64 = y.iter().map(|v| (v - mean_y).powi(2)).sum();
    let sxy: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (a - mean_x) * (b - mean_y))
        .sum();
    if sxx == 0.0 {
        return Err(MetricsError::Degenerate {
            what: what.into(),
            reason: "a slope needs at least two distinct values".into(),
        });
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let residual: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - intercept - slope * a).powi(2))
        .sum();
    let variance = residual / (m - 2.0);
    let slope_stderr = (variance / sxx).sqrt();
    let sum_x2: f64 = x.iter().map(|v| v * v).sum();
    Ok(LineFit {
        slope,
        slope_stderr,
        intercept,
        intercept_stderr: slope_stderr * (sum_x2 / m).sqrt(),
        r_squared: if syy == 0.0 {
            1.0
        } else {
            sxy * sxy / (sxx * syy)
        },
    })
}
