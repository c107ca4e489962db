//! The kernels compiled as C++ for the host (emulation/shim.h) and run over their full launch
//! grid, one thread after the other: the same sources and the same host tables as on the GPU,
//! so that every CI run checks the kernels' arithmetic against mlff-e3 without a GPU.
//!
//! The methods mirror [`crate::CudaBackend`]'s with host slices in place of device buffers.
//! They are sequential and meant for testing and debugging, not speed.

use crate::backend::{Backend, GemmShape, LinearDirection};
use crate::error::{Result, check_len};
use crate::plan::tensor_product::ContractTable;
use crate::plan::{
    BLOCK_SIZE, EdgeGraph, GatePlan, GatherIndex, LinearPlan, ROWS_PER_THREAD, RadialPlan, ShPlan,
    SortedScatter, UvuPlan, edge_count, grid_size,
};
use crate::real::DeviceReal;

unsafe extern "C" {
    fn mlff_emu_set_thread(block: u32, thread: u32, block_dim: u32, grid_dim: u32);
}

/// Function pointers to the host instantiation of every kernel for one precision `R`.
#[doc(hidden)]
pub struct EmulatedKernels<R> {
    sh_forward: unsafe extern "C" fn(i32, i32, i32, *const R, *mut R),
    sh_vjp: unsafe extern "C" fn(i32, i32, i32, *const R, *const R, *mut R),
    bessel_forward: unsafe extern "C" fn(i32, i32, R, i32, *const R, *const R, *mut R),
    #[allow(clippy::type_complexity)]
    bessel_backward:
        unsafe extern "C" fn(i32, i32, R, i32, *const R, *const R, *const R, *mut R, *mut R),
    sum_rows: unsafe extern "C" fn(i32, i32, i32, *const R, *mut R),
    gather_rows: unsafe extern "C" fn(i32, i32, *const i32, *const R, *mut R),
    scatter_sum_sorted: unsafe extern "C" fn(i32, i32, *const i32, *const i32, *const R, *mut R),
    #[allow(clippy::type_complexity)]
    tp_contract: unsafe extern "C" fn(
        i32,
        i32,
        *const i32,
        *const i32,
        *const i32,
        *const R,
        *const R,
        i32,
        *const R,
        i32,
        *const R,
        i32,
        *mut R,
    ),
    #[allow(clippy::type_complexity)]
    tp_weight_grad: unsafe extern "C" fn(
        i32,
        i32,
        *const i32,
        *const i32,
        *const R,
        *const R,
        i32,
        *const R,
        i32,
        *const R,
        i32,
        *mut R,
    ),
    gate_forward: unsafe extern "C" fn(i32, i32, i32, *const i32, *const R, *const R, *mut R),
    edge_vectors: unsafe extern "C" fn(i32, *const i32, *const i32, *const R, *mut R),
    #[allow(clippy::type_complexity)]
    edge_vectors_vjp:
        unsafe extern "C" fn(i32, *const i32, *const i32, *const i32, *const i32, *const R, *mut R),
    #[allow(clippy::type_complexity)]
    gate_backward:
        unsafe extern "C" fn(i32, i32, i32, *const i32, *const R, *const R, *const R, *mut R),
    edge_lengths: unsafe extern "C" fn(i32, *const R, *mut R),
    edge_lengths_vjp: unsafe extern "C" fn(i32, *const R, *const R, *const R, *mut R),
    #[allow(clippy::type_complexity)]
    linear_rows: unsafe extern "C" fn(
        i32,
        i32,
        i32,
        *const i32,
        *const i32,
        *const R,
        *const i32,
        i32,
        *const R,
        *const R,
        *mut R,
    ),
    silu_with_slope: unsafe extern "C" fn(i64, *mut R, *mut R),
    #[allow(clippy::type_complexity)]
    linear_weight_grad: unsafe extern "C" fn(
        i32,
        i32,
        i32,
        i32,
        i32,
        *const i32,
        *const R,
        *const i32,
        i32,
        *const R,
        *const R,
        *mut R,
    ),
    #[allow(clippy::type_complexity)]
    gemm_rows: unsafe extern "C" fn(
        i32,
        i32,
        i32,
        R,
        *const R,
        i32,
        i32,
        *const R,
        i32,
        i32,
        R,
        i32,
        *mut R,
    ),
    mul_assign: unsafe extern "C" fn(i64, *const R, *mut R),
    add_scaled: unsafe extern "C" fn(i64, R, *const R, *mut R),
}

macro_rules! emulated_kernels {
    ($module:ident, $real:ty, $suffix:literal) => {
        mod $module {
            type R = $real;
            unsafe extern "C" {
                #[link_name = concat!("sh_forward_", $suffix)]
                pub fn sh_forward(n: i32, lmax: i32, normalize: i32, v: *const R, out: *mut R);
                #[link_name = concat!("sh_vjp_", $suffix)]
                pub fn sh_vjp(
                    n: i32,
                    lmax: i32,
                    normalize: i32,
                    v: *const R,
                    g: *const R,
                    gv: *mut R,
                );
                #[link_name = concat!("bessel_forward_", $suffix)]
                pub fn bessel_forward(
                    ne: i32,
                    nb: i32,
                    r_max: R,
                    p: i32,
                    r: *const R,
                    w: *const R,
                    out: *mut R,
                );
                #[link_name = concat!("bessel_backward_", $suffix)]
                pub fn bessel_backward(
                    ne: i32,
                    nb: i32,
                    r_max: R,
                    p: i32,
                    r: *const R,
                    w: *const R,
                    g: *const R,
                    gr: *mut R,
                    terms: *mut R,
                );
                #[link_name = concat!("sum_rows_", $suffix)]
                pub fn sum_rows(rows: i32, width: i32, per_thread: i32, src: *const R, out: *mut R);
                #[link_name = concat!("gather_rows_", $suffix)]
                pub fn gather_rows(n: i32, width: i32, idx: *const i32, x: *const R, out: *mut R);
                #[link_name = concat!("scatter_sum_sorted_", $suffix)]
                pub fn scatter_sum_sorted(
                    nt: i32,
                    width: i32,
                    start: *const i32,
                    edges: *const i32,
                    src: *const R,
                    out: *mut R,
                );
                #[link_name = concat!("tp_contract_", $suffix)]
                pub fn tp_contract(
                    n: i32,
                    rows: i32,
                    row_start: *const i32,
                    terms: *const i32,
                    pairs: *const i32,
                    coef: *const R,
                    a: *const R,
                    wa: i32,
                    b: *const R,
                    wb: i32,
                    w: *const R,
                    nw: i32,
                    out: *mut R,
                );
                #[link_name = concat!("tp_weight_grad_", $suffix)]
                pub fn tp_weight_grad(
                    n: i32,
                    nw: i32,
                    wterms: *const i32,
                    ijk: *const i32,
                    coef: *const R,
                    x1: *const R,
                    w1: i32,
                    x2: *const R,
                    w2: i32,
                    g: *const R,
                    wo: i32,
                    gw: *mut R,
                );
                #[link_name = concat!("gate_forward_", $suffix)]
                pub fn gate_forward(
                    n: i32,
                    din: i32,
                    dout: i32,
                    table: *const i32,
                    scale: *const R,
                    x: *const R,
                    out: *mut R,
                );
                #[link_name = concat!("edge_vectors_", $suffix)]
                pub fn edge_vectors(
                    ne: i32,
                    origin: *const i32,
                    tip: *const i32,
                    pos: *const R,
                    out: *mut R,
                );
                #[link_name = concat!("edge_vectors_vjp_", $suffix)]
                pub fn edge_vectors_vjp(
                    na: i32,
                    tip_start: *const i32,
                    tip_edges: *const i32,
                    origin_start: *const i32,
                    origin_edges: *const i32,
                    g: *const R,
                    gp: *mut R,
                );
                #[link_name = concat!("gate_backward_", $suffix)]
                pub fn gate_backward(
                    n: i32,
                    din: i32,
                    dout: i32,
                    table: *const i32,
                    scale: *const R,
                    x: *const R,
                    g: *const R,
                    gx: *mut R,
                );
                #[link_name = concat!("edge_lengths_", $suffix)]
                pub fn edge_lengths(ne: i32, vec: *const R, len: *mut R);
                #[link_name = concat!("edge_lengths_vjp_", $suffix)]
                pub fn edge_lengths_vjp(
                    ne: i32,
                    vec: *const R,
                    len: *const R,
                    g_len: *const R,
                    g_vec: *mut R,
                );
                #[link_name = concat!("linear_rows_", $suffix)]
                pub fn linear_rows(
                    rows: i32,
                    width_src: i32,
                    width_out: i32,
                    col_start: *const i32,
                    terms: *const i32,
                    coef: *const R,
                    weight_set: *const i32,
                    set_stride: i32,
                    src: *const R,
                    w: *const R,
                    out: *mut R,
                );
                #[link_name = concat!("gemm_rows_", $suffix)]
                pub fn gemm_rows(
                    m: i32,
                    n: i32,
                    k: i32,
                    alpha: R,
                    a: *const R,
                    a_row: i32,
                    a_col: i32,
                    b: *const R,
                    b_row: i32,
                    b_col: i32,
                    beta: R,
                    use_beta: i32,
                    c: *mut R,
                );
                #[link_name = concat!("linear_weight_grad_", $suffix)]
                pub fn linear_weight_grad(
                    rows: i32,
                    width_x: i32,
                    width_g: i32,
                    num_weights: i32,
                    num_sets: i32,
                    wterms: *const i32,
                    wcoef: *const R,
                    weight_set: *const i32,
                    per_set: i32,
                    x: *const R,
                    g: *const R,
                    grad_w: *mut R,
                );
                #[link_name = concat!("silu_with_slope_", $suffix)]
                pub fn silu_with_slope(n: i64, x: *mut R, slope: *mut R);
                #[link_name = concat!("mul_assign_", $suffix)]
                pub fn mul_assign(n: i64, x: *const R, y: *mut R);
                #[link_name = concat!("add_scaled_", $suffix)]
                pub fn add_scaled(n: i64, a: R, x: *const R, y: *mut R);
            }
        }

        impl crate::real::sealed::EmulatedReal for $real {
            fn emulated() -> &'static EmulatedKernels<$real> {
                static KERNELS: EmulatedKernels<$real> = EmulatedKernels {
                    sh_forward: $module::sh_forward,
                    sh_vjp: $module::sh_vjp,
                    bessel_forward: $module::bessel_forward,
                    bessel_backward: $module::bessel_backward,
                    sum_rows: $module::sum_rows,
                    gather_rows: $module::gather_rows,
                    scatter_sum_sorted: $module::scatter_sum_sorted,
                    tp_contract: $module::tp_contract,
                    tp_weight_grad: $module::tp_weight_grad,
                    gate_forward: $module::gate_forward,
                    gate_backward: $module::gate_backward,
                    edge_vectors: $module::edge_vectors,
                    edge_vectors_vjp: $module::edge_vectors_vjp,
                    edge_lengths: $module::edge_lengths,
                    edge_lengths_vjp: $module::edge_lengths_vjp,
                    linear_rows: $module::linear_rows,
                    silu_with_slope: $module::silu_with_slope,
                    linear_weight_grad: $module::linear_weight_grad,
                    gemm_rows: $module::gemm_rows,
                    mul_assign: $module::mul_assign,
                    add_scaled: $module::add_scaled,
                };
                &KERNELS
            }
        }
    };
}

emulated_kernels!(kernels_f64, f64, "f64");
emulated_kernels!(kernels_f32, f32, "f32");
emulated_kernels!(kernels_df64, mlff_e3::Dual<f64>, "df64");
emulated_kernels!(kernels_df32, mlff_e3::Dual<f32>, "df32");

/// Runs `thread` for every (block, thread) of a 1-D launch over `work_items` items.
fn run_grid(work_items: usize, mut thread: impl FnMut()) -> Result<()> {
    let Some(grid) = grid_size(work_items)? else {
        return Ok(());
    };
    for block in 0..grid {
        for t in 0..BLOCK_SIZE {
            // SAFETY: sets this OS thread's emulated indices; no pointers involved.
            unsafe { mlff_emu_set_thread(block, t, BLOCK_SIZE, grid) };
            thread();
        }
    }
    Ok(())
}

fn to_real<T: DeviceReal>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&c| T::from_f64(c)).collect()
}

/// The CPU emulation of the CUDA backend.
#[derive(Clone, Copy, Debug, Default)]
pub struct Emulator;

// SAFETY (every `unsafe` kernel call below): the plan's `args` checked every buffer length
// against the sizes the kernel indexes with, and all index tables were validated when the plan
// was built, so each emulated thread reads and writes inside the slices passed.
#[allow(unsafe_code)]
impl Backend for Emulator {
    type Buf<T: DeviceReal> = Vec<T>;
    type Uvu<T: DeviceReal> = UvuPlan;
    type Gate<T: DeviceReal> = GatePlan;
    type Linear<T: DeviceReal> = LinearPlan;
    type Scatter = SortedScatter;
    type Gather = GatherIndex;
    type Edges = EdgeGraph;

    fn describe(&self) -> String {
        "CPU emulation of the CUDA kernels".into()
    }
    fn upload<T: DeviceReal>(&self, host: &[T]) -> Result<Vec<T>> {
        Ok(host.to_vec())
    }
    fn download<T: DeviceReal>(&self, buf: &Vec<T>) -> Result<Vec<T>> {
        Ok(buf.clone())
    }
    fn zeros<T: DeviceReal>(&self, len: usize) -> Result<Vec<T>> {
        Ok(vec![T::zero(); len])
    }
    fn len<T: DeviceReal>(buf: &Vec<T>) -> usize {
        buf.len()
    }
    fn upload_uvu<T: DeviceReal>(&self, plan: &UvuPlan) -> Result<UvuPlan> {
        Ok(plan.clone())
    }
    fn upload_gate<T: DeviceReal>(&self, plan: &GatePlan) -> Result<GatePlan> {
        Ok(plan.clone())
    }
    fn upload_linear<T: DeviceReal>(&self, plan: &LinearPlan) -> Result<LinearPlan> {
        Ok(plan.clone())
    }
    fn upload_scatter(&self, plan: &SortedScatter) -> Result<SortedScatter> {
        Ok(plan.clone())
    }
    fn upload_gather(&self, index: &GatherIndex) -> Result<GatherIndex> {
        Ok(index.clone())
    }
    fn upload_edges(&self, graph: &EdgeGraph) -> Result<EdgeGraph> {
        Ok(graph.clone())
    }

    /// Spherical harmonics of `vectors` (`n×3`) into `out` (`n×dim`).
    fn sh_forward<T: DeviceReal>(
        &self,
        plan: &ShPlan,
        vectors: &Vec<T>,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let [n, lmax, norm] = plan.args(vectors.len(), out.len(), plan.dim())?;
        let k = T::emulated().sh_forward;
        run_grid(n as usize, || unsafe {
            k(n, lmax, norm, vectors.as_ptr(), out.as_mut_ptr())
        })
    }

    /// `grad_vectors = Σ_k grad_out[:, k] ∂Y_k/∂v` (overwritten).
    fn sh_vjp<T: DeviceReal>(
        &self,
        plan: &ShPlan,
        vectors: &Vec<T>,
        grad_out: &Vec<T>,
        grad_vectors: &mut Vec<T>,
    ) -> Result<()> {
        let [n, lmax, norm] = plan.args(vectors.len(), grad_out.len(), plan.dim())?;
        plan.args(vectors.len(), grad_vectors.len(), 3)?;
        let k = T::emulated().sh_vjp;
        run_grid(n as usize, || unsafe {
            k(
                n,
                lmax,
                norm,
                vectors.as_ptr(),
                grad_out.as_ptr(),
                grad_vectors.as_mut_ptr(),
            )
        })
    }

    /// Radial embedding of `lengths` into `out` (`edges × num_basis`).
    fn bessel_forward<T: DeviceReal>(
        &self,
        plan: &RadialPlan,
        lengths: &Vec<T>,
        frequencies: &Vec<T>,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let [ne, nb, p] = plan.args(
            lengths.len(),
            frequencies.len(),
            &[("bessel out", out.len())],
        )?;
        let (k, r_max) = (T::emulated().bessel_forward, T::from_f64(plan.r_max()));
        run_grid(ne as usize * nb as usize, || unsafe {
            k(
                ne,
                nb,
                r_max,
                p,
                lengths.as_ptr(),
                frequencies.as_ptr(),
                out.as_mut_ptr(),
            )
        })
    }

    /// VJPs of the radial embedding: overwrites `grad_lengths` (`edges`) and
    /// `grad_frequencies` (`num_basis`, summed over edges).
    fn bessel_backward<T: DeviceReal>(
        &self,
        plan: &RadialPlan,
        lengths: &Vec<T>,
        frequencies: &Vec<T>,
        grad_out: &Vec<T>,
        grad_lengths: &mut Vec<T>,
        grad_frequencies: &mut Vec<T>,
        scratch: &mut Vec<T>,
    ) -> Result<()> {
        let [ne, nb, p] = plan.args(
            lengths.len(),
            frequencies.len(),
            &[
                ("bessel grad_out", grad_out.len()),
                ("bessel scratch", scratch.len()),
            ],
        )?;
        crate::error::check_len("bessel grad_lengths", grad_lengths.len(), lengths.len())?;
        crate::error::check_len(
            "bessel grad_frequencies",
            grad_frequencies.len(),
            nb as usize,
        )?;
        let (k, r_max) = (T::emulated().bessel_backward, T::from_f64(plan.r_max()));
        run_grid(ne as usize, || unsafe {
            k(
                ne,
                nb,
                r_max,
                p,
                lengths.as_ptr(),
                frequencies.as_ptr(),
                grad_out.as_ptr(),
                grad_lengths.as_mut_ptr(),
                scratch.as_mut_ptr(),
            )
        })?;
        self.sum_rows(scratch, nb as usize, grad_frequencies)
    }

    /// Column sums `out[c] = Σ_r src[r, c]` (overwritten).
    fn sum_rows<T: DeviceReal>(&self, src: &Vec<T>, width: usize, out: &mut Vec<T>) -> Result<()> {
        crate::error::check_len("sum_rows out", out.len(), width)?;
        let rows = src.len().checked_div(width).unwrap_or(0);
        crate::error::check_len("sum_rows src", src.len(), rows * width)?;
        out.fill(T::zero());
        let (r, w) = (
            crate::error::to_i32("sum_rows rows", rows)?,
            crate::error::to_i32("sum_rows width", width)?,
        );
        let k = T::emulated().sum_rows;
        run_grid(rows.div_ceil(ROWS_PER_THREAD) * width, || unsafe {
            k(r, w, ROWS_PER_THREAD as i32, src.as_ptr(), out.as_mut_ptr())
        })
    }

    /// `out[e, :] = x[idx[e], :]`.
    fn gather<T: DeviceReal>(
        &self,
        index: &GatherIndex,
        x: &Vec<T>,
        width: usize,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let [n, w] = index.args(width, x.len(), out.len())?;
        let (k, idx) = (T::emulated().gather_rows, index.indices());
        run_grid(n as usize * width, || unsafe {
            k(n, w, idx.as_ptr(), x.as_ptr(), out.as_mut_ptr())
        })
    }

    /// `out[t, :] = Σ_{e→t} src[e, :]` (overwritten).
    fn scatter_sum<T: DeviceReal>(
        &self,
        plan: &SortedScatter,
        src: &Vec<T>,
        width: usize,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let [nt, w] = plan.args(width, src.len(), out.len())?;
        let k = T::emulated().scatter_sum_sorted;
        run_grid(nt as usize * width, || unsafe {
            k(
                nt,
                w,
                plan.start().as_ptr(),
                plan.edges().as_ptr(),
                src.as_ptr(),
                out.as_mut_ptr(),
            )
        })
    }

    /// `out[z] = TP(x1[z], x2[z]; w[z])` (overwritten).
    fn tp_forward<T: DeviceReal>(
        &self,
        plan: &UvuPlan,
        x1: &Vec<T>,
        x2: &Vec<T>,
        weights: &Vec<T>,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let [d1, d2, _] = plan.dims();
        let wn = plan.weight_numel();
        let n = plan.forward_batch([x1.len(), x2.len(), weights.len(), out.len()])?;
        contract(plan.forward(), n, (x1, d1), (x2, d2), (weights, wn), out)
    }

    /// Gradients of the tensor product with respect to `x1`, `x2` and the per-sample weights
    /// (all overwritten).
    #[allow(clippy::too_many_arguments)]
    fn tp_backward<T: DeviceReal>(
        &self,
        plan: &UvuPlan,
        x1: &Vec<T>,
        x2: &Vec<T>,
        weights: &Vec<T>,
        grad_out: &Vec<T>,
        grad_x1: &mut Vec<T>,
        grad_x2: &mut Vec<T>,
        grad_weights: &mut Vec<T>,
    ) -> Result<()> {
        let [d1, d2, d3] = plan.dims();
        let wn = plan.weight_numel();
        let n = plan.backward_batch([
            x1.len(),
            x2.len(),
            weights.len(),
            grad_out.len(),
            grad_x1.len(),
            grad_x2.len(),
            grad_weights.len(),
        ])?;
        contract(
            plan.grad_x1(),
            n,
            (grad_out, d3),
            (x2, d2),
            (weights, wn),
            grad_x1,
        )?;
        contract(
            plan.grad_x2(),
            n,
            (x1, d1),
            (grad_out, d3),
            (weights, wn),
            grad_x2,
        )?;
        let table = plan.weight_grad();
        let coef = to_real::<T>(&table.coef);
        let k = T::emulated().tp_weight_grad;
        run_grid(n * wn, || unsafe {
            k(
                n as i32,
                wn as i32,
                table.wterms.as_ptr(),
                table.ijk.as_ptr(),
                coef.as_ptr(),
                x1.as_ptr(),
                d1 as i32,
                x2.as_ptr(),
                d2 as i32,
                grad_out.as_ptr(),
                d3 as i32,
                grad_weights.as_mut_ptr(),
            )
        })
    }

    /// Gate of a batch `x` (`n × dim_in`) into `out` (`n × dim_out`).
    fn gate_forward<T: DeviceReal>(
        &self,
        plan: &GatePlan,
        x: &Vec<T>,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let dout = plan.reference().irreps_out().dim();
        let [n, din, dout32] = plan.args(x.len(), &[("gate out", out.len(), dout)])?;
        let scale = to_real::<T>(plan.out_scale());
        let k = T::emulated().gate_forward;
        run_grid(n as usize * dout, || unsafe {
            k(
                n,
                din,
                dout32,
                plan.out_table().as_ptr(),
                scale.as_ptr(),
                x.as_ptr(),
                out.as_mut_ptr(),
            )
        })
    }

    /// VJP of the gate: overwrites `grad_x` (`n × dim_in`).
    fn gate_backward<T: DeviceReal>(
        &self,
        plan: &GatePlan,
        x: &Vec<T>,
        grad_out: &Vec<T>,
        grad_x: &mut Vec<T>,
    ) -> Result<()> {
        let (din, dout) = (
            plan.reference().irreps_in().dim(),
            plan.reference().irreps_out().dim(),
        );
        let [n, din32, dout32] = plan.args(
            x.len(),
            &[
                ("gate grad_out", grad_out.len(), dout),
                ("gate grad_x", grad_x.len(), din),
            ],
        )?;
        let scale = to_real::<T>(plan.in_scale());
        let k = T::emulated().gate_backward;
        run_grid(n as usize * din, || unsafe {
            k(
                n,
                din32,
                dout32,
                plan.in_table().as_ptr(),
                scale.as_ptr(),
                x.as_ptr(),
                grad_out.as_ptr(),
                grad_x.as_mut_ptr(),
            )
        })
    }

    /// `vectors[e] = pos[tip[e]] - pos[origin[e]]` (`edges × 3`).
    fn edge_vectors<T: DeviceReal>(
        &self,
        graph: &EdgeGraph,
        pos: &Vec<T>,
        vectors: &mut Vec<T>,
    ) -> Result<()> {
        let [ne, _] = graph.args(
            &[("positions", pos.len())],
            &[("edge vectors", vectors.len())],
        )?;
        let k = T::emulated().edge_vectors;
        run_grid(3 * ne as usize, || unsafe {
            k(
                ne,
                graph.origin().as_ptr(),
                graph.tip().as_ptr(),
                pos.as_ptr(),
                vectors.as_mut_ptr(),
            )
        })
    }

    /// VJP of [`Self::edge_vectors`]: overwrites `grad_pos` (`atoms × 3`).
    fn edge_vectors_vjp<T: DeviceReal>(
        &self,
        graph: &EdgeGraph,
        grad_vectors: &Vec<T>,
        grad_pos: &mut Vec<T>,
    ) -> Result<()> {
        let [_, na] = graph.args(
            &[("grad positions", grad_pos.len())],
            &[("grad edge vectors", grad_vectors.len())],
        )?;
        let (t, o) = (graph.by_tip(), graph.by_origin());
        let k = T::emulated().edge_vectors_vjp;
        run_grid(3 * na as usize, || unsafe {
            k(
                na,
                t.start().as_ptr(),
                t.edges().as_ptr(),
                o.start().as_ptr(),
                o.edges().as_ptr(),
                grad_vectors.as_ptr(),
                grad_pos.as_mut_ptr(),
            )
        })
    }

    fn edge_lengths<T: DeviceReal>(&self, vectors: &Vec<T>, lengths: &mut Vec<T>) -> Result<()> {
        let ne = edge_count(vectors.len(), lengths.len())?;
        let k = T::emulated().edge_lengths;
        run_grid(ne as usize, || unsafe {
            k(ne, vectors.as_ptr(), lengths.as_mut_ptr())
        })
    }

    fn edge_lengths_vjp<T: DeviceReal>(
        &self,
        vectors: &Vec<T>,
        lengths: &Vec<T>,
        grad_lengths: &Vec<T>,
        grad_vectors: &mut Vec<T>,
    ) -> Result<()> {
        let ne = edge_count(vectors.len(), lengths.len())?;
        check_len("grad lengths", grad_lengths.len(), lengths.len())?;
        check_len("grad edge vectors", grad_vectors.len(), vectors.len())?;
        let k = T::emulated().edge_lengths_vjp;
        run_grid(3 * ne as usize, || unsafe {
            k(
                ne,
                vectors.as_ptr(),
                lengths.as_ptr(),
                grad_lengths.as_ptr(),
                grad_vectors.as_mut_ptr(),
            )
        })
    }

    fn linear<T: DeviceReal>(
        &self,
        plan: &LinearPlan,
        direction: LinearDirection,
        src: &Vec<T>,
        weights: &Vec<T>,
        sets: Option<&GatherIndex>,
        out: &mut Vec<T>,
    ) -> Result<()> {
        let table = plan.table(direction);
        let [rows, stride] = plan.args(table, src.len(), weights.len(), sets, out.len())?;
        let coef = to_real::<T>(&table.coef);
        let sets = sets.map_or([0].as_slice(), |s| s.indices());
        let (ws, wo) = (table.width_src as i32, table.width_out() as i32);
        let k = T::emulated().linear_rows;
        run_grid(rows as usize * table.width_out(), || unsafe {
            k(
                rows,
                ws,
                wo,
                table.col_start.as_ptr(),
                table.terms.as_ptr(),
                coef.as_ptr(),
                sets.as_ptr(),
                stride,
                src.as_ptr(),
                weights.as_ptr(),
                out.as_mut_ptr(),
            )
        })
    }

    fn linear_weight_grad<T: DeviceReal>(
        &self,
        plan: &LinearPlan,
        x: &Vec<T>,
        g: &Vec<T>,
        sets: Option<&GatherIndex>,
        grad_w: &mut Vec<T>,
    ) -> Result<()> {
        let rows = plan.weight_grad_args(x.len(), g.len(), sets, grad_w.len())?;
        let coef = to_real::<T>(plan.weight_coef());
        let (nw, ns) = (plan.weight_numel(), plan.num_sets());
        let (wx, wg) = (plan.forward().width_src, plan.forward().width_out());
        let per_set = i32::from(sets.is_some());
        let sets = sets.map_or([0].as_slice(), |s| s.indices());
        let k = T::emulated().linear_weight_grad;
        run_grid(nw * ns, || unsafe {
            k(
                rows,
                wx as i32,
                wg as i32,
                nw as i32,
                ns as i32,
                plan.weight_terms().as_ptr(),
                coef.as_ptr(),
                sets.as_ptr(),
                per_set,
                x.as_ptr(),
                g.as_ptr(),
                grad_w.as_mut_ptr(),
            )
        })
    }

    fn silu_with_slope<T: DeviceReal>(&self, x: &mut Vec<T>, slope: &mut Vec<T>) -> Result<()> {
        check_len("silu slope", slope.len(), x.len())?;
        let k = T::emulated().silu_with_slope;
        run_grid(x.len(), || unsafe {
            k(x.len() as i64, x.as_mut_ptr(), slope.as_mut_ptr())
        })
    }

    fn mul_assign<T: DeviceReal>(&self, x: &Vec<T>, y: &mut Vec<T>) -> Result<()> {
        check_len("mul_assign y", y.len(), x.len())?;
        let k = T::emulated().mul_assign;
        run_grid(x.len(), || unsafe {
            k(x.len() as i64, x.as_ptr(), y.as_mut_ptr())
        })
    }

    fn add_scaled<T: DeviceReal>(&self, a: f64, x: &Vec<T>, y: &mut Vec<T>) -> Result<()> {
        check_len("add_scaled y", y.len(), x.len())?;
        let (k, a) = (T::emulated().add_scaled, T::from_f64(a));
        run_grid(x.len(), || unsafe {
            k(x.len() as i64, a, x.as_ptr(), y.as_mut_ptr())
        })
    }

    /// Runs kernels/gemm.cu, the product the GPU runs for duals (and cuBLAS for floats).
    fn gemm<T: DeviceReal>(
        &self,
        shape: GemmShape,
        a: &Vec<T>,
        b: &Vec<T>,
        c: &mut Vec<T>,
    ) -> Result<()> {
        shape.check(a.len(), b.len(), c.len())?;
        let [(ar, ac), (br, bc)] = shape.operand_strides();
        let [m, n, kk, ar, ac, br, bc] =
            [shape.m, shape.n, shape.k, ar, ac, br, bc].map(|v| v as i32);
        let (alpha, beta) = (T::from_f64(shape.alpha), T::from_f64(shape.beta));
        let use_beta = i32::from(shape.beta != 0.0);
        let k = T::emulated().gemm_rows;
        run_grid(shape.m * shape.n, || unsafe {
            k(
                m,
                n,
                kk,
                alpha,
                a.as_ptr(),
                ar,
                ac,
                b.as_ptr(),
                br,
                bc,
                beta,
                use_beta,
                c.as_mut_ptr(),
            )
        })
    }
}

/// Runs `tp_contract` (one role of the tensor product) over its grid.
#[allow(unsafe_code)]
fn contract<T: DeviceReal>(
    table: &ContractTable,
    n: usize,
    (a, width_a): (&[T], usize),
    (b, width_b): (&[T], usize),
    (w, num_w): (&[T], usize),
    out: &mut [T],
) -> Result<()> {
    let rows = table.row_start.len() - 1;
    let coef = to_real::<T>(&table.coef);
    let k = T::emulated().tp_contract;
    run_grid(n * rows, || unsafe {
        k(
            n as i32,
            rows as i32,
            table.row_start.as_ptr(),
            table.terms.as_ptr(),
            table.pairs.as_ptr(),
            coef.as_ptr(),
            a.as_ptr(),
            width_a as i32,
            b.as_ptr(),
            width_b as i32,
            w.as_ptr(),
            num_w as i32,
            out.as_mut_ptr(),
        )
    })
}
