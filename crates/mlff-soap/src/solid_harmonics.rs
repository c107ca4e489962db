//! Real regular solid harmonics `R_lm(x, y, z) = r^l Y_lm(r̂)` with orthonormal real `Y_lm`.
//!
//! Computed on Cartesian coordinates by the associated-Legendre recursion in `z` and `r²`
//! together with `(x + iy)^m`, so there is no division by `r`, no trigonometry, and the values
//! at the origin are exact (1/√(4π) for l = 0, zero otherwise). The sign convention (no
//! Condon–Shortley phase) is irrelevant for the power spectrum, which sums over m.
//! Layout: index `l² + l + m` for `m = -l..=l` (sine terms at negative m).

use std::f64::consts::PI;

/// Precomputed recursion and normalisation constants up to a fixed `l_max`.
#[derive(Debug, Clone)]
pub(crate) struct SolidHarmonics {
    l_max: usize,
    /// Normalisation `N_lm` (including √2 for m > 0), index `l(l+1)/2 + m`.
    norm: Vec<f64>,
    /// `(2l-1)/(l-m)` for the upward recursion, same index.
    rec_a: Vec<f64>,
    /// `(l+m-1)/(l-m)`, same index.
    rec_b: Vec<f64>,
}

/// Triangular index of (l, m ≥ 0).
#[inline]
fn tri(l: usize, m: usize) -> usize {
    l * (l + 1) / 2 + m
}

impl SolidHarmonics {
    /// Tables for all degrees `0..=l_max`.
    pub(crate) fn new(l_max: usize) -> Self {
        let size = tri(l_max + 1, 0);
        let mut norm = vec![0.0; size];
        let mut rec_a = vec![0.0; size];
        let mut rec_b = vec![0.0; size];
        for l in 0..=l_max {
            for m in 0..=l {
                // (l-m)!/(l+m)! as a product, stable up to l = 20.
                let ratio: f64 = ((l - m + 1)..=(l + m)).map(|k| 1.0 / k as f64).product();
                let base = ((2 * l + 1) as f64 / (4.0 * PI) * ratio).sqrt();
                norm[tri(l, m)] = if m == 0 { base } else { base * 2f64.sqrt() };
                if l > m {
                    rec_a[tri(l, m)] = (2 * l - 1) as f64 / (l - m) as f64;
                    rec_b[tri(l, m)] = (l + m - 1) as f64 / (l - m) as f64;
                }
            }
        }
        Self {
            l_max,
            norm,
            rec_a,
            rec_b,
        }
    }

    /// Number of values written by [`Self::compute`]: `(l_max + 1)²`.
    pub(crate) fn len(&self) -> usize {
        (self.l_max + 1) * (self.l_max + 1)
    }

    /// Writes `R_lm(d)` for all l ≤ l_max into `out` (length ≥ [`Self::len`]).
    pub(crate) fn compute(&self, d: [f64; 3], out: &mut [f64]) {
        let [x, y, z] = d;
        let r2 = x * x + y * y + z * z;
        let l_max = self.l_max;
        // c, s = Re, Im of (x + iy)^m; pmm = (2m-1)!! (the Legendre seed without its phase).
        let (mut c, mut s) = (1.0, 0.0);
        let mut pmm = 1.0;
        for m in 0..=l_max {
            // Q_l^m for l = m, m+1, ... by the three-term recursion.
            let mut q_prev = 0.0;
            let mut q = pmm;
            for l in m..=l_max {
                if l == m + 1 {
                    q_prev = q;
                    q = (2 * m + 1) as f64 * z * pmm;
                } else if l > m + 1 {
                    let k = tri(l, m);
                    let next = self.rec_a[k] * z * q - self.rec_b[k] * r2 * q_prev;
                    q_prev = q;
                    q = next;
                }
                let nq = self.norm[tri(l, m)] * q;
                let centre = l * l + l;
                if m == 0 {
                    out[centre] = nq;
                } else {
                    out[centre + m] = nq * c;
                    out[centre - m] = nq * s;
                }
            }
            let c_next = x * c - y * s;
            s = x * s + y * c;
            c = c_next;
            pmm *= (2 * m + 1) as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gauss–Legendre in cos θ times a uniform grid in φ integrates products of degree ≤ 2·l_max
    /// exactly, so the orthonormality check is exact up to rounding.
    #[test]
    fn harmonics_are_orthonormal_on_the_sphere() {
        let l_max = 8;
        let sh = SolidHarmonics::new(l_max);
        let (nodes, weights) = crate::quadrature::gauss_legendre(l_max + 2);
        let n_phi = 2 * l_max + 3;
        let n = sh.len();
        let mut gram = vec![0.0; n * n];
        let mut buf = vec![0.0; n];
        for (&ct, &w) in nodes.iter().zip(&weights) {
            let st = (1.0 - ct * ct).sqrt();
            for k in 0..n_phi {
                let phi = 2.0 * PI * k as f64 / n_phi as f64;
                sh.compute([st * phi.cos(), st * phi.sin(), ct], &mut buf);
                let wt = w * 2.0 * PI / n_phi as f64;
                for i in 0..n {
                    for j in 0..n {
                        gram[i * n + j] += wt * buf[i] * buf[j];
                    }
                }
            }
        }
        for i in 0..n {
            for j in 0..n {
                let e = if i == j { 1.0 } else { 0.0 };
                assert!((gram[i * n + j] - e).abs() < 1e-12, "({i},{j})");
            }
        }
    }

    #[test]
    fn degree_two_matches_closed_form() {
        let sh = SolidHarmonics::new(2);
        let mut out = vec![0.0; 9];
        let d = [0.3, -1.2, 0.7];
        sh.compute(d, &mut out);
        let [x, y, z] = d;
        let c = 0.5 * (15.0 / PI).sqrt();
        assert!((out[4] - c * x * y).abs() < 1e-14);
        assert!((out[5] - c * y * z).abs() < 1e-14);
        assert!((out[7] - c * x * z).abs() < 1e-14);
        let c20 = 0.25 * (5.0 / PI).sqrt();
        assert!((out[6] - c20 * (2.0 * z * z - x * x - y * y)).abs() < 1e-14);
        assert!((out[8] - 0.5 * c * (x * x - y * y)).abs() < 1e-14);
        assert!((out[0] - 0.5 / PI.sqrt()).abs() < 1e-15);
    }
}
