//! Real spherical harmonics of any degree in e3nn 0.6's convention, with their gradient.
//!
//! e3nn orders the components of degree `l` as `m = -l..=l` of the standard real harmonics
//! (no Condon–Shortley phase) taken about the **y** axis: the standard formulas are evaluated
//! at the permuted point `(x', y', z') = (z, x, y)`, so that `Y_1 ∝ (x, y, z)`.
//! Values come from the Cartesian recursion of the solid harmonics
//! `r^l P_l^m(cos θ) (cos mφ, sin mφ) = Q_l^m(z', r²) · (Re, Im)(x' + i y')^m`, with
//! `Q_m^m = (2m-1)!!`, `(l-m) Q_l^m = (2l-1) z' Q_{l-1}^m - (l+m-1) r² Q_{l-2}^m`,
//! differentiated alongside, so every degree costs the same few multiply-adds.

use rayon::prelude::*;

use crate::error::{E3Error, Result, check_finite, check_len};
use crate::irreps::Irreps;
use crate::scalar::Scalar;

/// Normalisation of the harmonics of each degree (e3nn's `normalization` argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShNormalization {
    /// `Σ_m Y_lm² = 2l+1` on the unit sphere (e3nn and NequIP default).
    Component,
    /// Orthonormal on the sphere: `∫ Y_lm Y_l'm' dΩ = δ`.
    Integral,
    /// `Σ_m Y_lm² = 1` on the unit sphere.
    Norm,
}

/// Spherical harmonics `Y_0 … Y_lmax` of 3-vectors, laid out as irreps `1x0e+1x1o+1x2e+…`.
#[derive(Clone, Debug)]
pub struct SphericalHarmonics {
    lmax: u32,
    normalize: bool,
    /// Prefactor of each output component, indexed `l² + l + m`.
    prefactor: Vec<f64>,
    /// `(2m-1)!!` for `m = 0..=lmax`.
    double_factorial: Vec<f64>,
}

/// Vectors processed per rayon task (amortises scheduling, keeps outputs contiguous).
const CHUNK: usize = 64;

impl SphericalHarmonics {
    /// Harmonics up to degree `lmax`; with `normalize` the input vectors are first scaled to unit
    /// length (what NequIP does for edge vectors), otherwise the solid harmonics `r^l Y_l` are
    /// returned.
    pub fn new(lmax: u32, normalize: bool, normalization: ShNormalization) -> Self {
        let dim = ((lmax + 1) * (lmax + 1)) as usize;
        let mut prefactor = vec![0.0; dim];
        for l in 0..=lmax as i64 {
            let degree_norm = match normalization {
                ShNormalization::Component => 1.0,
                ShNormalization::Integral => 1.0 / (4.0 * std::f64::consts::PI).sqrt(),
                ShNormalization::Norm => 1.0 / ((2 * l + 1) as f64).sqrt(),
            };
            for m in -l..=l {
                let am = m.unsigned_abs() as i64;
                // (l-|m|)!/(l+|m|)! as a product, exact enough for any practical l.
                let ratio: f64 = ((l - am + 1)..=(l + am)).map(|k| 1.0 / k as f64).product();
                let sqrt2 = if m == 0 {
                    1.0
                } else {
                    std::f64::consts::SQRT_2
                };
                prefactor[(l * l + l + m) as usize] =
                    degree_norm * sqrt2 * ((2 * l + 1) as f64 * ratio).sqrt();
            }
        }
        let mut double_factorial = vec![1.0; lmax as usize + 1];
        for m in 1..=lmax as usize {
            double_factorial[m] = double_factorial[m - 1] * (2 * m - 1) as f64;
        }
        Self {
            lmax,
            normalize,
            prefactor,
            double_factorial,
        }
    }

    /// Largest degree.
    pub fn lmax(&self) -> u32 {
        self.lmax
    }

    /// Number of output components per vector, `(lmax+1)²`.
    pub fn dim(&self) -> usize {
        self.prefactor.len()
    }

    /// Output irreps `1x0e+1x1o+…+1x{lmax}{parity}`.
    pub fn irreps(&self) -> Irreps {
        Irreps::spherical_harmonics(self.lmax)
    }

    /// Harmonics of `vectors` (`n×3`, row-major) into `out` (`n×dim`).
    pub fn forward<T: Scalar>(&self, vectors: &[T], out: &mut [T]) -> Result<()> {
        let n = self.check_inputs(vectors)?;
        check_len("spherical harmonics output", out.len(), n * self.dim())?;
        let dim = self.dim();
        out.par_chunks_mut(CHUNK * dim)
            .zip(vectors.par_chunks(CHUNK * 3))
            .for_each(|(out, vecs)| {
                for (o, v) in out.chunks_exact_mut(dim).zip(vecs.chunks_exact(3)) {
                    let (point, _) = self.unit_point([v[0], v[1], v[2]]);
                    self.evaluate::<T, false>(point, |k, y, _| o[k] = y);
                }
            });
        Ok(())
    }

    /// Allocating convenience wrapper of [`Self::forward`].
    pub fn compute<T: Scalar>(&self, vectors: &[T]) -> Result<Vec<T>> {
        let mut out = vec![T::zero(); vectors.len() / 3 * self.dim()];
        self.forward(vectors, &mut out)?;
        Ok(out)
    }

    /// Harmonics and their Jacobian `∂Y_k/∂v_a` (`n×dim×3`) with respect to the input vectors.
    pub fn forward_with_jacobian<T: Scalar>(
        &self,
        vectors: &[T],
        out: &mut [T],
        jacobian: &mut [T],
    ) -> Result<()> {
        let n = self.check_inputs(vectors)?;
        let dim = self.dim();
        check_len("spherical harmonics output", out.len(), n * dim)?;
        check_len("spherical harmonics jacobian", jacobian.len(), n * dim * 3)?;
        out.par_chunks_mut(CHUNK * dim)
            .zip(jacobian.par_chunks_mut(CHUNK * dim * 3))
            .zip(vectors.par_chunks(CHUNK * 3))
            .for_each(|((out, jac), vecs)| {
                for ((o, j), v) in out
                    .chunks_exact_mut(dim)
                    .zip(jac.chunks_exact_mut(dim * 3))
                    .zip(vecs.chunks_exact(3))
                {
                    let (point, inv_r) = self.unit_point([v[0], v[1], v[2]]);
                    self.evaluate::<T, true>(point, |k, y, g| {
                        o[k] = y;
                        let g = self.project(point, inv_r, g);
                        j[3 * k..3 * k + 3].copy_from_slice(&g);
                    });
                }
            });
        Ok(())
    }

    /// Vector–Jacobian product: `grad_vectors[i] = Σ_k grad_out[i,k] ∂Y_k/∂v_i` (overwrites).
    pub fn vjp<T: Scalar>(
        &self,
        vectors: &[T],
        grad_out: &[T],
        grad_vectors: &mut [T],
    ) -> Result<()> {
        let n = self.check_inputs(vectors)?;
        let dim = self.dim();
        check_len("spherical harmonics grad_out", grad_out.len(), n * dim)?;
        check_len(
            "spherical harmonics grad_vectors",
            grad_vectors.len(),
            n * 3,
        )?;
        grad_vectors
            .par_chunks_mut(CHUNK * 3)
            .zip(vectors.par_chunks(CHUNK * 3))
            .zip(grad_out.par_chunks(CHUNK * dim))
            .for_each(|((gv, vecs), gout)| {
                for ((gv, v), g) in gv
                    .chunks_exact_mut(3)
                    .zip(vecs.chunks_exact(3))
                    .zip(gout.chunks_exact(dim))
                {
                    let (point, inv_r) = self.unit_point([v[0], v[1], v[2]]);
                    let mut acc = [T::zero(); 3];
                    self.evaluate::<T, true>(point, |k, _, d| {
                        for a in 0..3 {
                            acc[a] += g[k] * d[a];
                        }
                    });
                    gv.copy_from_slice(&self.project(point, inv_r, acc));
                }
            });
        Ok(())
    }

    fn check_inputs<T: Scalar>(&self, vectors: &[T]) -> Result<usize> {
        if !vectors.len().is_multiple_of(3) {
            return Err(E3Error::ShapeMismatch {
                what: "vectors (n×3)",
                expected: vectors.len() / 3 * 3 + 3,
                got: vectors.len(),
            });
        }
        check_finite("vectors", vectors)?;
        if self.normalize
            && let Some(i) = vectors
                .chunks_exact(3)
                .position(|v| v.iter().all(|c| c.value() == 0.0))
        {
            return Err(E3Error::InvalidParameter {
                what: "vectors",
                reason: format!("vector {i} has zero length and cannot be normalised"),
            });
        }
        Ok(vectors.len() / 3)
    }

    /// The point the polynomial is evaluated at and `1/|v|` (1 when not normalising).
    #[inline]
    fn unit_point<T: Scalar>(&self, v: [T; 3]) -> ([T; 3], T) {
        if self.normalize {
            let inv_r = T::one() / (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            ([v[0] * inv_r, v[1] * inv_r, v[2] * inv_r], inv_r)
        } else {
            (v, T::one())
        }
    }

    /// Chain rule through `u = v/|v|`: `∂/∂v = (I - u uᵀ) ∂/∂u / |v|`.
    #[inline]
    fn project<T: Scalar>(&self, u: [T; 3], inv_r: T, g: [T; 3]) -> [T; 3] {
        if !self.normalize {
            return g;
        }
        let ug = u[0] * g[0] + u[1] * g[1] + u[2] * g[2];
        [
            (g[0] - u[0] * ug) * inv_r,
            (g[1] - u[1] * ug) * inv_r,
            (g[2] - u[2] * ug) * inv_r,
        ]
    }

    /// Evaluates every component at `p`, calling `sink(index, value, gradient)`; the gradient
    /// (with respect to `p`, as a polynomial) is only computed when `GRAD`.
    #[inline]
    fn evaluate<T: Scalar, const GRAD: bool>(
        &self,
        p: [T; 3],
        mut sink: impl FnMut(usize, T, [T; 3]),
    ) {
        let zero = T::zero();
        // Standard frame with the polar axis along e3nn's y.
        let (xs, ys, zs) = (p[2], p[0], p[1]);
        let r2 = xs * xs + ys * ys + zs * zs;
        let two = T::from_f64(2.0);
        let (mut c, mut s) = (T::one(), zero);
        let (mut c_prev, mut s_prev) = (zero, zero);
        for m in 0..=self.lmax as usize {
            if m > 0 {
                let c_new = xs * c - ys * s;
                let s_new = xs * s + ys * c;
                (c_prev, s_prev, c, s) = (c, s, c_new, s_new);
            }
            let mf = T::from_f64(m as f64);
            // d(C_m, S_m)/d(x', y')
            let (dc_dx, dc_dy, ds_dx, ds_dy) =
                (mf * c_prev, -mf * s_prev, mf * s_prev, mf * c_prev);
            let (mut q1, mut q1_dz, mut q1_dr2) = (zero, zero, zero); // Q_{l-2}
            let mut q = T::from_f64(self.double_factorial[m]); // Q_l
            let (mut q_dz, mut q_dr2) = (zero, zero);
            for l in m..=self.lmax as usize {
                if l > m {
                    let a = T::from_f64((2 * l - 1) as f64 / (l - m) as f64);
                    let b = T::from_f64((l + m - 1) as f64 / (l - m) as f64);
                    let q_new = a * zs * q - b * r2 * q1;
                    if GRAD {
                        let dz = a * (q + zs * q_dz) - b * r2 * q1_dz;
                        let dr2 = a * zs * q_dr2 - b * (q1 + r2 * q1_dr2);
                        (q1_dz, q1_dr2, q_dz, q_dr2) = (q_dz, q_dr2, dz, dr2);
                    }
                    (q1, q) = (q, q_new);
                }
                let base = l * l + l;
                let emit = |sink: &mut dyn FnMut(usize, T, [T; 3]),
                            k: usize,
                            ang: T,
                            da_dx: T,
                            da_dy: T| {
                    let n = T::from_f64(self.prefactor[k]);
                    let grad = if GRAD {
                        // (x', y', z') gradient, mapped back to e3nn's (x, y, z) = (y', z', x').
                        let gx = q_dr2 * two * xs * ang + q * da_dx;
                        let gy = q_dr2 * two * ys * ang + q * da_dy;
                        let gz = (q_dz + q_dr2 * two * zs) * ang;
                        [n * gy, n * gz, n * gx]
                    } else {
                        [zero; 3]
                    };
                    sink(k, n * q * ang, grad);
                };
                if m == 0 {
                    emit(&mut sink, base, T::one(), zero, zero);
                } else {
                    emit(&mut sink, base + m, c, dc_dx, dc_dy);
                    emit(&mut sink, base - m, s, ds_dx, ds_dy);
                }
            }
        }
    }
}
