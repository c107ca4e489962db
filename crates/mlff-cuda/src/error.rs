//! Typed errors of the GPU backend.

use thiserror::Error;

/// Everything that can go wrong when compiling, loading or launching a kernel.
#[derive(Debug, Error)]
pub enum CudaError {
    /// No CUDA driver library (libcuda) or no usable GPU on this machine.
    #[error("no CUDA driver/GPU found: {reason}")]
    NoDevice {
        /// What was missing.
        reason: String,
    },
    /// The NVRTC runtime compiler (libnvrtc.so.12) cannot be opened.
    #[error(
        "NVRTC not found: libnvrtc.so.12 is not on the library path (run crates/mlff-cuda/fetch-nvrtc.sh and add its output to LD_LIBRARY_PATH)"
    )]
    NvrtcMissing,
    /// cuBLAS (libcublas.so.12), used for the dense matrix products, cannot be opened.
    #[error(
        "cuBLAS not found: libcublas.so.12 is not on the library path (install the CUDA toolkit or the nvidia-cublas-cu12 wheel and add its lib directory to LD_LIBRARY_PATH)"
    )]
    CublasMissing,
    /// NVRTC rejected a kernel file.
    #[error("NVRTC failed to compile kernels/{file} ({precision}) for {arch}:\n{log}")]
    Compile {
        /// Kernel file name.
        file: &'static str,
        /// `f32` or `f64`.
        precision: &'static str,
        /// Virtual architecture, e.g. `compute_80`.
        arch: &'static str,
        /// The compiler log.
        log: String,
    },
    /// The device's compute capability has no known NVRTC architecture name.
    #[error("unsupported compute capability {major}.{minor} (double atomics need 6.0 or newer)")]
    UnsupportedArch {
        /// Major version.
        major: i32,
        /// Minor version.
        minor: i32,
    },
    /// A CUDA driver call failed.
    #[error("CUDA driver error during {what}: {message}")]
    Driver {
        /// The operation.
        what: &'static str,
        /// The driver's message.
        message: String,
    },
    /// The equivalent CPU operation rejects the parameters (mlff-e3 validates them).
    #[error(transparent)]
    E3(#[from] mlff_e3::E3Error),
    /// A buffer has the wrong length.
    #[error("shape mismatch for {what}: expected {expected} values, got {got}")]
    ShapeMismatch {
        /// Which argument.
        what: &'static str,
        /// Expected number of values.
        expected: usize,
        /// Number of values received.
        got: usize,
    },
    /// A size or index does not fit the kernels' 32-bit `int` arguments.
    #[error("{what} = {value} exceeds the kernels' 32-bit index range")]
    TooLarge {
        /// Which quantity.
        what: &'static str,
        /// Its value.
        value: usize,
    },
    /// A parameter is outside what the kernels implement.
    #[error("unsupported by the CUDA kernels: {0}")]
    Unsupported(String),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, CudaError>;

/// Checks that a buffer holds exactly `expected` values.
pub(crate) fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(CudaError::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Converts a size or index to the kernels' `int`.
pub(crate) fn to_i32(what: &'static str, value: usize) -> Result<i32> {
    i32::try_from(value).map_err(|_| CudaError::TooLarge { what, value })
}
