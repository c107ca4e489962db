//! Weighted tensor products of irreps, as e3nn 0.6's `TensorProduct` defines them.
//!
//! A product is a list of [`Instruction`]s (paths `in1[i1] ⊗ in2[i2] → out[k]`); the weight
//! layout, the path normalisation and the sparse kernels are all derived from that one list.
//! Each path stores only the non-zero Wigner 3j entries `(i, j, k, c)` with the path
//! normalisation folded into `c`. The kernels run over a batch of samples (edges or nodes),
//! in parallel chunks, with scratch buffers allocated once per chunk, never per sample.
//!
//! Modes: `uvu` (output channel `u`, weight `w[u,v]`: NequIP's convolution) and `uvw` (fully
//! connected, weight `w[u,v,w]`: NequIP's self-connection). Weights are either shared by the
//! whole batch or given per sample (NequIP's per-edge radial weights).

mod convolution;
mod kernel;
mod node_tiles;

pub use convolution::MessageEdges;

use rayon::prelude::*;

use self::kernel::{CouplingPlan, PathKernel, SampleGrads, Scratch};
use crate::error::{E3Error, Result, batch_rows, check_finite, check_len};
use crate::irreps::{Irrep, Irreps, MulIrrep};
use crate::lanes::{Pass, tile_width, with_tile_width};
use crate::reduction::sum_partials;
use crate::scalar::Scalar;
use crate::simd::{Isa, SimdKernel};
use crate::wigner::{triangle, wigner_3j};

/// How the channels of the two inputs are connected to the output channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionMode {
    /// `out[u] = Σ_v w[u,v] x1[u] ⊗ x2[v]`: output multiplicity equals `in1`'s.
    Uvu,
    /// `out[w] = Σ_{u,v} w[u,v,w] x1[u] ⊗ x2[v]`: fully connected.
    Uvw,
}

/// One path of a tensor product (e3nn's instruction tuple).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Instruction {
    /// Block index in `irreps_in1`.
    pub i_in1: usize,
    /// Block index in `irreps_in2`.
    pub i_in2: usize,
    /// Block index in `irreps_out`.
    pub i_out: usize,
    /// Channel connectivity.
    pub mode: ConnectionMode,
    /// Whether the path has learnable weights (otherwise weight 1).
    pub has_weight: bool,
    /// Extra multiplicative path weight (e3nn's optional sixth element, default 1).
    pub path_weight: f64,
}

impl Instruction {
    /// A weighted path with path weight 1.
    pub fn new(i_in1: usize, i_in2: usize, i_out: usize, mode: ConnectionMode) -> Self {
        Self {
            i_in1,
            i_in2,
            i_out,
            mode,
            has_weight: true,
            path_weight: 1.0,
        }
    }
}

/// Assumed normalisation of the irreps (e3nn `irrep_normalization`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrrepNormalization {
    /// Components of unit variance (default).
    Component,
    /// Irreps of unit norm.
    Norm,
    /// No factor.
    None,
}

/// How paths into the same output are normalised (e3nn `path_normalization`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathNormalization {
    /// By the total fan-in of all paths into the output (default).
    Element,
    /// By each path's fan-in times the number of paths.
    Path,
    /// No factor.
    None,
}

/// One non-zero coupling coefficient of a path, normalisation included.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CouplingEntry {
    /// Component of the `in1` irrep.
    pub i: usize,
    /// Component of the `in2` irrep.
    pub j: usize,
    /// Component of the output irrep.
    pub k: usize,
    /// `alpha · C[i,j,k]`.
    pub c: f64,
}

/// A compiled path: offsets, sizes, weight slice and sparse coupling.
#[derive(Clone, Debug)]
pub struct Path {
    /// The instruction this path was compiled from.
    pub instruction: Instruction,
    /// Multiplicities of in1, in2, out blocks.
    pub mul: [usize; 3],
    /// Irrep dimensions of in1, in2, out.
    pub dim: [usize; 3],
    /// Start offsets of the in1, in2, out blocks in their feature vectors.
    pub offset: [usize; 3],
    /// Start of this path's weights in the flat weight vector (if weighted).
    pub weight_offset: Option<usize>,
    /// Path normalisation `alpha` (already folded into `entries`).
    pub alpha: f64,
    /// Non-zero coupling coefficients.
    pub entries: Vec<CouplingEntry>,
}

impl Path {
    /// Output channels fed by one input channel `u` of in1 (1 for `uvu`, `mul_out` for `uvw`).
    fn outputs_per_channel(&self) -> usize {
        match self.instruction.mode {
            ConnectionMode::Uvu => 1,
            ConnectionMode::Uvw => self.mul[2],
        }
    }

    /// Floating-point operations of this path for one sample, as the kernel computes them:
    /// per `v`, 1 per entry for `c·x2`; per `(u, v)`, 2 per entry (coupling) and 2 per output
    /// component and output channel (weighting).
    pub fn forward_flops(&self) -> usize {
        let nnz = self.entries.len();
        self.mul[1] * (nnz + self.mul[0] * (2 * nnz + 2 * self.dim[2] * self.outputs_per_channel()))
    }

    /// Floating-point operations of the backward pass of this path for one sample: per `v`,
    /// `c·x2` and `c·dot` (2 per entry); per `(u, v)`, recomputed coupling (2 per entry),
    /// weighted cotangent and weight gradient (4 per output component and channel), `x1`
    /// gradient axpy and `x2` gradient dot (4 per entry).
    pub fn backward_flops(&self) -> usize {
        let nnz = self.entries.len();
        self.mul[1]
            * (2 * nnz + self.mul[0] * (6 * nnz + 4 * self.dim[2] * self.outputs_per_channel()))
    }

    /// Number of weights of this path.
    pub fn weight_numel(&self) -> usize {
        match (self.instruction.has_weight, self.instruction.mode) {
            (false, _) => 0,
            (true, ConnectionMode::Uvu) => self.mul[0] * self.mul[1],
            (true, ConnectionMode::Uvw) => self.mul[0] * self.mul[1] * self.mul[2],
        }
    }
}

/// Weights of a product: one vector for the whole batch, or one per sample.
#[derive(Clone, Copy, Debug)]
pub enum Weights<'a, T> {
    /// `weight_numel` values used by every sample.
    Shared(&'a [T]),
    /// `batch × weight_numel` values, row `z` used by sample `z`.
    PerSample(&'a [T]),
}

/// A tensor product `irreps_in1 ⊗ irreps_in2 → irreps_out` described by instructions.
#[derive(Clone, Debug)]
pub struct TensorProduct {
    irreps_in1: Irreps,
    irreps_in2: Irreps,
    irreps_out: Irreps,
    paths: Vec<Path>,
    /// The coupling structure of each path, for the kernels.
    plans: Vec<CouplingPlan>,
    weight_numel: usize,
}

/// Samples per rayon task.
const CHUNK: usize = 32;

impl TensorProduct {
    /// Builds a product with e3nn's default normalisation (`component`, `element`).
    pub fn new(
        irreps_in1: Irreps,
        irreps_in2: Irreps,
        irreps_out: Irreps,
        instructions: Vec<Instruction>,
    ) -> Result<Self> {
        Self::with_normalization(
            irreps_in1,
            irreps_in2,
            irreps_out,
            instructions,
            IrrepNormalization::Component,
            PathNormalization::Element,
        )
    }

    /// Builds a product with explicit normalisation choices.
    pub fn with_normalization(
        irreps_in1: Irreps,
        irreps_in2: Irreps,
        irreps_out: Irreps,
        instructions: Vec<Instruction>,
        irrep_normalization: IrrepNormalization,
        path_normalization: PathNormalization,
    ) -> Result<Self> {
        for (index, ins) in instructions.iter().enumerate() {
            validate_instruction(index, ins, &irreps_in1, &irreps_in2, &irreps_out)?;
        }
        let (o1, o2, oo) = (
            irreps_in1.offsets(),
            irreps_in2.offsets(),
            irreps_out.offsets(),
        );
        // Fan-in of one path: the number of products summed into one output component.
        let fan_in = |ins: &Instruction| match ins.mode {
            ConnectionMode::Uvw => irreps_in1[ins.i_in1].mul * irreps_in2[ins.i_in2].mul,
            ConnectionMode::Uvu => irreps_in2[ins.i_in2].mul,
        } as f64;
        let mut paths = Vec::with_capacity(instructions.len());
        let mut weight_numel = 0;
        for ins in &instructions {
            let (b1, b2, bo) = (
                irreps_in1[ins.i_in1],
                irreps_in2[ins.i_in2],
                irreps_out[ins.i_out],
            );
            let mut alpha = match irrep_normalization {
                IrrepNormalization::Component => bo.ir.dim() as f64,
                IrrepNormalization::Norm => (b1.ir.dim() * b2.ir.dim()) as f64,
                IrrepNormalization::None => 1.0,
            };
            let same_out = instructions.iter().filter(|i| i.i_out == ins.i_out);
            let x = match path_normalization {
                PathNormalization::Element => same_out.map(fan_in).sum(),
                PathNormalization::Path => fan_in(ins) * same_out.count() as f64,
                PathNormalization::None => 1.0,
            };
            if x > 0.0 {
                alpha /= x;
            }
            alpha = (alpha * ins.path_weight).sqrt();
            let w3j = wigner_3j(b1.ir.l, b2.ir.l, bo.ir.l)?;
            let (d1, d2, d3) = (b1.ir.dim(), b2.ir.dim(), bo.ir.dim());
            let entries = (0..d1 * d2 * d3)
                .filter(|&n| w3j[n].abs() > 1e-14)
                .map(|n| CouplingEntry {
                    i: n / (d2 * d3),
                    j: (n / d3) % d2,
                    k: n % d3,
                    c: alpha * w3j[n],
                })
                .collect();
            let mut path = Path {
                instruction: *ins,
                mul: [b1.mul, b2.mul, bo.mul],
                dim: [d1, d2, d3],
                offset: [o1[ins.i_in1], o2[ins.i_in2], oo[ins.i_out]],
                weight_offset: None,
                alpha,
                entries,
            };
            if ins.has_weight {
                path.weight_offset = Some(weight_numel);
                weight_numel += path.weight_numel();
            }
            paths.push(path);
        }
        Ok(Self {
            irreps_in1,
            irreps_in2,
            irreps_out,
            plans: paths.iter().map(CouplingPlan::new).collect(),
            paths,
            weight_numel,
        })
    }

    /// e3nn's `FullyConnectedTensorProduct`: a weighted `uvw` path for every allowed
    /// `(in1 block, in2 block, out block)`, in that loop order.
    pub fn fully_connected(
        irreps_in1: Irreps,
        irreps_in2: Irreps,
        irreps_out: Irreps,
    ) -> Result<Self> {
        let mut instructions = Vec::new();
        for (i1, b1) in irreps_in1.iter().enumerate() {
            for (i2, b2) in irreps_in2.iter().enumerate() {
                for (io, bo) in irreps_out.iter().enumerate() {
                    if b1.ir.product(b2.ir).any(|ir| ir == bo.ir) {
                        instructions.push(Instruction::new(i1, i2, io, ConnectionMode::Uvw));
                    }
                }
            }
        }
        Self::new(irreps_in1, irreps_in2, irreps_out, instructions)
    }

    /// NequIP's interaction-block product: a weighted `uvu` path for every feature block ×
    /// edge-attribute block × allowed output irrep present in `feature_out`; the output
    /// (`irreps_mid`) lists one block per path, sorted as e3nn sorts (instruction order kept).
    pub fn nequip_convolution(
        feature_in: &Irreps,
        edge_attrs: &Irreps,
        feature_out: &Irreps,
    ) -> Result<Self> {
        let mut mid: Vec<MulIrrep> = Vec::new();
        let mut instructions = Vec::new();
        for (i, b) in feature_in.iter().enumerate() {
            for (j, e) in edge_attrs.iter().enumerate() {
                for ir_out in b.ir.product(e.ir) {
                    if feature_out.contains(ir_out) {
                        instructions.push(Instruction::new(i, j, mid.len(), ConnectionMode::Uvu));
                        mid.push(MulIrrep::new(b.mul, ir_out));
                    }
                }
            }
        }
        let sorted = Irreps::new(mid).sort();
        for ins in &mut instructions {
            ins.i_out = sorted.p[ins.i_out];
        }
        Self::new(
            feature_in.clone(),
            edge_attrs.clone(),
            sorted.irreps,
            instructions,
        )
    }

    /// First input irreps.
    pub fn irreps_in1(&self) -> &Irreps {
        &self.irreps_in1
    }
    /// Second input irreps.
    pub fn irreps_in2(&self) -> &Irreps {
        &self.irreps_in2
    }
    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.irreps_out
    }
    /// Compiled paths, in instruction order (weight layout order).
    pub fn paths(&self) -> &[Path] {
        &self.paths
    }
    /// Number of weights per sample (or in total, when shared).
    pub fn weight_numel(&self) -> usize {
        self.weight_numel
    }

    /// Floating-point operations of one forward sample (see [`Path::forward_flops`]).
    pub fn forward_flops_per_sample(&self) -> usize {
        self.paths.iter().map(Path::forward_flops).sum()
    }

    /// Floating-point operations of one backward sample (see [`Path::backward_flops`]).
    pub fn backward_flops_per_sample(&self) -> usize {
        self.paths.iter().map(Path::backward_flops).sum()
    }

    fn check_batch<T: Scalar>(&self, x1: &[T], x2: &[T], weights: Weights<'_, T>) -> Result<usize> {
        let (d1, d2) = (self.irreps_in1.dim(), self.irreps_in2.dim());
        let n = batch_rows("tensor product x1 (batch×dim1)", x1, d1)?;
        check_len("tensor product x2 (batch×dim2)", x2.len(), n * d2)?;
        match weights {
            Weights::Shared(w) => {
                check_len("tensor product shared weights", w.len(), self.weight_numel)?
            }
            Weights::PerSample(w) => check_len(
                "tensor product per-sample weights",
                w.len(),
                n * self.weight_numel,
            )?,
        }
        check_finite("tensor product x2", x2)?;
        Ok(n)
    }

    /// `out[z] = TP(x1[z], x2[z]; w[z])` for a batch (`out`: `batch × dim_out`, overwritten).
    pub fn forward<T: Scalar>(
        &self,
        x1: &[T],
        x2: &[T],
        weights: Weights<'_, T>,
        out: &mut [T],
    ) -> Result<()> {
        let n = self.check_batch(x1, x2, weights)?;
        let dout = self.irreps_out.dim();
        check_len("tensor product out", out.len(), n * dout)?;
        if n == 0 || dout == 0 {
            return Ok(());
        }
        let coeffs = self.coefficients::<T>();
        let groups = self.kernels(&coeffs);
        with_tile_width!(self.tile_width::<T>(Pass::Forward), W => {
            self.forward_tiled::<T, W>(&groups, x1, x2, weights, out)
        });
        Ok(())
    }

    /// The coupling coefficients of every path in the scalar type `T`.
    fn coefficients<T: Scalar>(&self) -> Vec<Vec<T>> {
        self.paths
            .iter()
            .map(|p| p.entries.iter().map(|e| T::from_f64(e.c)).collect())
            .collect()
    }

    /// The paths with their plans and coefficients, grouped by in1 block (first appearance
    /// order, instruction order within a group) so each block is transposed once per sample.
    fn kernels<'a, T>(&'a self, coeffs: &'a [Vec<T>]) -> Vec<Vec<PathKernel<'a, T>>> {
        let mut groups: Vec<Vec<PathKernel<'a, T>>> = Vec::new();
        for ((path, plan), coeffs) in self.paths.iter().zip(&self.plans).zip(coeffs) {
            let kernel = PathKernel { path, plan, coeffs };
            let block = path.instruction.i_in1;
            match groups
                .iter_mut()
                .find(|g| g[0].path.instruction.i_in1 == block)
            {
                Some(group) => group.push(kernel),
                None => groups.push(vec![kernel]),
            }
        }
        groups
    }

    /// Channel tile width of the kernels of `pass` for scalar type `T`.
    fn tile_width<T: Scalar>(&self, pass: Pass) -> usize {
        let channels = self.paths.iter().map(|p| p.mul[0]).max().unwrap_or(1);
        tile_width::<T>(channels, pass)
    }

    fn forward_tiled<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        x1: &[T],
        x2: &[T],
        weights: Weights<'_, T>,
        out: &mut [T],
    ) {
        let job = BatchForward::<T, W> {
            tp: self,
            groups,
            x1,
            x2,
            weights,
        };
        let isa = Isa::detected();
        out.par_chunks_mut(CHUNK * self.irreps_out.dim())
            .enumerate()
            .for_each(|chunk| isa.run(&job, chunk));
    }

    /// Allocating convenience wrapper of [`Self::forward`].
    pub fn compute<T: Scalar>(
        &self,
        x1: &[T],
        x2: &[T],
        weights: Weights<'_, T>,
    ) -> Result<Vec<T>> {
        let n = x1.len() / self.irreps_in1.dim().max(1);
        let mut out = vec![T::zero(); n * self.irreps_out.dim()];
        self.forward(x1, x2, weights, &mut out)?;
        Ok(out)
    }

    /// Vector–Jacobian products: given `grad_out` (`batch × dim_out`), overwrites `grad_x1`,
    /// `grad_x2` and `grad_weights` (same length as the weights: per-sample rows, or the sum over
    /// the batch when shared).
    #[allow(clippy::too_many_arguments)]
    pub fn backward<T: Scalar>(
        &self,
        x1: &[T],
        x2: &[T],
        weights: Weights<'_, T>,
        grad_out: &[T],
        grad_x1: &mut [T],
        grad_x2: &mut [T],
        grad_weights: &mut [T],
    ) -> Result<()> {
        let n = self.check_batch(x1, x2, weights)?;
        let (d1, d2, dout) = (
            self.irreps_in1.dim(),
            self.irreps_in2.dim(),
            self.irreps_out.dim(),
        );
        let wn = self.weight_numel;
        check_len("tensor product grad_out", grad_out.len(), n * dout)?;
        check_len("tensor product grad_x1", grad_x1.len(), n * d1)?;
        check_len("tensor product grad_x2", grad_x2.len(), n * d2)?;
        let shared = matches!(weights, Weights::Shared(_));
        check_len(
            "tensor product grad_weights",
            grad_weights.len(),
            if shared { wn } else { n * wn },
        )?;
        grad_weights.fill(T::zero());
        if n == 0 {
            return Ok(());
        }
        let coeffs = self.coefficients::<T>();
        let groups = self.kernels(&coeffs);
        let grads = (grad_x1, grad_x2, grad_weights);
        with_tile_width!(self.tile_width::<T>(Pass::Backward), W => {
            self.backward_tiled::<T, W>(&groups, x1, x2, weights, grad_out, grads)
        });
        Ok(())
    }

    fn backward_tiled<T: Scalar, const W: usize>(
        &self,
        groups: &[Vec<PathKernel<'_, T>>],
        x1: &[T],
        x2: &[T],
        weights: Weights<'_, T>,
        grad_out: &[T],
        (grad_x1, grad_x2, grad_weights): (&mut [T], &mut [T], &mut [T]),
    ) {
        let (d1, d2) = (self.irreps_in1.dim(), self.irreps_in2.dim());
        let wn = self.weight_numel;
        let job = BatchBackward::<T, W> {
            tp: self,
            groups,
            x1,
            x2,
            weights,
            grad_out,
        };
        let isa = Isa::detected();
        if matches!(weights, Weights::Shared(_)) {
            let total = sum_partials(
                grad_x1
                    .par_chunks_mut(CHUNK * d1.max(1))
                    .zip(grad_x2.par_chunks_mut(CHUNK * d2.max(1)))
                    .enumerate()
                    .map(|(chunk, (gx1, gx2))| {
                        let mut gw = vec![T::zero(); wn];
                        isa.run(&job, (chunk, gx1, gx2, &mut gw));
                        gw
                    }),
                wn,
            );
            grad_weights.copy_from_slice(&total);
        } else {
            grad_x1
                .par_chunks_mut(CHUNK * d1.max(1))
                .zip(grad_x2.par_chunks_mut(CHUNK * d2.max(1)))
                .zip(grad_weights.par_chunks_mut((CHUNK * wn).max(1)))
                .enumerate()
                .for_each(|(chunk, ((gx1, gx2), gw))| isa.run(&job, (chunk, gx1, gx2, gw)));
        }
    }
}

/// The batched forward of one task: samples `chunk·CHUNK..`, their output rows.
struct BatchForward<'r, 'a, T, const W: usize> {
    tp: &'r TensorProduct,
    groups: &'r [Vec<PathKernel<'a, T>>],
    x1: &'r [T],
    x2: &'r [T],
    weights: Weights<'r, T>,
}

impl<T: Scalar, const W: usize> SimdKernel<(usize, &mut [T])> for BatchForward<'_, '_, T, W> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(&self, (chunk, out): (usize, &mut [T])) {
        let tp = self.tp;
        let (d1, d2, dout) = (
            tp.irreps_in1.dim(),
            tp.irreps_in2.dim(),
            tp.irreps_out.dim(),
        );
        let mut scratch = Scratch::<T, W, FUSED>::new(&tp.paths, &tp.plans);
        for (s, o) in out.chunks_exact_mut(dout).enumerate() {
            let z = chunk * CHUNK + s;
            o.fill(T::zero());
            kernel::forward_sample(
                self.groups,
                &self.x1[z * d1..(z + 1) * d1],
                &self.x2[z * d2..(z + 1) * d2],
                sample_weights(self.weights, z, tp.weight_numel),
                o,
                &mut scratch,
            );
        }
    }
}

/// One task's gradient rows `(chunk, ∂x1, ∂x2, ∂w)`: `∂w` per sample, or the task's partial
/// sum when the weights are shared.
type BatchGrads<'g, T> = (usize, &'g mut [T], &'g mut [T], &'g mut [T]);

/// The batched backward of one task: samples `chunk·CHUNK..`.
struct BatchBackward<'r, 'a, T, const W: usize> {
    tp: &'r TensorProduct,
    groups: &'r [Vec<PathKernel<'a, T>>],
    x1: &'r [T],
    x2: &'r [T],
    weights: Weights<'r, T>,
    grad_out: &'r [T],
}

impl<T: Scalar, const W: usize> SimdKernel<BatchGrads<'_, T>> for BatchBackward<'_, '_, T, W> {
    type Output = ();
    #[inline(always)]
    fn run<const FUSED: bool>(&self, (chunk, gx1, gx2, gw): BatchGrads<'_, T>) {
        let tp = self.tp;
        let (d1, d2, dout) = (
            tp.irreps_in1.dim(),
            tp.irreps_in2.dim(),
            tp.irreps_out.dim(),
        );
        let wn = tp.weight_numel;
        let shared = matches!(self.weights, Weights::Shared(_));
        let mut scratch = Scratch::<T, W, FUSED>::new(&tp.paths, &tp.plans);
        for (s, (gx1, gx2)) in gx1
            .chunks_exact_mut(d1)
            .zip(gx2.chunks_exact_mut(d2))
            .enumerate()
        {
            let z = chunk * CHUNK + s;
            let gw_row = if shared {
                &mut gw[..]
            } else {
                &mut gw[s * wn..(s + 1) * wn]
            };
            gx1.fill(T::zero());
            gx2.fill(T::zero());
            let grads = SampleGrads {
                x1: gx1,
                x2: gx2,
                w: gw_row,
            };
            kernel::backward_sample(
                self.groups,
                (
                    &self.x1[z * d1..(z + 1) * d1],
                    &self.x2[z * d2..(z + 1) * d2],
                ),
                sample_weights(self.weights, z, wn),
                &self.grad_out[z * dout..(z + 1) * dout],
                grads,
                &mut scratch,
            );
        }
    }
}

fn validate_instruction(
    index: usize,
    ins: &Instruction,
    in1: &Irreps,
    in2: &Irreps,
    out: &Irreps,
) -> Result<()> {
    let err = |reason: String| Err(E3Error::InvalidInstruction { index, reason });
    for (what, i, irreps) in [
        ("i_in1", ins.i_in1, in1),
        ("i_in2", ins.i_in2, in2),
        ("i_out", ins.i_out, out),
    ] {
        if i >= irreps.len() {
            return err(format!(
                "{what} = {i} but the irreps have {} blocks",
                irreps.len()
            ));
        }
    }
    let (b1, b2, bo) = (in1[ins.i_in1], in2[ins.i_in2], out[ins.i_out]);
    let expected: Irrep = Irrep::new(bo.ir.l, b1.ir.p.product(b2.ir.p));
    if expected.p != bo.ir.p || !triangle(b1.ir.l, b2.ir.l, bo.ir.l) {
        return err(format!("{} x {} cannot produce {}", b1.ir, b2.ir, bo.ir));
    }
    if ins.mode == ConnectionMode::Uvu && b1.mul != bo.mul {
        return err(format!(
            "uvu needs equal multiplicities of in1 and out ({} vs {})",
            b1.mul, bo.mul
        ));
    }
    if !(ins.path_weight.is_finite() && ins.path_weight >= 0.0) {
        return err(format!(
            "path weight {} must be finite and non-negative",
            ins.path_weight
        ));
    }
    Ok(())
}

#[inline(always)]
fn sample_weights<T>(weights: Weights<'_, T>, z: usize, wn: usize) -> &[T] {
    match weights {
        Weights::Shared(w) => w,
        Weights::PerSample(w) => &w[z * wn..(z + 1) * wn],
    }
}
