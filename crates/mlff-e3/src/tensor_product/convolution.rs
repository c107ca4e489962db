//! The message-passing convolution `out[t] = Σ_{e→t} TP(x1[source(e)], x2[e]; w[e])` as one
//! fused pass: gather, per-edge product and scatter-sum without the edge-sized intermediate
//! arrays (gathered inputs, messages, their cotangents) the three separate steps need.
//!
//! The forward pass runs over targets, each summing its edges in plan order; the backward pass
//! runs over sources, so each source row of `∂x1` has one writer, and writes the per-edge
//! gradients in source order before putting them back in edge order. Both are deterministic
//! and independent of the thread count.

use std::ops::Range;

use rayon::prelude::*;

use super::kernel::{self, PathKernel, PathScratch, SampleGrads, Scratch, WeightGrads};
use super::node_tiles::NodeTiling;
use super::{ConnectionMode, TensorProduct};
use crate::error::{E3Error, Result, batch_rows, check_finite, check_len};
use crate::graph::ScatterPlan;
use crate::lanes::{LaneTile, Pass, with_tile_width};
use crate::scalar::Scalar;
use crate::simd::{Isa, SimdKernel};

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
        let args = (x1, x2, weights);
        let width = self.tile_width::<T>(Pass::Forward);
        if self.all_uvu() {
            with_tile_width!(width, W => self.convolve_uvu::<T, W>(&groups, args, edges, out));
        } else {
            with_tile_width!(width, W => self.convolve_tiled::<T, W>(&groups, args, edges, out));
        }
        Ok(())
    }

    /// Whether every path is `uvu` (NequIP's convolution), which the node-tiled kernels handle.
    fn all_uvu(&self) -> bool {
        self.paths
            .iter()
            .all(|p| p.instruction.mode == ConnectionMode::Uvu)
    }

    /// The all-`uvu` forward: in1 rows tiled once per node, each target's output summed in
    /// tiles over its edges and converted back once.
    fn convolve_uvu<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        (x1, x2, weights): (&[T], &[T], &[T]),
        edges: MessageEdges<'_>,
        out: &mut [T],
    ) {
        let (d1, _, dout, _) = self.dims();
        let tiled = UvuTiling::<T, W>::new(self, groups);
        let x1t = tiled.input.tile_rows(x1, d1);
        let job = UvuForward {
            tp: self,
            tiled: &tiled,
            x1t: &x1t,
            x2,
            weights,
            edges,
        };
        let isa = Isa::detected();
        out.par_chunks_mut(ATOMS * dout)
            .enumerate()
            .for_each(|chunk| isa.run(&job, chunk));
    }

    fn convolve_tiled<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        (x1, x2, weights): (&[T], &[T], &[T]),
        edges: MessageEdges<'_>,
        out: &mut [T],
    ) {
        let dout = self.irreps_out.dim();
        let job = TiledForward::<T, W> {
            tp: self,
            groups,
            x1,
            x2,
            weights,
            edges,
        };
        let isa = Isa::detected();
        out.par_chunks_mut(ATOMS * dout)
            .enumerate()
            .for_each(|chunk| isa.run(&job, chunk));
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
        grad_x2.fill(T::zero());
        if !self.all_uvu() {
            // The all-uvu kernels write every weight gradient once, without reading it.
            grad_weights.fill(T::zero());
        }
        let per_edge = (EdgeRows::new(grad_x2, d2), EdgeRows::new(grad_weights, wn));
        let args = (x1, x2, weights, grad_out);
        let gx1 = grad_x1;
        let width = self.tile_width::<T>(Pass::Backward);
        if self.all_uvu() {
            with_tile_width!(width, W => {
                self.convolve_backward_uvu::<T, W>(&groups, args, edges, gx1, per_edge)
            });
        } else {
            with_tile_width!(width, W => {
                self.convolve_backward_tiled::<T, W>(&groups, args, edges, gx1, per_edge)
            });
        }
        Ok(())
    }

    /// The all-`uvu` backward over sources: in1 rows and output cotangents tiled once per
    /// node, each source's `∂x1` summed in tiles over its edges and converted back once.
    fn convolve_backward_uvu<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        (x1, x2, weights, grad_out): BackwardInputs<'_, T>,
        edges: MessageEdges<'_>,
        grad_x1: &mut [T],
        edge_grads: EdgeGrads<'_, T>,
    ) {
        let (d1, _, dout, _) = self.dims();
        let tiled = UvuTiling::<T, W>::new(self, groups);
        let x1t = tiled.input.tile_rows(x1, d1);
        let gt = tiled.output.tile_rows(grad_out, dout);
        let job = UvuBackward {
            tp: self,
            tiled: &tiled,
            x1t: &x1t,
            gt: &gt,
            x2,
            weights,
            edges,
            edge_grads,
        };
        let isa = Isa::detected();
        grad_x1
            .par_chunks_mut(ATOMS * d1.max(1))
            .enumerate()
            .for_each(|chunk| isa.run(&job, chunk));
    }

    fn convolve_backward_tiled<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        inputs: BackwardInputs<'_, T>,
        edges: MessageEdges<'_>,
        grad_x1: &mut [T],
        edge_grads: EdgeGrads<'_, T>,
    ) {
        let d1 = self.irreps_in1.dim();
        let job = TiledBackward::<T, W> {
            tp: self,
            groups,
            inputs,
            edges,
            edge_grads,
        };
        let isa = Isa::detected();
        grad_x1
            .par_chunks_mut(ATOMS * d1.max(1))
            .enumerate()
            .for_each(|chunk| isa.run(&job, chunk));
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

/// `(x1, x2, weights, grad_out)` of a backward pass.
type BackwardInputs<'a, T> = (&'a [T], &'a [T], &'a [T], &'a [T]);

/// Per-edge gradient rows `(∂x2, ∂weights)`.
type EdgeGrads<'a, T> = (EdgeRows<'a, T>, EdgeRows<'a, T>);

/// A path with its in1 and output tile ranges.
type TiledPath<'k, 'a, T> = (&'k PathKernel<'a, T>, (Range<usize>, Range<usize>));

/// The node tilings of an all-`uvu` product and each path's blocks in them.
struct UvuTiling<'k, 'a, T, const W: usize> {
    input: NodeTiling<W>,
    output: NodeTiling<W>,
    /// Every path with its in1 and output tile ranges.
    paths: Vec<TiledPath<'k, 'a, T>>,
}

impl<'k, 'a, T, const W: usize> UvuTiling<'k, 'a, T, W> {
    fn new(tp: &TensorProduct, groups: &'k [Vec<PathKernel<'a, T>>]) -> Self {
        let input = NodeTiling::new(&tp.paths, 0);
        let output = NodeTiling::new(&tp.paths, 2);
        let paths = groups
            .iter()
            .flatten()
            .map(|k| {
                let blocks = (
                    input.block(k.path.offset[0]),
                    output.block(k.path.offset[2]),
                );
                (k, blocks)
            })
            .collect();
        Self {
            input,
            output,
            paths,
        }
    }

    fn paths(
        &self,
    ) -> impl Iterator<Item = &(&'k PathKernel<'a, T>, (Range<usize>, Range<usize>))> {
        self.paths.iter()
    }
}

/// The all-`uvu` forward of one task: targets `chunk·ATOMS..`, their output rows `out`.
struct UvuForward<'r, 'k, 'a, T: Scalar, const W: usize> {
    tp: &'r TensorProduct,
    tiled: &'r UvuTiling<'k, 'a, T, W>,
    x1t: &'r [T::Tile<W>],
    x2: &'r [T],
    weights: &'r [T],
    edges: MessageEdges<'r>,
}

impl<T: Scalar, const W: usize> SimdKernel<(usize, &mut [T])> for UvuForward<'_, '_, '_, T, W> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(&self, (chunk, out): (usize, &mut [T])) {
        let (_, d2, dout, wn) = self.tp.dims();
        let (ti, to) = (self.tiled.input.len(), self.tiled.output.len());
        let (x2, weights) = (self.x2, self.weights);
        let mut scratch = PathScratch::<T, W, FUSED>::new(&self.tp.paths, &self.tp.plans);
        let mut acc = vec![LaneTile::zero(); to];
        for (s, o) in out.chunks_exact_mut(dout).enumerate() {
            acc.fill(LaneTile::zero());
            for &e in self.edges.by_target.segment(chunk * ATOMS + s) {
                let src = &self.x1t[self.edges.sources[e] * ti..][..ti];
                for (k, (bin, bout)) in self.tiled.paths() {
                    kernel::uvu_forward_tiles(
                        k,
                        &src[bin.clone()],
                        &x2[e * d2..(e + 1) * d2],
                        &weights[e * wn..(e + 1) * wn],
                        &mut acc[bout.clone()],
                        &mut scratch,
                    );
                }
            }
            o.fill(T::zero());
            self.tiled.output.add_to_row(&acc, o);
        }
    }
}

/// The general forward of one task: targets `chunk·ATOMS..`, their output rows `out`.
struct TiledForward<'r, 'a, T, const W: usize> {
    tp: &'r TensorProduct,
    groups: &'r [Vec<PathKernel<'a, T>>],
    x1: &'r [T],
    x2: &'r [T],
    weights: &'r [T],
    edges: MessageEdges<'r>,
}

impl<T: Scalar, const W: usize> SimdKernel<(usize, &mut [T])> for TiledForward<'_, '_, T, W> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(&self, (chunk, out): (usize, &mut [T])) {
        let (d1, d2, dout, wn) = self.tp.dims();
        let mut scratch = Scratch::<T, W, FUSED>::new(&self.tp.paths, &self.tp.plans);
        for (s, o) in out.chunks_exact_mut(dout).enumerate() {
            o.fill(T::zero());
            for &e in self.edges.by_target.segment(chunk * ATOMS + s) {
                let src = self.edges.sources[e];
                kernel::forward_sample(
                    self.groups,
                    &self.x1[src * d1..(src + 1) * d1],
                    &self.x2[e * d2..(e + 1) * d2],
                    &self.weights[e * wn..(e + 1) * wn],
                    o,
                    &mut scratch,
                );
            }
        }
    }
}

/// The all-`uvu` backward of one task: sources `chunk·ATOMS..`, their `∂x1` rows.
struct UvuBackward<'r, 'k, 'a, T: Scalar, const W: usize> {
    tp: &'r TensorProduct,
    tiled: &'r UvuTiling<'k, 'a, T, W>,
    x1t: &'r [T::Tile<W>],
    gt: &'r [T::Tile<W>],
    x2: &'r [T],
    weights: &'r [T],
    edges: MessageEdges<'r>,
    edge_grads: EdgeGrads<'r, T>,
}

impl<T: Scalar, const W: usize> SimdKernel<(usize, &mut [T])> for UvuBackward<'_, '_, '_, T, W> {
    type Output = ();
    #[inline(always)]
    #[allow(unsafe_code)]
    fn run<const FUSED: bool>(&self, (chunk, gx1): (usize, &mut [T])) {
        let (d1, d2, _, wn) = self.tp.dims();
        let (ti, to) = (self.tiled.input.len(), self.tiled.output.len());
        let (gx2, gw) = &self.edge_grads;
        let mut scratch = PathScratch::<T, W, FUSED>::new(&self.tp.paths, &self.tp.plans);
        let mut acc = vec![LaneTile::zero(); ti];
        for (s, gx1) in gx1.chunks_exact_mut(d1.max(1)).enumerate() {
            let src = chunk * ATOMS + s;
            let x1s = &self.x1t[src * ti..][..ti];
            acc.fill(LaneTile::zero());
            for &e in self.edges.by_source.segment(src) {
                let g = &self.gt[self.edges.targets[e] * to..][..to];
                // SAFETY: each edge lies in exactly one source's segment, so its rows are
                // requested once, by one task.
                let (gx2e, gwe) = unsafe { (gx2.row(e), gw.row(e)) };
                for (k, (bin, bout)) in self.tiled.paths() {
                    kernel::uvu_backward_tiles(
                        k,
                        &x1s[bin.clone()],
                        &self.x2[e * d2..(e + 1) * d2],
                        &self.weights[e * wn..(e + 1) * wn],
                        &g[bout.clone()],
                        &mut acc[bin.clone()],
                        (&mut *gx2e, WeightGrads::Overwrite(&mut *gwe)),
                        &mut scratch,
                    );
                }
            }
            self.tiled.input.add_to_row(&acc, gx1);
        }
    }
}

/// The general backward of one task: sources `chunk·ATOMS..`, their `∂x1` rows.
struct TiledBackward<'r, 'a, T, const W: usize> {
    tp: &'r TensorProduct,
    groups: &'r [Vec<PathKernel<'a, T>>],
    inputs: BackwardInputs<'r, T>,
    edges: MessageEdges<'r>,
    edge_grads: EdgeGrads<'r, T>,
}

impl<T: Scalar, const W: usize> SimdKernel<(usize, &mut [T])> for TiledBackward<'_, '_, T, W> {
    type Output = ();
    #[inline(always)]
    #[allow(unsafe_code)]
    fn run<const FUSED: bool>(&self, (chunk, gx1): (usize, &mut [T])) {
        let (d1, d2, dout, wn) = self.tp.dims();
        let (x1, x2, weights, grad_out) = self.inputs;
        let (gx2, gw) = &self.edge_grads;
        let mut scratch = Scratch::<T, W, FUSED>::new(&self.tp.paths, &self.tp.plans);
        for (s, gx1) in gx1.chunks_exact_mut(d1.max(1)).enumerate() {
            let src = chunk * ATOMS + s;
            for &e in self.edges.by_source.segment(src) {
                let dst = self.edges.targets[e];
                kernel::backward_sample(
                    self.groups,
                    (&x1[src * d1..(src + 1) * d1], &x2[e * d2..(e + 1) * d2]),
                    &weights[e * wn..(e + 1) * wn],
                    &grad_out[dst * dout..(dst + 1) * dout],
                    // SAFETY: each edge lies in exactly one source's segment, so its rows are
                    // requested once, by one task.
                    unsafe {
                        SampleGrads {
                            x1: gx1,
                            x2: gx2.row(e),
                            w: gw.row(e),
                        }
                    },
                    &mut scratch,
                );
            }
        }
    }
}

/// Rows of a per-edge array handed out one at a time to parallel tasks that each own a
/// disjoint set of edges (the segments of a [`ScatterPlan`]), so gradients land in edge order
/// without a permuted copy.
struct EdgeRows<'a, T> {
    ptr: *mut T,
    width: usize,
    rows: usize,
    _data: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: an `EdgeRows` is only a way to reach rows of one exclusively borrowed slice; sharing it
// across threads is sound as long as no row is handed out twice (see `row`).
#[allow(unsafe_code)]
unsafe impl<T: Send> Sync for EdgeRows<'_, T> {}

impl<'a, T> EdgeRows<'a, T> {
    fn new(data: &'a mut [T], width: usize) -> Self {
        Self {
            ptr: data.as_mut_ptr(),
            width,
            rows: data.len().checked_div(width).unwrap_or(0),
            _data: std::marker::PhantomData,
        }
    }

    /// Row `e` (bounds-checked).
    ///
    /// # Safety
    /// Each row may be requested at most once while the rows are in use.
    #[allow(unsafe_code, clippy::mut_from_ref)]
    unsafe fn row(&self, e: usize) -> &mut [T] {
        assert!(
            e < self.rows || self.width == 0,
            "edge row {e} of {}",
            self.rows
        );
        // SAFETY: in bounds (checked above); the slice is borrowed exclusively for `'a`, and the
        // caller guarantees that no row is handed out twice.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(e * self.width), self.width) }
    }
}
