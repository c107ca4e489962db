//! Equivariant linear layer: channel mixing within each irrep type (e3nn 0.6 `o3.Linear`).
//!
//! One weight matrix `W[u, w]` (`mul_in × mul_out`) per pair of input/output blocks with the
//! same irrep, in e3nn's instruction order (input block outer, output block inner); each
//! output block is normalised by `1/sqrt(Σ mul_in)` over the paths feeding it. No biases
//! (NequIP uses none).

use rayon::prelude::*;

use crate::error::{E3Error, Result, batch_rows, check_finite, check_len};
use crate::irreps::Irreps;
use crate::matmul::{MatView, MatViewMut, matmul};
use crate::parallel::zeros;
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

/// Samples per row block. Within a block the tasks are the components of the output (or, in
/// the reverse pass, of the input and the paths' weights), each a few whole GEMMs over every
/// sample of the block: a batch of a hundred atoms still gives dozens of equal tasks, and the
/// blocks depend only on the batch size, so sums over blocks do not depend on the threads.
const ROWS: usize = 256;

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
        let components = components(&self.irreps_out, self.paths.iter().map(|p| p.i_out));
        out.par_chunks_mut(ROWS * dout)
            .zip(x.par_chunks(ROWS * din))
            .for_each(|(out, x)| {
                let samples = x.len() / din;
                // Y[o, m] = Σ_{paths into o} a X[in, m] W (in path order, as e3nn sums).
                let values = per_component(&components, samples, |c, mut y| {
                    for p in self.paths.iter().filter(|p| p.i_out == c.block) {
                        matmul(
                            y.rb(),
                            true,
                            component(x, samples, din, p.offset_in + c.m, p.mul_in, p.dim),
                            self.path_matrix(p, weights),
                            p.path_weight,
                        );
                    }
                });
                scatter_components(out, dout, &components, &values);
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
        check_len("linear grad_weights", grad_weights.len(), self.weight_numel)?;
        self.vjp(x, weights, grad_out, grad_x, Some(grad_weights))
    }

    /// The VJP with respect to the input only (overwrites `grad_x`): half the work of
    /// [`Self::backward`], for passes that need no weight gradient (energy and forces).
    pub fn backward_input<T: Scalar>(
        &self,
        x: &[T],
        weights: &[T],
        grad_out: &[T],
        grad_x: &mut [T],
    ) -> Result<()> {
        self.vjp(x, weights, grad_out, grad_x, None)
    }

    fn vjp<T: Scalar>(
        &self,
        x: &[T],
        weights: &[T],
        grad_out: &[T],
        grad_x: &mut [T],
        grad_weights: Option<&mut [T]>,
    ) -> Result<()> {
        let n = self.check(x, weights)?;
        let (din, dout) = (self.irreps_in.dim(), self.irreps_out.dim());
        check_len("linear grad_out", grad_out.len(), n * dout)?;
        check_len("linear grad_x", grad_x.len(), n * din)?;
        if din == 0 {
            if let Some(gw) = grad_weights {
                gw.fill(T::zero());
            }
            return Ok(());
        }
        let dout_rows = dout.max(1);
        let with_weights = grad_weights.is_some();
        let components = components(&self.irreps_in, self.paths.iter().map(|p| p.i_in));
        let blocks = grad_x
            .par_chunks_mut(ROWS * din)
            .zip(x.par_chunks(ROWS * din))
            .zip(grad_out.par_chunks(ROWS * dout_rows))
            .map(|((gx, x), g)| {
                let samples = x.len() / din;
                let g_component = |p: &LinearPath, m| {
                    component(g, samples, dout_rows, p.offset_out + m, p.mul_out, p.dim)
                };
                let (values, gw) = rayon::join(
                    // ∂X[in, m] = Σ_{paths from in} a G[out, m] Wᵀ
                    || {
                        per_component(&components, samples, |c, mut y| {
                            for p in self.paths.iter().filter(|p| p.i_in == c.block) {
                                matmul(
                                    y.rb(),
                                    true,
                                    g_component(p, c.m),
                                    self.path_matrix(p, weights).t(),
                                    p.path_weight,
                                );
                            }
                        })
                    },
                    // ∂W_p = Σ_m a X[in, m]ᵀ G[out, m], one task per path
                    || {
                        let mut gw =
                            vec![T::zero(); if with_weights { self.weight_numel } else { 0 }];
                        if with_weights {
                            path_blocks(&mut gw, &self.paths)
                                .into_par_iter()
                                .zip(&self.paths)
                                .for_each(|(gw, p)| {
                                    for m in 0..p.dim {
                                        matmul(
                                            MatViewMut::row_major(gw, p.mul_in, p.mul_out),
                                            true,
                                            component(
                                                x,
                                                samples,
                                                din,
                                                p.offset_in + m,
                                                p.mul_in,
                                                p.dim,
                                            )
                                            .t(),
                                            g_component(p, m),
                                            p.path_weight,
                                        );
                                    }
                                });
                        }
                        gw
                    },
                );
                scatter_components(gx, din, &components, &values);
                gw
            });
        match grad_weights {
            Some(grad_weights) => {
                grad_weights.copy_from_slice(&sum_partials(blocks, self.weight_numel));
            }
            None => blocks.for_each(drop),
        }
        Ok(())
    }

    /// A path's weights as the `mul_in × mul_out` matrix `W[u, w]`.
    fn path_matrix<'a, T>(&self, p: &LinearPath, weights: &'a [T]) -> MatView<'a, T> {
        MatView::row_major(&weights[p.weight_offset..], p.mul_in, p.mul_out)
    }
}

/// Component `m` of block `block` (of `mul` channels) of a feature vector: one task of a
/// [`Linear`] pass.
#[derive(Clone, Copy, Debug)]
struct Component {
    block: usize,
    m: usize,
    mul: usize,
    offset: usize,
    dim: usize,
}

/// The components of the blocks of `irreps` that some path touches (`blocks`), block-major.
fn components(irreps: &Irreps, blocks: impl Iterator<Item = usize>) -> Vec<Component> {
    let mut used: Vec<usize> = blocks.collect();
    used.sort_unstable();
    used.dedup();
    let offsets = irreps.offsets();
    used.into_iter()
        .flat_map(|block| {
            let (mul, dim, offset) = (irreps[block].mul, irreps[block].ir.dim(), offsets[block]);
            (0..dim).map(move |m| Component {
                block,
                m,
                mul,
                offset,
                dim,
            })
        })
        .collect()
}

/// Runs `product` for every component, one task each, into one buffer holding each
/// component's `samples × mul` values back to back. The buffer is allocated (and later freed)
/// by the calling thread: buffers allocated on one worker and freed on another stayed in the
/// allocator's per-thread heaps.
fn per_component<T: Scalar>(
    components: &[Component],
    samples: usize,
    product: impl Fn(&Component, MatViewMut<'_, T>) + Sync,
) -> Vec<T> {
    let total: usize = components.iter().map(|c| samples * c.mul).sum();
    let mut values = zeros(total);
    let mut rest = values.as_mut_slice();
    let parts: Vec<&mut [T]> = components
        .iter()
        .map(|c| {
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(samples * c.mul);
            rest = tail;
            part
        })
        .collect();
    parts
        .into_par_iter()
        .zip(components)
        .for_each(|(part, c)| product(c, MatViewMut::row_major(part, samples, c.mul)));
    values
}

/// Overwrites rows of `width` values with the components' values from [`per_component`] (zero
/// where no component lands), in parallel over groups of rows.
fn scatter_components<T: Scalar>(
    rows: &mut [T],
    width: usize,
    components: &[Component],
    values: &[T],
) {
    const GROUP: usize = 8;
    let samples = rows.len() / width.max(1);
    rows.par_chunks_mut(GROUP * width)
        .enumerate()
        .for_each(|(group, rows)| {
            rows.fill(T::zero());
            let mut start = 0;
            for c in components {
                let v = &values[start + group * GROUP * c.mul..start + samples * c.mul];
                start += samples * c.mul;
                for (row, v) in rows
                    .chunks_exact_mut(width)
                    .zip(v.chunks_exact(c.mul.max(1)))
                {
                    for (u, &v) in v.iter().enumerate() {
                        row[c.offset + u * c.dim + c.m] = v;
                    }
                }
            }
        });
}

/// Each path's `mul_in × mul_out` block of a weight-gradient vector (paths are laid out in
/// order, back to back).
fn path_blocks<'a, T>(mut gw: &'a mut [T], paths: &[LinearPath]) -> Vec<&'a mut [T]> {
    paths
        .iter()
        .map(|p| {
            let (block, rest) = std::mem::take(&mut gw).split_at_mut(p.mul_in * p.mul_out);
            gw = rest;
            block
        })
        .collect()
}

/// Component `m` of a block of `mul` channels starting at `offset` in each of `samples` rows
/// of `width` values: the `samples × mul` matrix `x[s·width + offset + u·dim]`.
fn component<T>(
    x: &[T],
    samples: usize,
    width: usize,
    offset: usize,
    mul: usize,
    dim: usize,
) -> MatView<'_, T> {
    MatView::strided(&x[offset.min(x.len())..], samples, mul, width, dim)
}
