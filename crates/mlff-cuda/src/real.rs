//! The number types the kernels are compiled for: `f32`, `f64`, and dual numbers over each
//! (`mlff_e3::Dual`, kernels/dual.cuh).

use std::borrow::Cow;

use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{CudaSlice, DeviceRepr, ValidAsZeroBits};
use mlff_e3::Dual;

use crate::error::{CudaError, Result};
use crate::kernels::Precision;

/// A number type the kernels exist for, on the device and in the emulation.
pub trait DeviceReal: mlff_e3::Scalar + sealed::EmulatedReal {
    /// The kernel instantiation used for this type.
    const PRECISION: Precision;
    /// The same values as cudarc copies them and passes them to kernels (`Self` for floats;
    /// a local `#[repr(C)]` twin for duals, which cudarc's traits cannot be implemented on).
    type Repr: DeviceRepr + ValidAsZeroBits + Copy + Unpin;

    /// Values in their device representation.
    fn as_repr(values: &[Self]) -> Cow<'_, [Self::Repr]>;
    /// Values back from their device representation.
    fn from_repr(values: Vec<Self::Repr>) -> Vec<Self>;
    /// One value in its device representation (kernel arguments).
    fn to_repr(self) -> Self::Repr;
    /// cuBLAS `?gemm` (column-major) for this type, `None` when cuBLAS has no such type.
    ///
    /// # Safety
    /// The sizes and leading dimensions in `cfg` must fit the three buffers.
    unsafe fn cublas_gemm(
        blas: &CudaBlas,
        cfg: GemmConfig<f64>,
        a: &CudaSlice<Self::Repr>,
        b: &CudaSlice<Self::Repr>,
        c: &mut CudaSlice<Self::Repr>,
    ) -> Option<Result<()>>;
}

fn cublas_error(e: cudarc::cublas::result::CublasError) -> CudaError {
    CudaError::Driver {
        what: "cuBLAS gemm",
        message: e.to_string(),
    }
}

macro_rules! float_real {
    ($t:ty, $p:expr) => {
        impl DeviceReal for $t {
            const PRECISION: Precision = $p;
            type Repr = $t;
            fn as_repr(values: &[Self]) -> Cow<'_, [Self]> {
                Cow::Borrowed(values)
            }
            fn from_repr(values: Vec<Self>) -> Vec<Self> {
                values
            }
            fn to_repr(self) -> Self {
                self
            }
            unsafe fn cublas_gemm(
                blas: &CudaBlas,
                cfg: GemmConfig<f64>,
                a: &CudaSlice<Self>,
                b: &CudaSlice<Self>,
                c: &mut CudaSlice<Self>,
            ) -> Option<Result<()>> {
                let cfg = GemmConfig {
                    alpha: cfg.alpha as $t,
                    beta: cfg.beta as $t,
                    transa: cfg.transa,
                    transb: cfg.transb,
                    m: cfg.m,
                    n: cfg.n,
                    k: cfg.k,
                    lda: cfg.lda,
                    ldb: cfg.ldb,
                    ldc: cfg.ldc,
                };
                // SAFETY: forwarded; the caller guarantees the sizes.
                Some(unsafe { blas.gemm(cfg, a, b, c) }.map_err(cublas_error))
            }
        }
    };
}
float_real!(f32, Precision::F32);
float_real!(f64, Precision::F64);

/// `mlff_e3::Dual<T>` as the kernels see it: `{re, eps}`, the layout of kernels/dual.cuh.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct DualRepr<T> {
    /// Value.
    pub re: T,
    /// Tangent.
    pub eps: T,
}

// SAFETY: two plain floats, no padding, valid for any bit pattern the device writes; passed by
// value it matches the C++ struct {mlff_base re, eps}.
unsafe impl DeviceRepr for DualRepr<f32> {}
unsafe impl DeviceRepr for DualRepr<f64> {}
// SAFETY: all-zero bits are the dual number 0 + 0ε.
unsafe impl ValidAsZeroBits for DualRepr<f32> {}
unsafe impl ValidAsZeroBits for DualRepr<f64> {}

macro_rules! dual_real {
    ($t:ty, $p:expr) => {
        impl DeviceReal for Dual<$t> {
            const PRECISION: Precision = $p;
            type Repr = DualRepr<$t>;
            fn as_repr(values: &[Self]) -> Cow<'_, [DualRepr<$t>]> {
                Cow::Owned(values.iter().map(|d| d.to_repr()).collect())
            }
            fn from_repr(values: Vec<DualRepr<$t>>) -> Vec<Self> {
                values.into_iter().map(|r| Dual::new(r.re, r.eps)).collect()
            }
            fn to_repr(self) -> DualRepr<$t> {
                DualRepr {
                    re: self.re,
                    eps: self.eps,
                }
            }
            unsafe fn cublas_gemm(
                _: &CudaBlas,
                _: GemmConfig<f64>,
                _: &CudaSlice<DualRepr<$t>>,
                _: &CudaSlice<DualRepr<$t>>,
                _: &mut CudaSlice<DualRepr<$t>>,
            ) -> Option<Result<()>> {
                None
            }
        }
    };
}
dual_real!(f32, Precision::DualF32);
dual_real!(f64, Precision::DualF64);

pub(crate) mod sealed {
    use crate::emulator::EmulatedKernels;

    /// Access to the host-compiled instantiation of every kernel (not implementable outside).
    pub trait EmulatedReal: Sized + 'static {
        /// The emulated kernels of this precision.
        fn emulated() -> &'static EmulatedKernels<Self>;
    }
}
