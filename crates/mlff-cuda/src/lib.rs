#![doc = include_str!("../README.md")]
// The workspace denies unsafe code; this crate needs it for FFI only: launching CUDA kernels
// through cudarc (raw argument lists) and calling the host-compiled kernels of the emulation.
// Every unsafe block is a single call whose buffer sizes were checked just before.
#![allow(unsafe_code)]

pub mod backend;
pub mod device;
pub mod emulator;
pub mod error;
pub mod kernels;
pub mod plan;
pub mod real;

pub use backend::{Backend, GemmShape, LinearDirection, Transpose};
pub use device::{
    CudaBackend, DeviceBuffer, DeviceEdgeGraph, DeviceGatePlan, DeviceGatherIndex,
    DeviceLinearPlan, DeviceScatter, DeviceUvuPlan, driver_available,
};
pub use emulator::Emulator;
pub use error::{CudaError, Result};
pub use kernels::{KERNEL_FILES, KernelFile, Precision};
pub use plan::{
    EdgeGraph, GatePlan, GatherIndex, LinearPlan, RadialPlan, ShPlan, SortedScatter, UvuPlan,
};
pub use real::DeviceReal;
