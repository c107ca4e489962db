//! The kernel interface both executors implement: [`crate::CudaBackend`] (device buffers, the
//! kernels compiled by NVRTC, cuBLAS) and [`crate::Emulator`] (host vectors, the same kernel
//! sources compiled as C++, a reference GEMM). Code written against [`Backend`] — such as the
//! NequIP model of `mlff-nequip-cuda` — runs on a GPU and is tested on the CPU unchanged.
//!
//! Buffers are row-major `[sample][component]` as in `mlff-e3`. Every launch checks buffer
//! lengths against its plan; outputs are overwritten unless a method says it accumulates.

use crate::error::Result;
use crate::plan::{
    EdgeGraph, GatePlan, GatherIndex, LinearPlan, RadialPlan, ShPlan, SortedScatter, UvuPlan,
};
use crate::real::DeviceReal;

/// Whether a GEMM operand is used as stored or transposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transpose {
    /// As stored (row-major).
    No,
    /// Transposed.
    Yes,
}

/// A row-major matrix product `C = α op(A) op(B) + β C` (`C`: `m × n`, inner size `k`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemmShape {
    /// Rows of `C`.
    pub m: usize,
    /// Columns of `C`.
    pub n: usize,
    /// Inner dimension.
    pub k: usize,
    /// Whether `A` is stored `k × m` (transposed) instead of `m × k`.
    pub trans_a: Transpose,
    /// Whether `B` is stored `n × k` (transposed) instead of `k × n`.
    pub trans_b: Transpose,
    /// Scale of the product.
    pub alpha: f64,
    /// Scale of the previous `C` (0: overwrite).
    pub beta: f64,
}

/// Direction of a linear map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearDirection {
    /// `x ↦ y`.
    Forward,
    /// `grad_y ↦ grad_x` (the VJP with respect to the input).
    Transpose,
}

/// The operations of an equivariant interatomic potential, on some executor's buffers.
pub trait Backend {
    /// A buffer of reals (`CudaSlice<T>` on a GPU, `Vec<T>` in the emulation).
    type Buf<T: DeviceReal>;
    /// Tensor-product tables ready for launches.
    type Uvu<T: DeviceReal>;
    /// Gate tables ready for launches.
    type Gate<T: DeviceReal>;
    /// Linear-map tables ready for launches.
    type Linear<T: DeviceReal>;
    /// Scatter grouping ready for launches.
    type Scatter;
    /// Gather indices ready for launches.
    type Gather;
    /// Edge list ready for launches.
    type Edges;

    /// What executes the kernels, for logs and reports.
    fn describe(&self) -> String;

    /// Copies host values into a new buffer.
    fn upload<T: DeviceReal>(&self, host: &[T]) -> Result<Self::Buf<T>>;
    /// Copies a buffer back to the host.
    fn download<T: DeviceReal>(&self, buf: &Self::Buf<T>) -> Result<Vec<T>>;
    /// A zero-filled buffer.
    fn zeros<T: DeviceReal>(&self, len: usize) -> Result<Self::Buf<T>>;
    /// Number of values in a buffer.
    fn len<T: DeviceReal>(buf: &Self::Buf<T>) -> usize;

    /// Puts tensor-product tables where the kernels read them.
    fn upload_uvu<T: DeviceReal>(&self, plan: &UvuPlan) -> Result<Self::Uvu<T>>;
    /// Puts gate tables where the kernels read them.
    fn upload_gate<T: DeviceReal>(&self, plan: &GatePlan) -> Result<Self::Gate<T>>;
    /// Puts linear-map tables where the kernels read them.
    fn upload_linear<T: DeviceReal>(&self, plan: &LinearPlan) -> Result<Self::Linear<T>>;
    /// Puts a scatter grouping where the kernels read it.
    fn upload_scatter(&self, plan: &SortedScatter) -> Result<Self::Scatter>;
    /// Puts gather indices where the kernels read them.
    fn upload_gather(&self, index: &GatherIndex) -> Result<Self::Gather>;
    /// Puts an edge list where the kernels read it.
    fn upload_edges(&self, graph: &EdgeGraph) -> Result<Self::Edges>;

    /// Spherical harmonics of `vectors` (`n×3`) into `out` (`n×dim`).
    fn sh_forward<T: DeviceReal>(
        &self,
        plan: &ShPlan,
        vectors: &Self::Buf<T>,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// `grad_vectors = Σ_k grad_out[:, k] ∂Y_k/∂v`.
    fn sh_vjp<T: DeviceReal>(
        &self,
        plan: &ShPlan,
        vectors: &Self::Buf<T>,
        grad_out: &Self::Buf<T>,
        grad_vectors: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// Radial embedding of `lengths` into `out` (`edges × num_basis`).
    fn bessel_forward<T: DeviceReal>(
        &self,
        plan: &RadialPlan,
        lengths: &Self::Buf<T>,
        frequencies: &Self::Buf<T>,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// VJPs of the radial embedding into `grad_lengths` and `grad_frequencies` (summed over
    /// edges); `scratch` holds `edges × num_basis` values.
    #[allow(clippy::too_many_arguments)]
    fn bessel_backward<T: DeviceReal>(
        &self,
        plan: &RadialPlan,
        lengths: &Self::Buf<T>,
        frequencies: &Self::Buf<T>,
        grad_out: &Self::Buf<T>,
        grad_lengths: &mut Self::Buf<T>,
        grad_frequencies: &mut Self::Buf<T>,
        scratch: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// Column sums `out[c] = Σ_r src[r, c]`.
    fn sum_rows<T: DeviceReal>(
        &self,
        src: &Self::Buf<T>,
        width: usize,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// `out[e, :] = x[idx[e], :]`.
    fn gather<T: DeviceReal>(
        &self,
        index: &Self::Gather,
        x: &Self::Buf<T>,
        width: usize,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// `out[t, :] = Σ_{e→t} src[e, :]`.
    fn scatter_sum<T: DeviceReal>(
        &self,
        plan: &Self::Scatter,
        src: &Self::Buf<T>,
        width: usize,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// `out[z] = TP(x1[z], x2[z]; w[z])`.
    fn tp_forward<T: DeviceReal>(
        &self,
        plan: &Self::Uvu<T>,
        x1: &Self::Buf<T>,
        x2: &Self::Buf<T>,
        weights: &Self::Buf<T>,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// Gradients of the tensor product with respect to `x1`, `x2` and the per-sample weights.
    #[allow(clippy::too_many_arguments)]
    fn tp_backward<T: DeviceReal>(
        &self,
        plan: &Self::Uvu<T>,
        x1: &Self::Buf<T>,
        x2: &Self::Buf<T>,
        weights: &Self::Buf<T>,
        grad_out: &Self::Buf<T>,
        grad_x1: &mut Self::Buf<T>,
        grad_x2: &mut Self::Buf<T>,
        grad_weights: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// Gate of a batch `x` (`n × dim_in`) into `out` (`n × dim_out`).
    fn gate_forward<T: DeviceReal>(
        &self,
        plan: &Self::Gate<T>,
        x: &Self::Buf<T>,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// VJP of the gate into `grad_x` (`n × dim_in`).
    fn gate_backward<T: DeviceReal>(
        &self,
        plan: &Self::Gate<T>,
        x: &Self::Buf<T>,
        grad_out: &Self::Buf<T>,
        grad_x: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// `vectors[e] = pos[tip[e]] - pos[origin[e]]` (`edges × 3`).
    fn edge_vectors<T: DeviceReal>(
        &self,
        graph: &Self::Edges,
        pos: &Self::Buf<T>,
        vectors: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// VJP of [`Self::edge_vectors`] into `grad_pos` (`atoms × 3`).
    fn edge_vectors_vjp<T: DeviceReal>(
        &self,
        graph: &Self::Edges,
        grad_vectors: &Self::Buf<T>,
        grad_pos: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// `lengths[e] = |vectors[e]|`.
    fn edge_lengths<T: DeviceReal>(
        &self,
        vectors: &Self::Buf<T>,
        lengths: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// Accumulates the VJP of [`Self::edge_lengths`]: `grad_vectors += grad_lengths v / |v|`.
    fn edge_lengths_vjp<T: DeviceReal>(
        &self,
        vectors: &Self::Buf<T>,
        lengths: &Self::Buf<T>,
        grad_lengths: &Self::Buf<T>,
        grad_vectors: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// An equivariant linear map (or its transpose) of a batch of rows, with one weight
    /// vector or — `sets` given — the vector `sets[row]` of `num_sets` for each row.
    #[allow(clippy::too_many_arguments)]
    fn linear<T: DeviceReal>(
        &self,
        plan: &Self::Linear<T>,
        direction: LinearDirection,
        src: &Self::Buf<T>,
        weights: &Self::Buf<T>,
        sets: Option<&Self::Gather>,
        out: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// Weight gradient of a linear map for inputs `x` and output cotangents `g`, summed over
    /// the rows of each weight set (`grad_w`: `num_sets × weight_numel`, overwritten).
    fn linear_weight_grad<T: DeviceReal>(
        &self,
        plan: &Self::Linear<T>,
        x: &Self::Buf<T>,
        g: &Self::Buf<T>,
        sets: Option<&Self::Gather>,
        grad_w: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// SiLU in place, writing its derivative at the input into `slope`.
    fn silu_with_slope<T: DeviceReal>(
        &self,
        x: &mut Self::Buf<T>,
        slope: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// `y ← y ⊙ x`.
    fn mul_assign<T: DeviceReal>(&self, x: &Self::Buf<T>, y: &mut Self::Buf<T>) -> Result<()>;
    /// `y ← y + a x`.
    fn add_scaled<T: DeviceReal>(
        &self,
        a: f64,
        x: &Self::Buf<T>,
        y: &mut Self::Buf<T>,
    ) -> Result<()>;
    /// Dense row-major `C = α op(A) op(B) + β C` (cuBLAS on a GPU).
    fn gemm<T: DeviceReal>(
        &self,
        shape: GemmShape,
        a: &Self::Buf<T>,
        b: &Self::Buf<T>,
        c: &mut Self::Buf<T>,
    ) -> Result<()>;
}

impl GemmShape {
    /// `C = α A B` with `A`: `m × k`, `B`: `k × n`.
    pub fn plain(m: usize, n: usize, k: usize, alpha: f64) -> Self {
        Self {
            m,
            n,
            k,
            trans_a: Transpose::No,
            trans_b: Transpose::No,
            alpha,
            beta: 0.0,
        }
    }
    /// Required lengths of `(A, B, C)`.
    pub fn lens(&self) -> [usize; 3] {
        [self.m * self.k, self.k * self.n, self.m * self.n]
    }
    /// `(row stride, column stride)` of `op(A)` and `op(B)` in their row-major storage.
    pub fn operand_strides(&self) -> [(usize, usize); 2] {
        let a = match self.trans_a {
            Transpose::No => (self.k, 1),
            Transpose::Yes => (1, self.m),
        };
        let b = match self.trans_b {
            Transpose::No => (self.n, 1),
            Transpose::Yes => (1, self.k),
        };
        [a, b]
    }
    /// Checks the three buffer lengths.
    pub(crate) fn check(&self, a: usize, b: usize, c: usize) -> Result<()> {
        let [la, lb, lc] = self.lens();
        crate::error::check_len("gemm A", a, la)?;
        crate::error::check_len("gemm B", b, lb)?;
        crate::error::check_len("gemm C", c, lc)?;
        crate::error::to_i32("gemm size", self.m.max(self.n).max(self.k))?;
        Ok(())
    }
}
