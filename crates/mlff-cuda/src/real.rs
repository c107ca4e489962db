//! The floating-point types the kernels are compiled for.

use cudarc::driver::{DeviceRepr, ValidAsZeroBits};

use crate::kernels::Precision;

/// `f32` or `f64`: a scalar the kernels exist for, on the device and in the emulation.
pub trait DeviceReal:
    mlff_e3::Scalar + DeviceRepr + ValidAsZeroBits + sealed::EmulatedReal
{
    /// The precision of the kernel instantiation used for this type.
    const PRECISION: Precision;
}

impl DeviceReal for f32 {
    const PRECISION: Precision = Precision::F32;
}
impl DeviceReal for f64 {
    const PRECISION: Precision = Precision::F64;
}

pub(crate) mod sealed {
    use crate::emulator::EmulatedKernels;

    /// Access to the host-compiled instantiation of every kernel (not implementable outside).
    pub trait EmulatedReal: Sized + 'static {
        /// The emulated kernels of this precision.
        fn emulated() -> &'static EmulatedKernels<Self>;
    }
}
