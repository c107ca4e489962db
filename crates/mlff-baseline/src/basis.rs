//! The radial basis of the pair terms: NequIP's Bessel functions times the polynomial cutoff
//! envelope, so energies and forces go smoothly to zero at the cutoff.

use mlff_e3::PolynomialCutoff;
use std::f64::consts::PI;

use crate::error::{BaselineError, Result};

/// `φ_n(r) = sin(nπx)/(πx) · u_p(x)` with `x = r / r_cut`, `n = 1..=n_basis`.
#[derive(Debug, Clone, Copy)]
pub struct RadialBasis {
    n_basis: usize,
    r_cut: f64,
    envelope: PolynomialCutoff,
}

impl RadialBasis {
    /// A basis of `n_basis` functions vanishing (with two derivatives) at `r_cut` (Å).
    pub fn new(n_basis: usize, r_cut: f64, envelope_p: u32) -> Result<Self> {
        if n_basis == 0 {
            return Err(BaselineError::InvalidParameter {
                what: "n_basis",
                value: n_basis.to_string(),
                reason: "at least one basis function is needed",
            });
        }
        if !(r_cut.is_finite() && r_cut > 0.0) {
            return Err(BaselineError::InvalidParameter {
                what: "r_cut",
                value: r_cut.to_string(),
                reason: "must be finite and > 0 Å",
            });
        }
        let envelope =
            PolynomialCutoff::new(envelope_p).map_err(|_| BaselineError::InvalidParameter {
                what: "envelope_p",
                value: envelope_p.to_string(),
                reason: "must be ≥ 2",
            })?;
        Ok(Self {
            n_basis,
            r_cut,
            envelope,
        })
    }

    /// Number of functions.
    pub fn n_basis(&self) -> usize {
        self.n_basis
    }

    /// Cutoff radius, Å.
    pub fn r_cut(&self) -> f64 {
        self.r_cut
    }

    /// Writes `φ_n(r)` into `phi` and `dφ_n/dr` into `dphi` (both `n_basis` long); `r > 0`.
    ///
    /// Cost: one sin/cos pair per function (by the angle-addition recurrence, not per call).
    #[inline]
    pub fn eval(&self, r: f64, phi: &mut [f64], dphi: &mut [f64]) {
        let x = r / self.r_cut;
        let (u, du_dx) = self.envelope.eval(x);
        if u == 0.0 && du_dx == 0.0 {
            phi.fill(0.0);
            dphi.fill(0.0);
            return;
        }
        let pix = PI * x;
        let (s1, c1) = pix.sin_cos();
        // sin(nθ), cos(nθ) by the recurrence of the angle-addition formulas.
        let (mut s, mut c) = (s1, c1);
        for (n, (p, dp)) in phi.iter_mut().zip(dphi.iter_mut()).enumerate() {
            let k = (n + 1) as f64;
            let b = s / pix;
            let db_dx = (k * PI * c * pix - PI * s) / (pix * pix);
            *p = b * u;
            *dp = (db_dx * u + b * du_dx) / self.r_cut;
            (s, c) = (s * c1 + c * s1, c * c1 - s * s1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivative_matches_central_differences() {
        let basis = RadialBasis::new(8, 5.0, 6).unwrap();
        let (mut p, mut d) = (vec![0.0; 8], vec![0.0; 8]);
        let (mut pp, mut pm, mut scratch) = (vec![0.0; 8], vec![0.0; 8], vec![0.0; 8]);
        for r in [0.7, 1.1, 1.5, 2.4, 3.9, 4.8] {
            basis.eval(r, &mut p, &mut d);
            let h = 1e-5;
            basis.eval(r + h, &mut pp, &mut scratch);
            basis.eval(r - h, &mut pm, &mut scratch);
            for n in 0..8 {
                let fd = (pp[n] - pm[n]) / (2.0 * h);
                let scale = d[n].abs().max(1e-3);
                assert!(
                    (fd - d[n]).abs() / scale < 1e-6,
                    "n {n} r {r}: {fd} vs {}",
                    d[n]
                );
            }
        }
    }

    #[test]
    fn vanishes_beyond_the_cutoff_and_matches_sinc_inside() {
        let basis = RadialBasis::new(3, 4.0, 6).unwrap();
        let (mut p, mut d) = (vec![1.0; 3], vec![1.0; 3]);
        basis.eval(4.5, &mut p, &mut d);
        assert_eq!((p, d), (vec![0.0; 3], vec![0.0; 3]));
        let (mut p, mut d) = (vec![0.0; 3], vec![0.0; 3]);
        basis.eval(1.0, &mut p, &mut d);
        let x: f64 = 0.25;
        let u = 1.0 - 28.0 * x.powi(6) + 48.0 * x.powi(7) - 21.0 * x.powi(8);
        for (n, value) in p.iter().enumerate() {
            let k = (n + 1) as f64;
            let expected = (k * PI * x).sin() / (PI * x) * u;
            assert!((value - expected).abs() < 1e-14);
        }
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(RadialBasis::new(0, 5.0, 6).is_err());
        assert!(RadialBasis::new(4, f64::NAN, 6).is_err());
        assert!(RadialBasis::new(4, 5.0, 1).is_err());
    }
}
