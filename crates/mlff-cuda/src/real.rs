//! The floating-point types the kernels are compiled for.

use cudarc::cublas::result::CublasError;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{CudaSlice, DeviceRepr, ValidAsZeroBits};

use crate::kernels::Precision;

/// `f32` or `f64`: a scalar the kernels exist for, on the device and in the emulation.
pub trait DeviceReal:
    mlff_e3::Scalar + DeviceRepr + ValidAsZeroBits + sealed::EmulatedReal
{
    /// The precision of the kernel instantiation used for this type.
    const PRECISION: Precision;

    /// cuBLAS `?gemm` (column-major) in this precision.
    ///
    /// # Safety
    /// The sizes and leading dimensions in `cfg` must fit the three buffers.
    unsafe fn cublas_gemm(
        blas: &CudaBlas,
        cfg: GemmConfig<Self>,
        a: &CudaSlice<Self>,
        b: &CudaSlice<Self>,
        c: &mut CudaSlice<Self>,
    ) -> Result<(), CublasError>;
}

macro_rules! device_real {
    ($t:ty, $p:expr) => {
        impl DeviceReal for $t {
            const PRECISION: Precision = $p;
            unsafe fn cublas_gemm(
                blas: &CudaBlas,
                cfg: GemmConfig<Self>,
                a: &CudaSlice<Self>,
                b: &CudaSlice<Self>,
                c: &mut CudaSlice<Self>,
            ) -> Result<(), CublasError> {
                // SAFETY: forwarded; the caller guarantees the sizes.
                unsafe { blas.gemm(cfg, a, b, c) }
            }
        }
    };
}
device_real!(f32, Precision::F32);
device_real!(f64, Precision::F64);

pub(crate) mod sealed {
    use crate::emulator::EmulatedKernels;

    /// Access to the host-compiled instantiation of every kernel (not implementable outside).
    pub trait EmulatedReal: Sized + 'static {
        /// The emulated kernels of this precision.
        fn emulated() -> &'static EmulatedKernels<Self>;
    }
}
