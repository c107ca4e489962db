//! DScribe's polynomial radial basis, integrated numerically as DScribe does.
//!
//! Basis: `g_n(r) = Σ_k β_{nk} (r_cut - r)^{k+2}` (k = 1..n_max) on `[0, r_cut]`, `β = S^{-1/2}`
//! with the analytic overlaps `S_ij = 2 r_cut^{7+i+j} / ((5+i+j)(6+i+j)(7+i+j))`.
//!
//! The angular part of an atom's Gaussian is integrated analytically: at radius `r` the
//! projection of `exp(-η|r - d|²)` on `Y_lm` is `4π e^{-η(r² + |d|²)} i_l(2η r |d|) Y_lm(d̂)`
//! with `i_l` the modified spherical Bessel function of the first kind, evaluated with the
//! upward recursion `i_l = i_{l-2} - (2l-1)/x · i_{l-1}`. The radial integral uses the
//! 100-point Gauss–Legendre rule on `[0, r_cut]`. To reproduce DScribe numerically this
//! module keeps its three numerical conventions: negative `i_l` values produced by the
//! unstable recursion are clamped to zero for l ≥ 2; `exp(-η(r ∓ |d|)²)` is set to zero when
//! `r ∓ |d| > 5`; atoms within 10⁻⁶ Å of the centre contribute only to l = 0.

use crate::eigen::inverse_sqrt;
use crate::error::SoapError;
use crate::quadrature::gauss_legendre;
use std::f64::consts::PI;

/// Number of radial quadrature points (DScribe's fixed grid).
const RADIAL_POINTS: usize = 100;
/// DScribe drops exponentials whose argument `r ∓ |d|` exceeds this (Å).
const EXP_ARGUMENT_LIMIT: f64 = 5.0;

/// Precomputed polynomial basis on the radial quadrature grid.
#[derive(Debug, Clone)]
pub(crate) struct PolynomialBasis {
    pub(crate) eta: f64,
    r_cut: f64,
    /// Löwdin weights `β_{nk}`, row-major.
    betas: Vec<f64>,
    /// Quadrature radii in Å.
    pub(crate) radii: Vec<f64>,
    /// `2π r_cut · w_q r_q² g_n(r_q)`: quadrature weight, Jacobian, r², basis value and the
    /// constant of the angular integral (4π · r_cut/2), index `n * RADIAL_POINTS + q`.
    pub(crate) weighted_basis: Vec<f64>,
}

impl PolynomialBasis {
    /// Basis for the given cutoff and size, with atomic Gaussian exponent `eta`.
    pub(crate) fn new(r_cut: f64, n_max: usize, eta: f64) -> Result<Self, SoapError> {
        let overlap: Vec<f64> = (0..n_max * n_max)
            .map(|ij| {
                let s = (ij / n_max + ij % n_max + 2) as f64; // i + j with 1-based i, j
                2.0 * r_cut.powf(7.0 + s) / ((5.0 + s) * (6.0 + s) * (7.0 + s))
            })
            .collect();
        let beta = inverse_sqrt(&overlap, n_max).map_err(|min_eigenvalue| {
            SoapError::IllConditionedBasis {
                l: 0,
                min_eigenvalue,
            }
        })?;
        let (nodes, weights) = gauss_legendre(RADIAL_POINTS);
        let radii: Vec<f64> = nodes.iter().map(|x| r_cut * 0.5 * (x + 1.0)).collect();
        let mut weighted_basis = vec![0.0; n_max * RADIAL_POINTS];
        for n in 0..n_max {
            for (q, (&r, &w)) in radii.iter().zip(&weights).enumerate() {
                let base = r_cut - r.clamp(0.0, r_cut);
                let g: f64 = (0..n_max)
                    .map(|k| beta[n * n_max + k] * base.powi(k as i32 + 3))
                    .sum();
                weighted_basis[n * RADIAL_POINTS + q] = 2.0 * PI * r_cut * w * r * r * g;
            }
        }
        Ok(Self {
            eta,
            r_cut,
            betas: beta,
            radii,
            weighted_basis,
        })
    }

    /// Radial basis function `g_n(r)` (zero beyond the cutoff).
    pub(crate) fn radial_function(&self, n: usize, r: f64) -> f64 {
        let n_max = self.n_max();
        let base = self.r_cut - r.clamp(0.0, self.r_cut);
        (0..n_max)
            .map(|k| self.betas[n * n_max + k] * base.powi(k as i32 + 3))
            .sum()
    }

    /// Number of radial functions.
    pub(crate) fn n_max(&self) -> usize {
        self.weighted_basis.len() / RADIAL_POINTS
    }

    /// Radial integrals `h[n * (l_max+1) + l]` of an atom at distance `r_atom > 0` (to be
    /// multiplied by `Y_lm(d̂)`). `bessel` is scratch of length `(l_max+1) * RADIAL_POINTS`.
    pub(crate) fn radial_integrals(
        &self,
        r_atom: f64,
        l_max: usize,
        bessel: &mut [f64],
        h: &mut [f64],
    ) {
        let eta = self.eta;
        let nl = l_max + 1;
        for (q, &r) in self.radii.iter().enumerate() {
            let inv_2x = 0.25 / (eta * r_atom * r);
            let diff = r - r_atom;
            let sum = r + r_atom;
            let minus = if diff > EXP_ARGUMENT_LIMIT {
                0.0
            } else {
                (-eta * diff * diff).exp()
            };
            let plus = if sum > EXP_ARGUMENT_LIMIT {
                0.0
            } else {
                (-eta * sum * sum).exp()
            };
            let f0 = inv_2x * (minus - plus);
            bessel[q] = f0;
            if l_max >= 1 {
                bessel[RADIAL_POINTS + q] = inv_2x * (minus + plus - 2.0 * f0);
            }
            for l in 2..=l_max {
                let v = bessel[(l - 2) * RADIAL_POINTS + q]
                    - inv_2x * (4 * l - 2) as f64 * bessel[(l - 1) * RADIAL_POINTS + q];
                bessel[l * RADIAL_POINTS + q] = v.max(0.0);
            }
        }
        for n in 0..self.n_max() {
            let gw = &self.weighted_basis[n * RADIAL_POINTS..(n + 1) * RADIAL_POINTS];
            for l in 0..nl {
                let b = &bessel[l * RADIAL_POINTS..(l + 1) * RADIAL_POINTS];
                h[n * nl + l] = gw.iter().zip(b).map(|(g, b)| g * b).sum();
            }
        }
    }

    /// l = 0 radial integral of an atom sitting on the centre, per n (times Y_00 by caller).
    pub(crate) fn centre_integral(&self, n: usize) -> f64 {
        let gw = &self.weighted_basis[n * RADIAL_POINTS..(n + 1) * RADIAL_POINTS];
        gw.iter()
            .zip(&self.radii)
            .map(|(g, r)| g * (-self.eta * r * r).exp())
            .sum()
    }
}
