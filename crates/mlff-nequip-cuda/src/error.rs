//! Errors of the device model.

use thiserror::Error;

/// A model that cannot be put on the backend, or a launch that failed.
#[derive(Debug, Error)]
pub enum DeviceModelError {
    /// The kernels or the device refused (no GPU, shapes, NVRTC, cuBLAS, …).
    #[error(transparent)]
    Kernels(#[from] mlff_cuda::CudaError),
    /// The model or graph is invalid.
    #[error(transparent)]
    Model(#[from] mlff_nequip::NequipError),
    /// The model uses something the device path does not implement.
    #[error("not supported on the device: {0}")]
    Unsupported(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, DeviceModelError>;
