//! The message-passing convolution `out[t] = Σ_{e→t} TP(x1[source(e)], x2[e]; w[e])` as one
//! fused pass: gather, per-edge product and scatter-sum without the edge-sized intermediate
//! arrays (gathered inputs, messages, their cotangents) the three separate steps need.
//!
//! The forward pass runs over targets, each summing its edges in plan order; the backward pass
//! runs over sources, so each source row of `∂x1` has one writer, and writes the per-edge
//! gradients in source order before putting them back in edge order. Both are deterministic
//! and independent of the thread count.

use rayon::prelude::*;

use super::TensorProduct;
use super::kernel::{self, PathKernel, SampleGrads, Scratch};
use crate::error::{E3Error, Result, batch_rows, check_finite, check_len};
use crate::graph::ScatterPlan;
use crate::scalar::Scalar;

/// Atoms per rayon task.
const ATOMS: usize = 4;

/// The edges of one message-passing step: edge `e` carries node `sources[e]` to node
/// `targets[e]`, with the plans grouping edges by source and by target.
#[derive(Clone, Copy, Debug)]
pub struct MessageEdges<'a> {
    /// Sending node of each edge (NequIP: the neighbour, `edge_index[1]`).
    pub sources: &'a [usize],
    /// Receiving node of each edge (NequIP: the centre, `edge_index[0]`).
    pub targets: &'a [usize],
    /// Edges grouped by source.
    pub by_source: &'a ScatterPlan,
    /// Edges grouped by target.
    pub by_target: &'a ScatterPlan,
}

impl MessageEdges<'_> {
    fn check(&self, nodes: usize) -> Result<usize> {
        let e = self.sources.len();
        check_len("message edges targets", self.targets.len(), e)?;
        for (what, plan) in [("by_source", self.by_source), ("by_target", self.by_target)] {
            if plan.num_edges() != e || plan.num_targets() != nodes {
                return Err(E3Error::InvalidParameter {
                    what: "message edges plan",
                    reason: format!(
                        "{what} groups {} edges into {} nodes, expected {e} into {nodes}",
                        plan.num_edges(),
                        plan.num_targets()
                    ),
                });
            }
        }
        if let Some(&index) = self
            .sources
            .iter()
            .chain(self.targets)
            .find(|&&i| i >= nodes)
        {
            return Err(E3Error::IndexOutOfRange {
                what: "message edge node",
                index,
                len: nodes,
            });
        }
        Ok(e)
    }
}

impl TensorProduct {
    fn check_convolution<T: Scalar>(
        &self,
        x1: &[T],
        x2: &[T],
        weights: &[T],
        edges: &MessageEdges<'_>,
    ) -> Result<(usize, usize)> {
        let nodes = batch_rows("convolution x1 (nodes×dim1)", x1, self.irreps_in1.dim())?;
        let e = edges.check(nodes)?;
        check_len(
            "convolution x2 (edges×dim2)",
            x2.len(),
            e * self.irreps_in2.dim(),
        )?;
        check_len(
            "convolution per-edge weights",
            weights.len(),
            e * self.weight_numel,
        )?;
        check_finite("convolution x2", x2)?;
        Ok((nodes, e))
    }

    /// `out[t] = Σ_{e: target(e) = t} TP(x1[source(e)], x2[e]; weights[e])` (`out`:
    /// `nodes × dim_out`, overwritten; `weights`: `edges × weight_numel`).
    pub fn convolve<T: Scalar>(
        &self,
        x1: &[T],
        x2: &[T],
        weights: &[T],
        edges: MessageEdges<'_>,
        out: &mut [T],
    ) -> Result<()> {
        let (nodes, _) = self.check_convolution(x1, x2, weights, &edges)?;
        let dout = self.irreps_out.dim();
        check_len("convolution out", out.len(), nodes * dout)?;
        if nodes == 0 || dout == 0 {
            return Ok(());
        }
        let coeffs = self.coefficients::<T>();
        let groups = self.kernels(&coeffs);
        match self.tile_width::<T>() {
            8 => self.convolve_tiled::<T, 8>(&groups, x1, x2, weights, edges, out),
            16 => self.convolve_tiled::<T, 16>(&groups, x1, x2, weights, edges, out),
            _ => self.convolve_tiled::<T, 32>(&groups, x1, x2, weights, edges, out),
        }
        Ok(())
    }

    fn convolve_tiled<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        x1: &[T],
        x2: &[T],
        weights: &[T],
        edges: MessageEdges<'_>,
        out: &mut [T],
    ) {
        let (d1, d2, dout, wn) = self.dims();
        out.par_chunks_mut(ATOMS * dout)
            .enumerate()
            .for_each(|(chunk, out)| {
                let mut scratch = Scratch::<T, W>::new(&self.paths, &self.plans);
                for (s, o) in out.chunks_exact_mut(dout).enumerate() {
                    o.fill(T::zero());
                    for &e in edges.by_target.segment(chunk * ATOMS + s) {
                        let src = edges.sources[e];
                        kernel::forward_sample(
                            groups,
                            &x1[src * d1..(src + 1) * d1],
                            &x2[e * d2..(e + 1) * d2],
                            &weights[e * wn..(e + 1) * wn],
                            o,
                            &mut scratch,
                        );
                    }
                }
            });
    }

    /// Vector–Jacobian products of [`Self::convolve`]: from `grad_out` (`nodes × dim_out`),
    /// overwrites `grad_x1` (`nodes × dim1`), `grad_x2` (`edges × dim2`) and `grad_weights`
    /// (`edges × weight_numel`).
    #[allow(clippy::too_many_arguments)]
    pub fn convolve_backward<T: Scalar>(
        &self,
        x1: &[T],
        x2: &[T],
        weights: &[T],
        edges: MessageEdges<'_>,
        grad_out: &[T],
        grad_x1: &mut [T],
        grad_x2: &mut [T],
        grad_weights: &mut [T],
    ) -> Result<()> {
        let (nodes, e) = self.check_convolution(x1, x2, weights, &edges)?;
        let (d1, d2, dout, wn) = self.dims();
        check_len("convolution grad_out", grad_out.len(), nodes * dout)?;
        check_len("convolution grad_x1", grad_x1.len(), nodes * d1)?;
        check_len("convolution grad_x2", grad_x2.len(), e * d2)?;
        check_len("convolution grad_weights", grad_weights.len(), e * wn)?;
        grad_x1.fill(T::zero());
        if e == 0 {
            return Ok(());
        }
        let coeffs = self.coefficients::<T>();
        let groups = self.kernels(&coeffs);
        // Per-edge gradients in by-source order, then back to edge order.
        let mut gx2 = vec![T::zero(); e * d2];
        let mut gw = vec![T::zero(); e * wn];
        let bufs = (grad_x1, gx2.as_mut_slice(), gw.as_mut_slice());
        let args = (x1, x2, weights, grad_out);
        match self.tile_width::<T>() {
            8 => self.convolve_backward_tiled::<T, 8>(&groups, args, edges, bufs),
            16 => self.convolve_backward_tiled::<T, 16>(&groups, args, edges, bufs),
            _ => self.convolve_backward_tiled::<T, 32>(&groups, args, edges, bufs),
        }
        let order = edges.by_source.order();
        unpermute_rows(&gx2, order, d2, grad_x2);
        unpermute_rows(&gw, order, wn, grad_weights);
        Ok(())
    }

    #[allow(clippy::type_complexity)]
    fn convolve_backward_tiled<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        (x1, x2, weights, grad_out): (&[T], &[T], &[T], &[T]),
        edges: MessageEdges<'_>,
        (grad_x1, gx2, gw): (&mut [T], &mut [T], &mut [T]),
    ) {
        let (d1, d2, dout, wn) = self.dims();
        let plan = edges.by_source;
        let nodes = plan.num_targets();
        // Cut the by-source buffers at the first edge of every chunk of ATOMS sources.
        let cuts: Vec<usize> = (0..nodes.div_ceil(ATOMS))
            .map(|c| plan.segment_start((c + 1) * ATOMS).min(plan.num_edges()))
            .collect();
        let pieces = split_rows(gx2, &cuts, d2)
            .into_iter()
            .zip(split_rows(gw, &cuts, wn));
        grad_x1
            .par_chunks_mut(ATOMS * d1.max(1))
            .zip(pieces.collect::<Vec<_>>())
            .enumerate()
            .for_each(|(chunk, (gx1, (gx2, gw)))| {
                let mut scratch = Scratch::<T, W>::new(&self.paths, &self.plans);
                let first = plan.segment_start(chunk * ATOMS);
                for (s, gx1) in gx1.chunks_exact_mut(d1.max(1)).enumerate() {
                    let src = chunk * ATOMS + s;
                    let start = plan.segment_start(src) - first;
                    for (k, &e) in plan.segment(src).iter().enumerate() {
                        let p = start + k;
                        let dst = edges.targets[e];
                        kernel::backward_sample(
                            groups,
                            (&x1[src * d1..(src + 1) * d1], &x2[e * d2..(e + 1) * d2]),
                            &weights[e * wn..(e + 1) * wn],
                            &grad_out[dst * dout..(dst + 1) * dout],
                            SampleGrads {
                                x1: gx1,
                                x2: &mut gx2[p * d2..(p + 1) * d2],
                                w: &mut gw[p * wn..(p + 1) * wn],
                            },
                            &mut scratch,
                        );
                    }
                }
            });
    }

    /// `(dim1, dim2, dim_out, weight_numel)`.
    fn dims(&self) -> (usize, usize, usize, usize) {
        (
            self.irreps_in1.dim(),
            self.irreps_in2.dim(),
            self.irreps_out.dim(),
            self.weight_numel,
        )
    }
}

/// Splits `rows × width` values at the row indices `cuts` (increasing, last = all rows).
fn split_rows<'a, T>(mut data: &'a mut [T], cuts: &[usize], width: usize) -> Vec<&'a mut [T]> {
    let mut pieces = Vec::with_capacity(cuts.len());
    let mut done = 0;
    for &cut in cuts {
        let (head, tail) = data.split_at_mut((cut - done) * width);
        pieces.push(head);
        data = tail;
        done = cut;
    }
    pieces
}

/// `dst[order[p]] = src[p]` row by row.
fn unpermute_rows<T: Scalar>(src: &[T], order: &[usize], width: usize, dst: &mut [T]) {
    if width == 0 {
        return;
    }
    let mut position = vec![0; order.len()];
    for (p, &e) in order.iter().enumerate() {
        position[e] = p;
    }
    dst.par_chunks_mut(width)
        .zip(position.par_iter())
        .for_each(|(row, &p)| row.copy_from_slice(&src[p * width..(p + 1) * width]));
}
