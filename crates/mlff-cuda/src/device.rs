//! The CUDA backend: a device context, run-time compiled kernels and typed launches on
//! device-resident buffers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, GemmConfig};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DeviceRepr, DriverError, LaunchArgs,
    LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use cudarc::nvrtc::Ptx;

use crate::backend::{Backend, GemmShape, LinearDirection, Transpose};
use crate::error::{CudaError, Result, check_len, to_i32};
use crate::kernels::{self, Precision};
use crate::plan::tensor_product::ContractTable;
use crate::plan::{
    BLOCK_SIZE, EdgeGraph, GatePlan, GatherIndex, LinearPlan, LinearTable, ROWS_PER_THREAD,
    RadialPlan, ShPlan, SortedScatter, UvuPlan, edge_count, grid_size,
};
use crate::real::DeviceReal;

fn driver(what: &'static str) -> impl FnOnce(DriverError) -> CudaError {
    move |e| CudaError::Driver {
        what,
        message: e.to_string(),
    }
}

/// One GPU with its stream and the kernels compiled for its architecture (on first use).
pub struct CudaBackend {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    arch: &'static str,
    /// Loaded kernels by exported name (`sh_forward_f64`, …).
    functions: Mutex<HashMap<String, CudaFunction>>,
    /// cuBLAS handle on `stream`, created on the first GEMM.
    blas: Mutex<Option<Arc<CudaBlas>>>,
}

impl std::fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaBackend")
            .field("ordinal", &self.ctx.ordinal())
            .field("arch", &self.arch)
            .finish()
    }
}

/// Whether the CUDA driver library (libcuda) can be opened on this machine.
pub fn driver_available() -> bool {
    // SAFETY: only tries to dlopen the library by its candidate names; no symbol is called.
    unsafe { cudarc::driver::sys::is_culib_present() }
}

impl CudaBackend {
    /// Opens GPU `ordinal`; a typed error (never a panic) when there is no driver, no such
    /// device, an unknown architecture or no NVRTC.
    pub fn new(ordinal: usize) -> Result<Self> {
        // cudarc panics when libcuda is missing, so look for it first.
        if !driver_available() {
            return Err(CudaError::NoDevice {
                reason: "the CUDA driver library libcuda.so cannot be opened".into(),
            });
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| CudaError::NoDevice {
            reason: format!("device {ordinal}: {e}"),
        })?;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(driver("reading the compute capability"))?;
        let arch = kernels::arch_for(major, minor)?;
        if !kernels::nvrtc_available() {
            return Err(CudaError::NvrtcMissing);
        }
        let stream = ctx.default_stream();
        Ok(Self {
            ctx,
            stream,
            arch,
            functions: Mutex::new(HashMap::new()),
            blas: Mutex::new(None),
        })
    }

    /// The device's name, e.g. "NVIDIA H100 80GB HBM3".
    pub fn device_name(&self) -> Result<String> {
        self.ctx.name().map_err(driver("reading the device name"))
    }
    /// NVRTC architecture the kernels are compiled for (`compute_90` on an H100).
    pub fn arch(&self) -> &'static str {
        self.arch
    }
    /// The stream every launch is queued on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }
    /// Waits for every queued launch and copy.
    pub fn synchronize(&self) -> Result<()> {
        self.stream.synchronize().map_err(driver("synchronising"))
    }
    /// Copies host values (reals or index tables) to a new allocation.
    fn copy_to_device<T: DeviceRepr>(&self, host: &[T]) -> Result<CudaSlice<T>> {
        self.stream
            .clone_htod(host)
            .map_err(driver("copying to the device"))
    }
    /// Copies an allocation back to the host.
    fn copy_to_host<T: DeviceRepr>(&self, device: &CudaSlice<T>) -> Result<Vec<T>> {
        self.stream
            .clone_dtoh(device)
            .map_err(driver("copying to the host"))
    }
    /// A zero-filled allocation of `len` values (`len ≥ 1`).
    fn alloc_zeroed<T: DeviceRepr + ValidAsZeroBits>(&self, len: usize) -> Result<CudaSlice<T>> {
        self.stream.alloc_zeros(len).map_err(driver("allocating"))
    }

    /// The cuBLAS handle, created (after checking that libcublas can be opened) on first use.
    fn blas(&self) -> Result<Arc<CudaBlas>> {
        let mut slot = self.blas.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = slot.as_ref() {
            return Ok(b.clone());
        }
        // SAFETY: only tries to dlopen the library; cudarc panics on a missing one otherwise.
        if !unsafe { cudarc::cublas::sys::is_culib_present() } {
            return Err(CudaError::CublasMissing);
        }
        let blas = CudaBlas::new(self.stream.clone()).map_err(|e| CudaError::Driver {
            what: "creating a cuBLAS handle",
            message: e.to_string(),
        })?;
        Ok(slot.insert(Arc::new(blas)).clone())
    }

    /// The loaded kernel `name` in `precision`, compiling its file with NVRTC on first use.
    fn function(&self, name: &str, precision: Precision) -> Result<CudaFunction> {
        let exported = kernels::exported_name(name, precision);
        let mut cache = self.functions.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = cache.get(&exported) {
            return Ok(f.clone());
        }
        let file = kernels::file_of(name)
            .ok_or_else(|| CudaError::Unsupported(format!("no kernel named {name}")))?;
        let ptx: Ptx = kernels::compile(file, precision, self.arch)?;
        let module = self
            .ctx
            .load_module(ptx)
            .map_err(driver("loading a module"))?;
        for k in file.kernels {
            let e = kernels::exported_name(k, precision);
            let f = module
                .load_function(&e)
                .map_err(driver("loading a kernel"))?;
            cache.insert(e, f);
        }
        Ok(cache[&exported].clone())
    }

    /// The kernel and launch shape for `work_items` threads, `None` when there is no work.
    fn prepare<T: DeviceReal>(
        &self,
        name: &str,
        work_items: usize,
    ) -> Result<Option<(CudaFunction, LaunchConfig)>> {
        let Some(grid) = grid_size(work_items)? else {
            return Ok(None);
        };
        let cfg = LaunchConfig {
            grid_dim: (grid, 1, 1),
            block_dim: (BLOCK_SIZE, 1, 1),
            shared_mem_bytes: 0,
        };
        Ok(Some((self.function(name, T::PRECISION)?, cfg)))
    }
}

/// Queues a launch whose arguments were pushed in the kernel's parameter order.
fn run(mut args: LaunchArgs<'_>, cfg: LaunchConfig) -> Result<()> {
    // SAFETY: the callers check every buffer against the sizes the kernel indexes with and
    // push the arguments with the kernel's parameter types, in order (the emulator calls the
    // same kernels through typed declarations with the same order).
    unsafe { args.launch(cfg) }
        .map(|_| ())
        .map_err(driver("launching a kernel"))
}

/// Launches kernel `$name` in precision `$t` over `$work` threads with the given arguments.
macro_rules! launch {
    ($backend:expr, $t:ty, $name:literal, $work:expr, [$($arg:expr),* $(,)?]) => {
        match $backend.prepare::<$t>($name, $work)? {
            None => Ok(()),
            Some((f, cfg)) => {
                let mut args = $backend.stream.launch_builder(&f);
                $(args.arg($arg);)*
                run(args, cfg)
            }
        }
    };
}

/// A [`UvuPlan`]'s tables on the device.
pub struct DeviceUvuPlan<T: DeviceReal> {
    plan: UvuPlan,
    forward: DeviceContract<T>,
    grad_x1: DeviceContract<T>,
    grad_x2: DeviceContract<T>,
    wterms: CudaSlice<i32>,
    ijk: CudaSlice<i32>,
    wcoef: CudaSlice<T::Repr>,
}

struct DeviceContract<T: DeviceReal> {
    rows: usize,
    row_start: CudaSlice<i32>,
    terms: CudaSlice<i32>,
    pairs: CudaSlice<i32>,
    coef: CudaSlice<T::Repr>,
}

/// A [`GatePlan`]'s tables on the device.
pub struct DeviceGatePlan<T: DeviceReal> {
    plan: GatePlan,
    out_table: CudaSlice<i32>,
    out_scale: CudaSlice<T::Repr>,
    in_table: CudaSlice<i32>,
    in_scale: CudaSlice<T::Repr>,
}

/// A [`SortedScatter`] on the device.
pub struct DeviceScatter {
    plan: SortedScatter,
    start: CudaSlice<i32>,
    edges: CudaSlice<i32>,
}

/// An [`EdgeGraph`] on the device.
pub struct DeviceEdgeGraph {
    graph: EdgeGraph,
    origin: CudaSlice<i32>,
    tip: CudaSlice<i32>,
    by_tip: DeviceScatter,
    by_origin: DeviceScatter,
}

/// `len` reals on the device. CUDA cannot allocate 0 bytes, so an empty buffer is backed by
/// one unused element; lengths, checks and downloads see `len`, never the padding.
pub struct DeviceBuffer<T: DeviceReal> {
    data: CudaSlice<T::Repr>,
    len: usize,
}

impl<T: DeviceReal> DeviceBuffer<T> {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether it holds no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The allocation (at least one element), e.g. for other cudarc calls.
    pub fn raw(&self) -> &CudaSlice<T::Repr> {
        &self.data
    }
    /// The allocation, mutably.
    pub fn raw_mut(&mut self) -> &mut CudaSlice<T::Repr> {
        &mut self.data
    }
}

/// A [`LinearPlan`]'s tables on the device.
pub struct DeviceLinearPlan<T: DeviceReal> {
    plan: LinearPlan,
    forward: DeviceLinearTable<T>,
    transpose: DeviceLinearTable<T>,
    weight_grad: DeviceWeightGrad<T>,
    /// Stands in for the set indices of a shared-weight launch (never read).
    no_sets: CudaSlice<i32>,
}

/// Per-weight terms and coefficients of the weight-gradient kernel.
struct DeviceWeightGrad<T: DeviceReal> {
    terms: CudaSlice<i32>,
    coef: CudaSlice<T::Repr>,
}

struct DeviceLinearTable<T: DeviceReal> {
    col_start: CudaSlice<i32>,
    terms: CudaSlice<i32>,
    coef: CudaSlice<T::Repr>,
}

/// A [`GatherIndex`] on the device.
pub struct DeviceGatherIndex {
    index: GatherIndex,
    idx: CudaSlice<i32>,
}

fn reals<T: DeviceReal>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&c| T::from_f64(c)).collect()
}

impl CudaBackend {
    fn contract<T: DeviceReal>(
        &self,
        table: &DeviceContract<T>,
        n: usize,
        (a, width_a): (&CudaSlice<T::Repr>, usize),
        (b, width_b): (&CudaSlice<T::Repr>, usize),
        (w, num_w): (&CudaSlice<T::Repr>, usize),
        out: &mut CudaSlice<T::Repr>,
    ) -> Result<()> {
        let (n32, rows) = (n as i32, table.rows as i32);
        let (wa, wb, nw) = (width_a as i32, width_b as i32, num_w as i32);
        launch!(
            self,
            T,
            "tp_contract",
            n * table.rows,
            [
                &n32,
                &rows,
                &table.row_start,
                &table.terms,
                &table.pairs,
                &table.coef,
                a,
                &wa,
                b,
                &wb,
                w,
                &nw,
                out
            ]
        )
    }

    fn upload_contract<T: DeviceReal>(&self, t: &ContractTable) -> Result<DeviceContract<T>> {
        Ok(DeviceContract {
            rows: t.row_start.len() - 1,
            row_start: self.copy_to_device(&t.row_start)?,
            terms: self.upload_nonempty(&t.terms)?,
            pairs: self.upload_nonempty(&t.pairs)?,
            coef: self.upload_nonempty(&T::as_repr(&reals::<T>(&t.coef)))?,
        })
    }

    /// Uploads a table, padding an empty one to one value (CUDA cannot allocate 0 bytes).
    fn upload_nonempty<U: DeviceRepr + ValidAsZeroBits + Copy>(
        &self,
        v: &[U],
    ) -> Result<CudaSlice<U>> {
        if v.is_empty() {
            self.alloc_zeroed(1)
        } else {
            self.copy_to_device(v)
        }
    }
}

impl Backend for CudaBackend {
    type Buf<T: DeviceReal> = DeviceBuffer<T>;
    type Uvu<T: DeviceReal> = DeviceUvuPlan<T>;
    type Gate<T: DeviceReal> = DeviceGatePlan<T>;
    type Linear<T: DeviceReal> = DeviceLinearPlan<T>;
    type Scatter = DeviceScatter;
    type Gather = DeviceGatherIndex;
    type Edges = DeviceEdgeGraph;

    fn describe(&self) -> String {
        let name = self.device_name().unwrap_or_else(|e| e.to_string());
        format!("cuda:{} ({name}, {})", self.ctx.ordinal(), self.arch)
    }
    fn upload<T: DeviceReal>(&self, host: &[T]) -> Result<DeviceBuffer<T>> {
        if host.is_empty() {
            return Backend::zeros(self, 0);
        }
        Ok(DeviceBuffer {
            data: self.copy_to_device(&T::as_repr(host))?,
            len: host.len(),
        })
    }
    fn download<T: DeviceReal>(&self, buf: &DeviceBuffer<T>) -> Result<Vec<T>> {
        if buf.is_empty() {
            return Ok(Vec::new());
        }
        Ok(T::from_repr(self.copy_to_host(&buf.data)?))
    }
    fn zeros<T: DeviceReal>(&self, len: usize) -> Result<DeviceBuffer<T>> {
        Ok(DeviceBuffer {
            data: self.alloc_zeroed(len.max(1))?,
            len,
        })
    }
    fn len<T: DeviceReal>(buf: &DeviceBuffer<T>) -> usize {
        buf.len()
    }

    /// Uploads the tensor-product tables (once per model layer).
    fn upload_uvu<T: DeviceReal>(&self, plan: &UvuPlan) -> Result<DeviceUvuPlan<T>> {
        let w = plan.weight_grad();
        Ok(DeviceUvuPlan {
            plan: plan.clone(),
            forward: self.upload_contract(plan.forward())?,
            grad_x1: self.upload_contract(plan.grad_x1())?,
            grad_x2: self.upload_contract(plan.grad_x2())?,
            wterms: self.upload_nonempty(&w.wterms)?,
            ijk: self.upload_nonempty(&w.ijk)?,
            wcoef: self.upload_nonempty(&T::as_repr(&reals::<T>(&w.coef)))?,
        })
    }

    /// Uploads the gate tables.
    fn upload_gate<T: DeviceReal>(&self, plan: &GatePlan) -> Result<DeviceGatePlan<T>> {
        Ok(DeviceGatePlan {
            plan: plan.clone(),
            out_table: self.upload_nonempty(plan.out_table())?,
            out_scale: self.upload_nonempty(&T::as_repr(&reals::<T>(plan.out_scale())))?,
            in_table: self.upload_nonempty(plan.in_table())?,
            in_scale: self.upload_nonempty(&T::as_repr(&reals::<T>(plan.in_scale())))?,
        })
    }

    /// Uploads a scatter grouping.
    fn upload_scatter(&self, plan: &SortedScatter) -> Result<DeviceScatter> {
        Ok(DeviceScatter {
            plan: plan.clone(),
            start: self.copy_to_device(plan.start())?,
            edges: self.upload_nonempty(plan.edges())?,
        })
    }

    /// Uploads an edge list with its groupings.
    fn upload_edges(&self, graph: &EdgeGraph) -> Result<DeviceEdgeGraph> {
        Ok(DeviceEdgeGraph {
            graph: graph.clone(),
            origin: self.upload_nonempty(graph.origin())?,
            tip: self.upload_nonempty(graph.tip())?,
            by_tip: self.upload_scatter(graph.by_tip())?,
            by_origin: self.upload_scatter(graph.by_origin())?,
        })
    }

    /// Uploads gather indices.
    fn upload_gather(&self, index: &GatherIndex) -> Result<DeviceGatherIndex> {
        Ok(DeviceGatherIndex {
            index: index.clone(),
            idx: self.upload_nonempty(index.indices())?,
        })
    }

    /// Spherical harmonics of `vectors` (`n×3`) into `out` (`n×dim`).
    fn sh_forward<T: DeviceReal>(
        &self,
        plan: &ShPlan,
        vectors: &DeviceBuffer<T>,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [n, lmax, norm] = plan.args(vectors.len(), out.len(), plan.dim())?;
        launch!(
            self,
            T,
            "sh_forward",
            n as usize,
            [&n, &lmax, &norm, vectors.raw(), out.raw_mut()]
        )
    }

    /// `grad_vectors = Σ_k grad_out[:, k] ∂Y_k/∂v` (overwritten).
    fn sh_vjp<T: DeviceReal>(
        &self,
        plan: &ShPlan,
        vectors: &DeviceBuffer<T>,
        grad_out: &DeviceBuffer<T>,
        grad_vectors: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [n, lmax, norm] = plan.args(vectors.len(), grad_out.len(), plan.dim())?;
        plan.args(vectors.len(), grad_vectors.len(), 3)?;
        launch!(
            self,
            T,
            "sh_vjp",
            n as usize,
            [
                &n,
                &lmax,
                &norm,
                vectors.raw(),
                grad_out.raw(),
                grad_vectors.raw_mut()
            ]
        )
    }

    /// Radial embedding of `lengths` into `out` (`edges × num_basis`).
    fn bessel_forward<T: DeviceReal>(
        &self,
        plan: &RadialPlan,
        lengths: &DeviceBuffer<T>,
        frequencies: &DeviceBuffer<T>,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [ne, nb, p] = plan.args(
            lengths.len(),
            frequencies.len(),
            &[("bessel out", out.len())],
        )?;
        let r_max = T::from_f64(plan.r_max()).to_repr();
        launch!(
            self,
            T,
            "bessel_forward",
            ne as usize * nb as usize,
            [
                &ne,
                &nb,
                &r_max,
                &p,
                lengths.raw(),
                frequencies.raw(),
                out.raw_mut()
            ]
        )
    }

    /// VJPs of the radial embedding: overwrites `grad_lengths` and `grad_frequencies` (summed
    /// over edges); `scratch` holds `edges × num_basis` values.
    #[allow(clippy::too_many_arguments)]
    fn bessel_backward<T: DeviceReal>(
        &self,
        plan: &RadialPlan,
        lengths: &DeviceBuffer<T>,
        frequencies: &DeviceBuffer<T>,
        grad_out: &DeviceBuffer<T>,
        grad_lengths: &mut DeviceBuffer<T>,
        grad_frequencies: &mut DeviceBuffer<T>,
        scratch: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [ne, nb, p] = plan.args(
            lengths.len(),
            frequencies.len(),
            &[
                ("bessel grad_out", grad_out.len()),
                ("bessel scratch", scratch.len()),
            ],
        )?;
        check_len("bessel grad_lengths", grad_lengths.len(), lengths.len())?;
        check_len(
            "bessel grad_frequencies",
            grad_frequencies.len(),
            nb as usize,
        )?;
        let r_max = T::from_f64(plan.r_max()).to_repr();
        launch!(
            self,
            T,
            "bessel_backward",
            ne as usize,
            [
                &ne,
                &nb,
                &r_max,
                &p,
                lengths.raw(),
                frequencies.raw(),
                grad_out.raw(),
                grad_lengths.raw_mut(),
                scratch.raw_mut()
            ]
        )?;
        self.sum_rows(scratch, nb as usize, grad_frequencies)
    }

    /// Column sums `out[c] = Σ_r src[r, c]` (overwritten).
    fn sum_rows<T: DeviceReal>(
        &self,
        src: &DeviceBuffer<T>,
        width: usize,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        check_len("sum_rows out", out.len(), width)?;
        let rows = src.len().checked_div(width).unwrap_or(0);
        check_len("sum_rows src", src.len(), rows * width)?;
        self.stream
            .memset_zeros(out.raw_mut())
            .map_err(driver("zeroing"))?;
        let (r, w) = (
            to_i32("sum_rows rows", rows)?,
            to_i32("sum_rows width", width)?,
        );
        let per = ROWS_PER_THREAD as i32;
        launch!(
            self,
            T,
            "sum_rows",
            rows.div_ceil(ROWS_PER_THREAD) * width,
            [&r, &w, &per, src.raw(), out.raw_mut()]
        )
    }

    /// `out[e, :] = x[idx[e], :]`.
    fn gather<T: DeviceReal>(
        &self,
        index: &DeviceGatherIndex,
        x: &DeviceBuffer<T>,
        width: usize,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [n, w] = index.index.args(width, x.len(), out.len())?;
        launch!(
            self,
            T,
            "gather_rows",
            n as usize * width,
            [&n, &w, &index.idx, x.raw(), out.raw_mut()]
        )
    }

    /// `out[t, :] = Σ_{e→t} src[e, :]` (overwritten).
    fn scatter_sum<T: DeviceReal>(
        &self,
        plan: &DeviceScatter,
        src: &DeviceBuffer<T>,
        width: usize,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [nt, w] = plan.plan.args(width, src.len(), out.len())?;
        launch!(
            self,
            T,
            "scatter_sum_sorted",
            nt as usize * width,
            [&nt, &w, &plan.start, &plan.edges, src.raw(), out.raw_mut()]
        )
    }

    /// `out[z] = TP(x1[z], x2[z]; w[z])` (overwritten).
    fn tp_forward<T: DeviceReal>(
        &self,
        plan: &DeviceUvuPlan<T>,
        x1: &DeviceBuffer<T>,
        x2: &DeviceBuffer<T>,
        weights: &DeviceBuffer<T>,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [d1, d2, _] = plan.plan.dims();
        let wn = plan.plan.weight_numel();
        let n = plan
            .plan
            .forward_batch([x1.len(), x2.len(), weights.len(), out.len()])?;
        self.contract(
            &plan.forward,
            n,
            (x1.raw(), d1),
            (x2.raw(), d2),
            (weights.raw(), wn),
            out.raw_mut(),
        )
    }

    /// Gradients of the tensor product with respect to `x1`, `x2` and the per-sample weights
    /// (all overwritten).
    #[allow(clippy::too_many_arguments)]
    fn tp_backward<T: DeviceReal>(
        &self,
        plan: &DeviceUvuPlan<T>,
        x1: &DeviceBuffer<T>,
        x2: &DeviceBuffer<T>,
        weights: &DeviceBuffer<T>,
        grad_out: &DeviceBuffer<T>,
        grad_x1: &mut DeviceBuffer<T>,
        grad_x2: &mut DeviceBuffer<T>,
        grad_weights: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [d1, d2, d3] = plan.plan.dims();
        let wn = plan.plan.weight_numel();
        let n = plan.plan.backward_batch([
            x1.len(),
            x2.len(),
            weights.len(),
            grad_out.len(),
            grad_x1.len(),
            grad_x2.len(),
            grad_weights.len(),
        ])?;
        let w = (weights.raw(), wn);
        self.contract(
            &plan.grad_x1,
            n,
            (grad_out.raw(), d3),
            (x2.raw(), d2),
            w,
            grad_x1.raw_mut(),
        )?;
        self.contract(
            &plan.grad_x2,
            n,
            (x1.raw(), d1),
            (grad_out.raw(), d3),
            w,
            grad_x2.raw_mut(),
        )?;
        let (n32, wn32) = (n as i32, wn as i32);
        let (d1i, d2i, d3i) = (d1 as i32, d2 as i32, d3 as i32);
        launch!(
            self,
            T,
            "tp_weight_grad",
            n * wn,
            [
                &n32,
                &wn32,
                &plan.wterms,
                &plan.ijk,
                &plan.wcoef,
                x1.raw(),
                &d1i,
                x2.raw(),
                &d2i,
                grad_out.raw(),
                &d3i,
                grad_weights.raw_mut()
            ]
        )
    }

    /// Gate of a batch `x` (`n × dim_in`) into `out` (`n × dim_out`).
    fn gate_forward<T: DeviceReal>(
        &self,
        plan: &DeviceGatePlan<T>,
        x: &DeviceBuffer<T>,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let dout = plan.plan.reference().irreps_out().dim();
        let [n, din, dout32] = plan.plan.args(x.len(), &[("gate out", out.len(), dout)])?;
        launch!(
            self,
            T,
            "gate_forward",
            n as usize * dout,
            [
                &n,
                &din,
                &dout32,
                &plan.out_table,
                &plan.out_scale,
                x.raw(),
                out.raw_mut()
            ]
        )
    }

    /// VJP of the gate: overwrites `grad_x` (`n × dim_in`).
    fn gate_backward<T: DeviceReal>(
        &self,
        plan: &DeviceGatePlan<T>,
        x: &DeviceBuffer<T>,
        grad_out: &DeviceBuffer<T>,
        grad_x: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let reference = plan.plan.reference();
        let (din, dout) = (reference.irreps_in().dim(), reference.irreps_out().dim());
        let [n, din32, dout32] = plan.plan.args(
            x.len(),
            &[
                ("gate grad_out", grad_out.len(), dout),
                ("gate grad_x", grad_x.len(), din),
            ],
        )?;
        launch!(
            self,
            T,
            "gate_backward",
            n as usize * din,
            [
                &n,
                &din32,
                &dout32,
                &plan.in_table,
                &plan.in_scale,
                x.raw(),
                grad_out.raw(),
                grad_x.raw_mut()
            ]
        )
    }

    /// `vectors[e] = pos[tip[e]] - pos[origin[e]]` (`edges × 3`).
    fn edge_vectors<T: DeviceReal>(
        &self,
        graph: &DeviceEdgeGraph,
        pos: &DeviceBuffer<T>,
        vectors: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [ne, _] = graph.graph.args(
            &[("positions", pos.len())],
            &[("edge vectors", vectors.len())],
        )?;
        launch!(
            self,
            T,
            "edge_vectors",
            3 * ne as usize,
            [&ne, &graph.origin, &graph.tip, pos.raw(), vectors.raw_mut()]
        )
    }

    /// VJP of [`Self::edge_vectors`]: overwrites `grad_pos` (`atoms × 3`).
    fn edge_vectors_vjp<T: DeviceReal>(
        &self,
        graph: &DeviceEdgeGraph,
        grad_vectors: &DeviceBuffer<T>,
        grad_pos: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let [_, na] = graph.graph.args(
            &[("grad positions", grad_pos.len())],
            &[("grad edge vectors", grad_vectors.len())],
        )?;
        let (t, o) = (&graph.by_tip, &graph.by_origin);
        launch!(
            self,
            T,
            "edge_vectors_vjp",
            3 * na as usize,
            [
                &na,
                &t.start,
                &t.edges,
                &o.start,
                &o.edges,
                grad_vectors.raw(),
                grad_pos.raw_mut()
            ]
        )
    }

    fn upload_linear<T: DeviceReal>(&self, plan: &LinearPlan) -> Result<DeviceLinearPlan<T>> {
        let table = |t: &LinearTable| -> Result<DeviceLinearTable<T>> {
            Ok(DeviceLinearTable {
                col_start: self.copy_to_device(&t.col_start)?,
                terms: self.upload_nonempty(&t.terms)?,
                coef: self.upload_nonempty(&T::as_repr(&reals::<T>(&t.coef)))?,
            })
        };
        Ok(DeviceLinearPlan {
            plan: plan.clone(),
            forward: table(plan.forward())?,
            transpose: table(plan.transpose())?,
            weight_grad: DeviceWeightGrad {
                terms: self.upload_nonempty(plan.weight_terms())?,
                coef: self.upload_nonempty(&T::as_repr(&reals::<T>(plan.weight_coef())))?,
            },
            no_sets: self.alloc_zeroed(1)?,
        })
    }

    fn edge_lengths<T: DeviceReal>(
        &self,
        vectors: &DeviceBuffer<T>,
        lengths: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let ne = edge_count(vectors.len(), lengths.len())?;
        launch!(
            self,
            T,
            "edge_lengths",
            ne as usize,
            [&ne, vectors.raw(), lengths.raw_mut()]
        )
    }

    fn edge_lengths_vjp<T: DeviceReal>(
        &self,
        vectors: &DeviceBuffer<T>,
        lengths: &DeviceBuffer<T>,
        grad_lengths: &DeviceBuffer<T>,
        grad_vectors: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let ne = edge_count(vectors.len(), lengths.len())?;
        check_len("grad lengths", grad_lengths.len(), lengths.len())?;
        check_len("grad edge vectors", grad_vectors.len(), vectors.len())?;
        launch!(
            self,
            T,
            "edge_lengths_vjp",
            3 * ne as usize,
            [
                &ne,
                vectors.raw(),
                lengths.raw(),
                grad_lengths.raw(),
                grad_vectors.raw_mut()
            ]
        )
    }

    fn linear<T: DeviceReal>(
        &self,
        plan: &DeviceLinearPlan<T>,
        direction: LinearDirection,
        src: &DeviceBuffer<T>,
        weights: &DeviceBuffer<T>,
        sets: Option<&DeviceGatherIndex>,
        out: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let host = plan.plan.table(direction);
        let [rows, stride] = plan.plan.args(
            host,
            src.len(),
            weights.len(),
            sets.map(|s| &s.index),
            out.len(),
        )?;
        let table = match direction {
            LinearDirection::Forward => &plan.forward,
            LinearDirection::Transpose => &plan.transpose,
        };
        let set_idx = sets.map_or(&plan.no_sets, |s| &s.idx);
        let (ws, wo) = (host.width_src as i32, host.width_out() as i32);
        launch!(
            self,
            T,
            "linear_rows",
            rows as usize * host.width_out(),
            [
                &rows,
                &ws,
                &wo,
                &table.col_start,
                &table.terms,
                &table.coef,
                set_idx,
                &stride,
                src.raw(),
                weights.raw(),
                out.raw_mut()
            ]
        )
    }

    fn linear_weight_grad<T: DeviceReal>(
        &self,
        plan: &DeviceLinearPlan<T>,
        x: &DeviceBuffer<T>,
        g: &DeviceBuffer<T>,
        sets: Option<&DeviceGatherIndex>,
        grad_w: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        let host = &plan.plan;
        let rows = host.weight_grad_args(x.len(), g.len(), sets.map(|s| &s.index), grad_w.len())?;
        let (nw, ns) = (host.weight_numel(), host.num_sets());
        let (wx, wg) = (
            host.forward().width_src as i32,
            host.forward().width_out() as i32,
        );
        let (nw32, ns32) = (nw as i32, ns as i32);
        let per_set = i32::from(sets.is_some());
        let set_idx = sets.map_or(&plan.no_sets, |s| &s.idx);
        let wgrad = &plan.weight_grad;
        launch!(
            self,
            T,
            "linear_weight_grad",
            nw * ns,
            [
                &rows,
                &wx,
                &wg,
                &nw32,
                &ns32,
                &wgrad.terms,
                &wgrad.coef,
                set_idx,
                &per_set,
                x.raw(),
                g.raw(),
                grad_w.raw_mut()
            ]
        )
    }

    fn silu_with_slope<T: DeviceReal>(
        &self,
        x: &mut DeviceBuffer<T>,
        slope: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        check_len("silu slope", slope.len(), x.len())?;
        let n = x.len() as i64;
        launch!(
            self,
            T,
            "silu_with_slope",
            x.len(),
            [&n, x.raw_mut(), slope.raw_mut()]
        )
    }

    fn mul_assign<T: DeviceReal>(
        &self,
        x: &DeviceBuffer<T>,
        y: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        check_len("mul_assign y", y.len(), x.len())?;
        let n = x.len() as i64;
        launch!(self, T, "mul_assign", x.len(), [&n, x.raw(), y.raw_mut()])
    }

    fn add_scaled<T: DeviceReal>(
        &self,
        a: f64,
        x: &DeviceBuffer<T>,
        y: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        check_len("add_scaled y", y.len(), x.len())?;
        let (n, a) = (x.len() as i64, T::from_f64(a).to_repr());
        launch!(
            self,
            T,
            "add_scaled",
            x.len(),
            [&n, &a, x.raw(), y.raw_mut()]
        )
    }

    fn gemm<T: DeviceReal>(
        &self,
        shape: GemmShape,
        a: &DeviceBuffer<T>,
        b: &DeviceBuffer<T>,
        c: &mut DeviceBuffer<T>,
    ) -> Result<()> {
        shape.check(a.len(), b.len(), c.len())?;
        if shape.m == 0 || shape.n == 0 {
            return Ok(());
        }
        if matches!(T::PRECISION, Precision::F32 | Precision::F64) {
            let blas = self.blas()?;
            // SAFETY: `cublas_gemm_config` derives the sizes and leading dimensions from
            // `shape`, whose buffer lengths were just checked.
            let done = unsafe {
                T::cublas_gemm(
                    &blas,
                    cublas_gemm_config(&shape),
                    b.raw(),
                    a.raw(),
                    c.raw_mut(),
                )
            };
            if let Some(result) = done {
                return result;
            }
        }
        // Types cuBLAS does not have (duals): the row-major kernel.
        let [(ar, ac), (br, bc)] = shape.operand_strides();
        let [m, n, k, ar, ac, br, bc] =
            [shape.m, shape.n, shape.k, ar, ac, br, bc].map(|v| v as i32);
        let (alpha, beta) = (
            T::from_f64(shape.alpha).to_repr(),
            T::from_f64(shape.beta).to_repr(),
        );
        let use_beta = i32::from(shape.beta != 0.0);
        launch!(
            self,
            T,
            "gemm_rows",
            shape.m * shape.n,
            [
                &m,
                &n,
                &k,
                &alpha,
                a.raw(),
                &ar,
                &ac,
                b.raw(),
                &br,
                &bc,
                &beta,
                &use_beta,
                c.raw_mut()
            ]
        )
    }
}

/// The column-major cuBLAS call computing a row-major product: `C = op(A) op(B)` row-major is
/// `Cᵀ = op(B)ᵀ op(A)ᵀ` column-major, so the operands swap and each keeps its own flag; a
/// row-major matrix read column-major is its transpose, with the row length as leading
/// dimension. The caller passes `B` first, then `A`.
fn cublas_gemm_config(shape: &GemmShape) -> GemmConfig<f64> {
    let op = |t: Transpose| match t {
        Transpose::No => cublasOperation_t::CUBLAS_OP_N,
        Transpose::Yes => cublasOperation_t::CUBLAS_OP_T,
    };
    let (m, n, k) = (shape.m as i32, shape.n as i32, shape.k as i32);
    GemmConfig {
        transa: op(shape.trans_b),
        transb: op(shape.trans_a),
        m: n,
        n: m,
        k,
        alpha: shape.alpha,
        // cuBLAS wants leading dimensions ≥ 1 even for empty inner products (k = 0).
        lda: if shape.trans_b == Transpose::No { n } else { k }.max(1),
        ldb: if shape.trans_a == Transpose::No { k } else { m }.max(1),
        beta: shape.beta,
        ldc: n.max(1),
    }
}
