//! DScribe's Gaussian-type-orbital radial basis and its analytic radial integrals.
//!
//! Basis: `g_nl(r) = Σ_k β_{l,nk} r^l exp(-α_{lk} r²)`, where the primitive decay widths are
//! chosen so that `r^l exp(-α r²)` falls to 10⁻³ at `a_k`, with `a_k` evenly spaced from 1 Å
//! to `r_cut` (`α_{lk} = -ln(10⁻³ / a_k^l) / a_k²`), and `β_l = S_l^{-1/2}` (Löwdin) with the
//! primitive overlaps `S_{l,ij} = ½ Γ(l + 3/2) (α_i + α_j)^{-(l+3/2)}`.
//!
//! Integral of one primitive against an atom's Gaussian `exp(-η |r - d|²)` and a real
//! spherical harmonic: because `r^l Y_lm` is harmonic, the Gaussian product theorem gives the
//! closed form
//! `∫ r^l e^{-αr²} Y_lm(r̂) e^{-η|r-d|²} d³r = π^{3/2} η^l / (α+η)^{l+3/2} · R_lm(d) · exp(-αη/(α+η) |d|²)`,
//! with `R_lm = r^l Y_lm` the regular solid harmonic. DScribe evaluates the same expression
//! (with the π^{3/2} split between its coefficients and its power-spectrum prefactor).

use crate::eigen::inverse_sqrt;
use crate::error::SoapError;
use std::f64::consts::PI;

/// Decay threshold of the primitive Gaussians at their reference radius.
const DECAY_THRESHOLD: f64 = 1e-3;

/// Precomputed GTO basis: primitive exponents, Löwdin weights and the integral constants.
#[derive(Debug, Clone)]
pub(crate) struct GtoBasis {
    n_max: usize,
    /// `α_{lk}`, index `l * n_max + k`.
    alphas: Vec<f64>,
    /// `β_{l,nk}`, index `(l * n_max + n) * n_max + k`.
    betas: Vec<f64>,
    /// `-αη/(α+η)`: the exponent multiplying `|d|²`, index `l * n_max + k`.
    pub(crate) decay: Vec<f64>,
    /// `β_{l,nk} π^{3/2} η^l / (α+η)^{l+3/2}`, index `(l * n_max + n) * n_max + k`.
    pub(crate) transform: Vec<f64>,
}

/// `Γ(l + 3/2) = (2l+1)!! √π / 2^{l+1}`.
fn gamma_half_integer(l: usize) -> f64 {
    let mut g = PI.sqrt() / 2.0; // Γ(3/2)
    for j in 1..=l {
        g *= j as f64 + 0.5;
    }
    g
}

/// numpy's `linspace(start, stop, n)`, reproduced exactly (step multiplication, exact end).
pub(crate) fn linspace(start: f64, stop: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (stop - start) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| i as f64 * step + start).collect();
    v[n - 1] = stop;
    v
}

impl GtoBasis {
    /// Basis for the given cutoff, sizes and atomic Gaussian exponent `eta`.
    pub(crate) fn new(r_cut: f64, n_max: usize, l_max: usize, eta: f64) -> Result<Self, SoapError> {
        let a = linspace(1.0, r_cut, n_max);
        let mut alphas = Vec::with_capacity((l_max + 1) * n_max);
        let mut betas = Vec::with_capacity((l_max + 1) * n_max * n_max);
        for l in 0..=l_max {
            let alpha_l: Vec<f64> = a
                .iter()
                .map(|&ak| -(DECAY_THRESHOLD / ak.powi(l as i32)).ln() / (ak * ak))
                .collect();
            let lf = l as f64 + 1.5;
            let g = 0.5 * gamma_half_integer(l);
            let overlap: Vec<f64> = (0..n_max * n_max)
                .map(|ij| g * (alpha_l[ij / n_max] + alpha_l[ij % n_max]).powf(-lf))
                .collect();
            let beta = inverse_sqrt(&overlap, n_max)
                .map_err(|min_eigenvalue| SoapError::IllConditionedBasis { l, min_eigenvalue })?;
            alphas.extend_from_slice(&alpha_l);
            betas.extend_from_slice(&beta);
        }
        let mut decay = vec![0.0; alphas.len()];
        let mut transform = vec![0.0; betas.len()];
        let pi32 = PI.powf(1.5);
        for l in 0..=l_max {
            for k in 0..n_max {
                let alpha = alphas[l * n_max + k];
                let gamma = alpha + eta;
                decay[l * n_max + k] = -alpha * eta / gamma;
                let scale = pi32 * (eta / gamma).powi(l as i32) * gamma.powf(-1.5);
                for n in 0..n_max {
                    let idx = (l * n_max + n) * n_max + k;
                    transform[idx] = betas[idx] * scale;
                }
            }
        }
        Ok(Self {
            n_max,
            alphas,
            betas,
            decay,
            transform,
        })
    }

    /// Radial basis function `g_nl(r)`.
    pub(crate) fn radial_function(&self, l: usize, n: usize, r: f64) -> f64 {
        let nm = self.n_max;
        (0..nm)
            .map(|k| {
                self.betas[(l * nm + n) * nm + k]
                    * r.powi(l as i32)
                    * (-self.alphas[l * nm + k] * r * r).exp()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_is_orthonormal() {
        let basis = GtoBasis::new(5.0, 6, 3, 2.0).unwrap();
        let (x, w) = crate::quadrature::gauss_legendre(200);
        // ∫_0^∞ g_nl g_n'l r² dr on [0, 12] Å (the basis is negligible beyond).
        let r_max = 12.0;
        for l in 0..=3 {
            for n1 in 0..6 {
                for n2 in 0..6 {
                    let s: f64 = x
                        .iter()
                        .zip(&w)
                        .map(|(&xi, &wi)| {
                            let r = 0.5 * r_max * (xi + 1.0);
                            0.5 * r_max
                                * wi
                                * r
                                * r
                                * basis.radial_function(l, n1, r)
                                * basis.radial_function(l, n2, r)
                        })
                        .sum();
                    let e = if n1 == n2 { 1.0 } else { 0.0 };
                    assert!((s - e).abs() < 1e-8, "l={l} n={n1},{n2}: {s}");
                }
            }
        }
    }

    #[test]
    fn linspace_matches_numpy_endpoints() {
        assert_eq!(linspace(1.0, 5.0, 1), vec![1.0]);
        let v = linspace(1.0, 5.0, 8);
        assert_eq!(v[0], 1.0);
        assert_eq!(v[7], 5.0);
        assert!((v[3] - (1.0 + 3.0 * 4.0 / 7.0)).abs() < 1e-15);
    }
}
