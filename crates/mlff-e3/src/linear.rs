//! Equivariant linear layer: channel mixing within each irrep type (e3nn 0.6 `o3.Linear`).
//!
//! One weight matrix `W[u, w]` (`mul_in × mul_out`) per pair of input/output blocks with the
//! same irrep, in e3nn's instruction order (input block outer, output block inner); each
//! output block is normalised by `1/sqrt(Σ mul_in)` over the paths feeding it. No biases
//! (NequIP uses none).

use rayon::prelude::*;

use crate::error::{E3Error, Result, batch_rows, check_finite, check_len};
use crate::irreps::Irreps;
use crate::reduction::sum_partials;
use crate::scalar::Scalar;

/// One compiled path of a [`Linear`] layer.
#[derive(Clone, Debug)]
pub struct LinearPath {
    /// Input block index.
    pub i_in: usize,
    /// Output block index.
    pub i_out: usize,
    /// Input multiplicity.
    pub mul_in: usize,
    /// Output multiplicity.
    pub mul_out: usize,
    /// Irrep dimension.
    pub dim: usize,
    /// Start of the input block in a feature vector.
    pub offset_in: usize,
    /// Start of the output block in a feature vector.
    pub offset_out: usize,
    /// Start of this path's `mul_in × mul_out` weights.
    pub weight_offset: usize,
    /// `1/sqrt(fan-in)` of the output block.
    pub path_weight: f64,
}

/// An equivariant linear map `irreps_in → irreps_out` with shared weights.
#[derive(Clone, Debug)]
pub struct Linear {
    irreps_in: Irreps,
    irreps_out: Irreps,
    paths: Vec<LinearPath>,
    weight_numel: usize,
}

/// Samples per rayon task.
const CHUNK: usize = 64;

impl Linear {
    /// Connects every input block to every output block of the same irrep.
    pub fn new(irreps_in: Irreps, irreps_out: Irreps) -> Result<Self> {
        let pairs: Vec<(usize, usize)> = (0..irreps_in.len())
            .flat_map(|i| (0..irreps_out.len()).map(move |o| (i, o)))
            .filter(|&(i, o)| irreps_in[i].ir == irreps_out[o].ir)
            .collect();
        Self::with_instructions(irreps_in, irreps_out, &pairs)
    }

    /// Connects the given `(input block, output block)` pairs, which must share their irrep.
    pub fn with_instructions(
        irreps_in: Irreps,
        irreps_out: Irreps,
        pairs: &[(usize, usize)],
    ) -> Result<Self> {
        for (index, &(i, o)) in pairs.iter().enumerate() {
            if i >= irreps_in.len() || o >= irreps_out.len() || irreps_in[i].ir != irreps_out[o].ir
            {
                return Err(E3Error::InvalidInstruction {
                    index,
                    reason: format!("({i}, {o}) does not join two blocks of the same irrep"),
                });
            }
        }
        let (oi, oo) = (irreps_in.offsets(), irreps_out.offsets());
        let mut weight_numel = 0;
        let paths = pairs
            .iter()
            .map(|&(i, o)| {
                let fan_in: usize = pairs
                    .iter()
                    .filter(|p| p.1 == o)
                    .map(|p| irreps_in[p.0].mul)
                    .sum();
                let path = LinearPath {
                    i_in: i,
                    i_out: o,
                    mul_in: irreps_in[i].mul,
                    mul_out: irreps_out[o].mul,
                    dim: irreps_in[i].ir.dim(),
                    offset_in: oi[i],
                    offset_out: oo[o],
                    weight_offset: weight_numel,
                    path_weight: if fan_in == 0 {
                        1.0
                    } else {
                        1.0 / (fan_in as f64).sqrt()
                    },
                };
                weight_numel += path.mul_in * path.mul_out;
                path
            })
            .collect();
        Ok(Self {
            irreps_in,
            irreps_out,
            paths,
            weight_numel,
        })
    }

    /// Input irreps.
    pub fn irreps_in(&self) -> &Irreps {
        &self.irreps_in
    }
    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.irreps_out
    }
    /// Compiled paths (weight layout order).
    pub fn paths(&self) -> &[LinearPath] {
        &self.paths
    }
    /// Number of weights.
    pub fn weight_numel(&self) -> usize {
        self.weight_numel
    }

    /// Floating-point operations of one forward sample: 2 per weight and irrep component.
    pub fn forward_flops_per_sample(&self) -> usize {
        self.paths
            .iter()
            .map(|p| 2 * p.mul_in * p.mul_out * p.dim)
            .sum()
    }

    /// Floating-point operations of one backward sample: the input gradient and the weight
    /// gradient, 2 each per weight and irrep component.
    pub fn backward_flops_per_sample(&self) -> usize {
        2 * self.forward_flops_per_sample()
    }

    fn check<T: Scalar>(&self, x: &[T], weights: &[T]) -> Result<usize> {
        let n = batch_rows("linear x (batch×dim_in)", x, self.irreps_in.dim())?;
        check_len("linear weights", weights.len(), self.weight_numel)?;
        check_finite("linear weights", weights)?;
        Ok(n)
    }

    /// `out = Linear(x)` for a batch (`out`: `batch × dim_out`, overwritten).
    pub fn forward<T: Scalar>(&self, x: &[T], weights: &[T], out: &mut [T]) -> Result<()> {
        let n = self.check(x, weights)?;
        let (din, dout) = (self.irreps_in.dim(), self.irreps_out.dim());
        check_len("linear out", out.len(), n * dout)?;
        if dout == 0 {
            return Ok(());
        }
        let pw: Vec<T> = self
            .paths
            .iter()
            .map(|p| T::from_f64(p.path_weight))
            .collect();
        out.par_chunks_mut(CHUNK * dout)
            .zip(x.par_chunks(CHUNK * din))
            .for_each(|(out, x)| {
                for (o, x) in out.chunks_exact_mut(dout).zip(x.chunks_exact(din)) {
                    o.fill(T::zero());
                    for (p, &a) in self.paths.iter().zip(&pw) {
                        linear_path_forward(p, a, x, weights, o);
                    }
                }
            });
        Ok(())
    }

    /// Allocating convenience wrapper of [`Self::forward`].
    pub fn compute<T: Scalar>(&self, x: &[T], weights: &[T]) -> Result<Vec<T>> {
        let n = x.len() / self.irreps_in.dim().max(1);
        let mut out = vec![T::zero(); n * self.irreps_out.dim()];
        self.forward(x, weights, &mut out)?;
        Ok(out)
    }

    /// VJPs: overwrites `grad_x` (`batch × dim_in`) and `grad_weights` (summed over the batch).
    pub fn backward<T: Scalar>(
        &self,
        x: &[T],
        weights: &[T],
        grad_out: &[T],
        grad_x: &mut [T],
        grad_weights: &mut [T],
    ) -> Result<()> {
        let n = self.check(x, weights)?;
        let (din, dout) = (self.irreps_in.dim(), self.irreps_out.dim());
        check_len("linear grad_out", grad_out.len(), n * dout)?;
        check_len("linear grad_x", grad_x.len(), n * din)?;
        check_len("linear grad_weights", grad_weights.len(), self.weight_numel)?;
        let pw: Vec<T> = self
            .paths
            .iter()
            .map(|p| T::from_f64(p.path_weight))
            .collect();
        let wn = self.weight_numel;
        let total = sum_partials(
            grad_x
                .par_chunks_mut(CHUNK * din)
                .zip(x.par_chunks(CHUNK * din))
                .zip(grad_out.par_chunks(CHUNK * dout.max(1)))
                .map(|((gx, x), g)| {
                    let mut gw = vec![T::zero(); wn];
                    for ((gx, x), g) in gx
                        .chunks_exact_mut(din)
                        .zip(x.chunks_exact(din))
                        .zip(g.chunks_exact(dout.max(1)))
                    {
                        gx.fill(T::zero());
                        for (p, &a) in self.paths.iter().zip(&pw) {
                            linear_path_backward(p, a, x, weights, g, gx, &mut gw);
                        }
                    }
                    gw
                }),
            wn,
        );
        grad_weights.copy_from_slice(&total);
        Ok(())
    }
}

/// `out[w, m] += a Σ_u W[u, w] x[u, m]`
fn linear_path_forward<T: Scalar>(p: &LinearPath, a: T, x: &[T], weights: &[T], out: &mut [T]) {
    let w = &weights[p.weight_offset..p.weight_offset + p.mul_in * p.mul_out];
    for u in 0..p.mul_in {
        let xu = &x[p.offset_in + u * p.dim..p.offset_in + (u + 1) * p.dim];
        for wc in 0..p.mul_out {
            let c = a * w[u * p.mul_out + wc];
            let o = &mut out[p.offset_out + wc * p.dim..p.offset_out + (wc + 1) * p.dim];
            for (om, &xm) in o.iter_mut().zip(xu) {
                *om += c * xm;
            }
        }
    }
}

/// `grad_x[u, m] += a Σ_w W[u, w] g[w, m]`, `grad_W[u, w] += a Σ_m x[u, m] g[w, m]`
fn linear_path_backward<T: Scalar>(
    p: &LinearPath,
    a: T,
    x: &[T],
    weights: &[T],
    g: &[T],
    gx: &mut [T],
    gw: &mut [T],
) {
    let w = &weights[p.weight_offset..p.weight_offset + p.mul_in * p.mul_out];
    for u in 0..p.mul_in {
        let xu = &x[p.offset_in + u * p.dim..p.offset_in + (u + 1) * p.dim];
        for wc in 0..p.mul_out {
            let gwc = &g[p.offset_out + wc * p.dim..p.offset_out + (wc + 1) * p.dim];
            let c = a * w[u * p.mul_out + wc];
            let gxu = &mut gx[p.offset_in + u * p.dim..p.offset_in + (u + 1) * p.dim];
            let mut dot = T::zero();
            for ((gxm, &gm), &xm) in gxu.iter_mut().zip(gwc).zip(xu) {
                *gxm += c * gm;
                dot += xm * gm;
            }
            gw[p.weight_offset + u * p.mul_out + wc] += a * dot;
        }
    }
}
