//! Radial edge embedding of NequIP 0.19: Bessel basis times polynomial cutoff envelope.
//!
//! With `x = r / r_max` and frequencies `w_n` (default `1..=N`, optionally trainable),
//! `e_n(r) = sin(π w_n x)/(π x) · u_p(x)` (NequIP's `sinc(w x)·w`), where the DimeNet envelope
//! `u_p(x) = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^{p+1} - p(p+1)/2 x^{p+2}` for `x < 1`, else 0.

use rayon::prelude::*;

use crate::error::{E3Error, Result, check_finite, check_len};
use crate::reduction::sum_partials;
use crate::scalar::Scalar;

/// The polynomial cutoff envelope `u_p(x)` with integer power `p ≥ 2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolynomialCutoff {
    p: u32,
}

impl PolynomialCutoff {
    /// Envelope with power `p` (NequIP default 6).
    pub fn new(p: u32) -> Result<Self> {
        if p < 2 {
            return Err(E3Error::InvalidParameter {
                what: "polynomial cutoff p",
                reason: format!("p = {p}, but the envelope needs p >= 2"),
            });
        }
        Ok(Self { p })
    }
    /// The power `p`.
    pub fn p(&self) -> u32 {
        self.p
    }
    /// `u_p(x)` and `u_p'(x)` at the reduced distance `x = r/r_max`.
    #[inline]
    pub fn eval<T: Scalar>(&self, x: T) -> (T, T) {
        if x.value() >= 1.0 {
            return (T::zero(), T::zero());
        }
        let p = f64::from(self.p);
        let pi = self.p as i32;
        let xp = x.powi(pi);
        let c = |v: f64| T::from_f64(v);
        let u = T::one() - c((p + 1.0) * (p + 2.0) / 2.0) * xp + c(p * (p + 2.0)) * xp * x
            - c(p * (p + 1.0) / 2.0) * xp * x * x;
        // u' = -p(p+1)(p+2)/2 x^{p-1} (1-x)²
        let one_minus = T::one() - x;
        let du = -c(p * (p + 1.0) * (p + 2.0) / 2.0) * x.powi(pi - 1) * one_minus * one_minus;
        (u, du)
    }
}

/// Bessel radial basis with cutoff envelope (NequIP's `BesselEdgeLengthEncoding`).
#[derive(Clone, Debug)]
pub struct BesselEmbedding {
    num_basis: usize,
    r_max: f64,
    cutoff: PolynomialCutoff,
}

/// Edges per rayon task.
const CHUNK: usize = 256;

impl BesselEmbedding {
    /// `num_basis` functions on `(0, r_max]` with envelope power `p`.
    pub fn new(num_basis: usize, r_max: f64, p: u32) -> Result<Self> {
        if num_basis == 0 {
            return Err(E3Error::InvalidParameter {
                what: "num_basis",
                reason: "at least one basis function is needed".into(),
            });
        }
        if !(r_max.is_finite() && r_max > 0.0) {
            return Err(E3Error::InvalidParameter {
                what: "r_max",
                reason: format!("{r_max} must be finite and positive"),
            });
        }
        Ok(Self {
            num_basis,
            r_max,
            cutoff: PolynomialCutoff::new(p)?,
        })
    }
    /// Number of basis functions.
    pub fn num_basis(&self) -> usize {
        self.num_basis
    }
    /// Cutoff radius.
    pub fn r_max(&self) -> f64 {
        self.r_max
    }
    /// The default (NequIP) frequencies `1, 2, …, N`.
    pub fn default_frequencies<T: Scalar>(&self) -> Vec<T> {
        (1..=self.num_basis)
            .map(|n| T::from_f64(n as f64))
            .collect()
    }

    fn check<T: Scalar>(&self, lengths: &[T], frequencies: &[T]) -> Result<()> {
        check_len("bessel frequencies", frequencies.len(), self.num_basis)?;
        check_finite("edge lengths", lengths)?;
        check_finite("bessel frequencies", frequencies)?;
        if let Some(i) = lengths.iter().position(|r| r.value() <= 0.0) {
            return Err(E3Error::InvalidParameter {
                what: "edge lengths",
                reason: format!("length {i} is {} but must be positive", lengths[i].value()),
            });
        }
        Ok(())
    }

    /// Embedding of every edge length (`out`: `edges × num_basis`, overwritten).
    pub fn forward<T: Scalar>(
        &self,
        lengths: &[T],
        frequencies: &[T],
        out: &mut [T],
    ) -> Result<()> {
        self.check(lengths, frequencies)?;
        let nb = self.num_basis;
        check_len("bessel out", out.len(), lengths.len() * nb)?;
        out.par_chunks_mut(CHUNK * nb)
            .zip(lengths.par_chunks(CHUNK))
            .for_each(|(out, r)| {
                for (o, &r) in out.chunks_exact_mut(nb).zip(r) {
                    let x = r / T::from_f64(self.r_max);
                    let (u, _) = self.cutoff.eval(x);
                    let pix = T::from_f64(std::f64::consts::PI) * x;
                    for (on, &w) in o.iter_mut().zip(frequencies) {
                        *on = (w * pix).sin() / pix * u;
                    }
                }
            });
        Ok(())
    }

    /// Allocating convenience wrapper of [`Self::forward`].
    pub fn compute<T: Scalar>(&self, lengths: &[T], frequencies: &[T]) -> Result<Vec<T>> {
        let mut out = vec![T::zero(); lengths.len() * self.num_basis];
        self.forward(lengths, frequencies, &mut out)?;
        Ok(out)
    }

    /// VJPs: overwrites `grad_lengths` (`edges`) and `grad_frequencies` (`num_basis`, summed).
    pub fn backward<T: Scalar>(
        &self,
        lengths: &[T],
        frequencies: &[T],
        grad_out: &[T],
        grad_lengths: &mut [T],
        grad_frequencies: &mut [T],
    ) -> Result<()> {
        self.check(lengths, frequencies)?;
        let nb = self.num_basis;
        check_len("bessel grad_out", grad_out.len(), lengths.len() * nb)?;
        check_len("bessel grad_lengths", grad_lengths.len(), lengths.len())?;
        check_len("bessel grad_frequencies", grad_frequencies.len(), nb)?;
        let inv_rmax = T::from_f64(1.0 / self.r_max);
        let pi = T::from_f64(std::f64::consts::PI);
        let total = sum_partials(
            grad_lengths
                .par_chunks_mut(CHUNK)
                .zip(lengths.par_chunks(CHUNK))
                .zip(grad_out.par_chunks(CHUNK * nb))
                .map(|((gl, r), g)| {
                    let mut gf = vec![T::zero(); nb];
                    for ((gl, &r), g) in gl.iter_mut().zip(r).zip(g.chunks_exact(nb)) {
                        let x = r * inv_rmax;
                        let (u, du) = self.cutoff.eval(x);
                        let pix = pi * x;
                        let mut dx = T::zero();
                        for ((&gn, &w), gfn) in g.iter().zip(frequencies).zip(gf.iter_mut()) {
                            let (s, c) = ((w * pix).sin(), (w * pix).cos());
                            let b = s / pix;
                            // d b/dx = w cos(πwx)/x - sin(πwx)/(πx²)
                            let db = w * c / x - s / (pix * x);
                            dx += gn * (db * u + b * du);
                            *gfn += gn * c * u;
                        }
                        *gl = dx * inv_rmax;
                    }
                    gf
                }),
            nb,
        );
        grad_frequencies.copy_from_slice(&total);
        Ok(())
    }
}
