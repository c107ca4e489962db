//! Equivariant linear layer: channel mixing within each irrep type (e3nn 0.6 `o3.Linear`).
//!
//! One weight matrix `W[u, w]` (`mul_in × mul_out`) per pair of input/output blocks with the
//! same irrep, in e3nn's instruction order (input block outer, output block inner); each
//! output block is normalised by `1/sqrt(Σ mul_in)` over the paths feeding it. No biases
//! (NequIP uses none).

use rayon::prelude::*;

use crate::error::{E3Error, Result, batch_rows, check_finite, check_len};
use crate::irreps::Irreps;
use crate::lanes::{MatRef, gemm_acc, tile_width};
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

/// Samples per rayon task (a chunk's gathered blocks stay in the L2 cache).
const CHUNK: usize = 16;

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
        let scaled = self.scaled_weights(weights, true);
        match self.tile_width::<T>() {
            8 => self.forward_tiled::<T, 8>(&scaled, x, out, din, dout),
            16 => self.forward_tiled::<T, 16>(&scaled, x, out, din, dout),
            _ => self.forward_tiled::<T, 32>(&scaled, x, out, din, dout),
        }
        Ok(())
    }

    fn forward_tiled<T: Scalar, const W: usize>(
        &self,
        wt: &[T],
        x: &[T],
        out: &mut [T],
        din: usize,
        dout: usize,
    ) {
        out.par_chunks_mut(CHUNK * dout)
            .zip(x.par_chunks(CHUNK * din))
            .for_each(|(out, x)| {
                let samples = x.len() / din;
                let mut s = ChunkScratch::new(&self.paths, samples);
                out.fill(T::zero());
                for p in &self.paths {
                    let cols = samples * p.dim;
                    let xs = gather_block(x, din, p.offset_in, p.mul_in, p.dim, &mut s.a);
                    let ys = &mut s.b[..p.mul_out * cols];
                    ys.fill(T::zero());
                    gemm_acc::<T, W>(path_matrix(p, wt, true), xs, ys, cols);
                    scatter_add_block(ys, dout, p.offset_out, p.mul_out, p.dim, out);
                }
            });
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
        let scaled = self.scaled_weights(weights, false);
        let total = match self.tile_width::<T>() {
            8 => self.backward_tiled::<T, 8>(&scaled, x, grad_out, grad_x, din, dout),
            16 => self.backward_tiled::<T, 16>(&scaled, x, grad_out, grad_x, din, dout),
            _ => self.backward_tiled::<T, 32>(&scaled, x, grad_out, grad_x, din, dout),
        };
        grad_weights.copy_from_slice(&total);
        Ok(())
    }

    /// Returns the weight gradient; overwrites `grad_x`.
    fn backward_tiled<T: Scalar, const W: usize>(
        &self,
        wa: &[T],
        x: &[T],
        grad_out: &[T],
        grad_x: &mut [T],
        din: usize,
        dout: usize,
    ) -> Vec<T> {
        let dout_rows = dout.max(1);
        sum_partials(
            grad_x
                .par_chunks_mut(CHUNK * din)
                .zip(x.par_chunks(CHUNK * din))
                .zip(grad_out.par_chunks(CHUNK * dout_rows))
                .map(|((gx, x), g)| {
                    let samples = x.len() / din;
                    let mut gw = vec![T::zero(); self.weight_numel];
                    let mut s = ChunkScratch::new(&self.paths, samples);
                    gx.fill(T::zero());
                    for (p, &a) in self.paths.iter().zip(&self.path_weights::<T>()) {
                        let cols = samples * p.dim;
                        let gs =
                            gather_block(g, dout_rows, p.offset_out, p.mul_out, p.dim, &mut s.b);
                        // grad_x block: (a W) · G
                        let gxs = &mut s.c[..p.mul_in * cols];
                        gxs.fill(T::zero());
                        gemm_acc::<T, W>(path_matrix(p, wa, false), gs, gxs, cols);
                        scatter_add_block(gxs, din, p.offset_in, p.mul_in, p.dim, gx);
                        // grad W: X · (a G)ᵀ
                        let gt = &mut s.d[..cols * p.mul_out];
                        for (wc, row) in gs.data.chunks_exact(cols).enumerate() {
                            for (r, &v) in row.iter().enumerate() {
                                gt[r * p.mul_out + wc] = a * v;
                            }
                        }
                        let xs = gather_block(x, din, p.offset_in, p.mul_in, p.dim, &mut s.a);
                        let gt = MatRef {
                            data: &s.d[..cols * p.mul_out],
                            rows: cols,
                            cols: p.mul_out,
                            stride: p.mul_out,
                        };
                        let block = p.weight_offset..p.weight_offset + p.mul_in * p.mul_out;
                        gemm_acc::<T, W>(xs, gt, &mut gw[block], p.mul_out);
                    }
                    gw
                }),
            self.weight_numel,
        )
    }

    fn path_weights<T: Scalar>(&self) -> Vec<T> {
        self.paths
            .iter()
            .map(|p| T::from_f64(p.path_weight))
            .collect()
    }

    /// Every path's `a·W` (`mul_in × mul_out`), transposed to `mul_out × mul_in` if asked.
    fn scaled_weights<T: Scalar>(&self, weights: &[T], transposed: bool) -> Vec<T> {
        let mut scaled = vec![T::zero(); weights.len()];
        for (p, a) in self.paths.iter().zip(self.path_weights::<T>()) {
            let block = p.weight_offset..p.weight_offset + p.mul_in * p.mul_out;
            let (src, dst) = (&weights[block.clone()], &mut scaled[block]);
            for (u, row) in src.chunks_exact(p.mul_out).enumerate() {
                for (wc, &w) in row.iter().enumerate() {
                    let at = if transposed {
                        wc * p.mul_in + u
                    } else {
                        u * p.mul_out + wc
                    };
                    dst[at] = a * w;
                }
            }
        }
        scaled
    }

    /// Channel tile width of the kernels for scalar type `T`.
    fn tile_width<T>(&self) -> usize {
        let samples_times_dim = self.paths.iter().map(|p| CHUNK * p.dim).min().unwrap_or(1);
        tile_width(samples_times_dim, std::mem::size_of::<T>())
    }
}

/// A path's (scaled) weights as a matrix: `mul_out × mul_in` if `transposed`, else
/// `mul_in × mul_out`.
fn path_matrix<'a, T>(p: &LinearPath, scaled: &'a [T], transposed: bool) -> MatRef<'a, T> {
    let (rows, cols) = if transposed {
        (p.mul_out, p.mul_in)
    } else {
        (p.mul_in, p.mul_out)
    };
    MatRef {
        data: &scaled[p.weight_offset..p.weight_offset + rows * cols],
        rows,
        cols,
        stride: cols,
    }
}

/// Work space of one chunk of samples, sized for the largest path.
struct ChunkScratch<T> {
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
    d: Vec<T>,
}

impl<T: Scalar> ChunkScratch<T> {
    fn new(paths: &[LinearPath], samples: usize) -> Self {
        let len = paths
            .iter()
            .map(|p| samples * p.dim * p.mul_in.max(p.mul_out))
            .max()
            .unwrap_or(0);
        Self {
            a: vec![T::zero(); len],
            b: vec![T::zero(); len],
            c: vec![T::zero(); len],
            d: vec![T::zero(); len],
        }
    }
}

/// One block of every sample side by side: `dst[u][s·dim + m] = x[s·width + offset + u·dim + m]`
/// (`mul × samples·dim`), so that channel mixing is one matrix product for the whole chunk.
fn gather_block<'a, T: Scalar>(
    x: &[T],
    width: usize,
    offset: usize,
    mul: usize,
    dim: usize,
    dst: &'a mut [T],
) -> MatRef<'a, T> {
    let samples = x.len() / width;
    let cols = samples * dim;
    for (s, row) in x.chunks_exact(width).enumerate() {
        let block = &row[offset..offset + mul * dim];
        for (u, comp) in block.chunks_exact(dim).enumerate() {
            dst[u * cols + s * dim..u * cols + (s + 1) * dim].copy_from_slice(comp);
        }
    }
    MatRef {
        data: &dst[..mul * cols],
        rows: mul,
        cols,
        stride: cols,
    }
}

/// The inverse layout of [`gather_block`], added to `out`.
fn scatter_add_block<T: Scalar>(
    src: &[T],
    width: usize,
    offset: usize,
    mul: usize,
    dim: usize,
    out: &mut [T],
) {
    let cols = src.len() / mul.max(1);
    for (s, row) in out.chunks_exact_mut(width).enumerate() {
        let block = &mut row[offset..offset + mul * dim];
        for (u, comp) in block.chunks_exact_mut(dim).enumerate() {
            let from = &src[u * cols + s * dim..u * cols + (s + 1) * dim];
            comp.iter_mut().zip(from).for_each(|(o, &v)| *o += v);
        }
    }
}
