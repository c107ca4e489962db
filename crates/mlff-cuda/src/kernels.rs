//! The kernel sources and their run-time compilation with NVRTC.
//!
//! Each `.cu` file of `kernels/` is compiled on its own, after a precision prelude
//! (`typedef double real;` and the `_f64`/`_f32` name suffix) and `kernels/common.cuh`.

use cudarc::nvrtc::{CompileError, CompileOptions, Ptx, compile_ptx_with_opts};

use crate::error::{CudaError, Result};

/// Number type a kernel is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Precision {
    /// `float`.
    F32,
    /// `double`.
    F64,
    /// Dual numbers over `float` (kernels/dual.cuh): values with a directional derivative.
    DualF32,
    /// Dual numbers over `double`.
    DualF64,
}

impl Precision {
    /// Every instantiation.
    pub const ALL: [Precision; 4] = [
        Precision::F32,
        Precision::F64,
        Precision::DualF32,
        Precision::DualF64,
    ];

    /// `f32`, `f64`, `df32` or `df64`: also the suffix of the exported kernel names.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
            Precision::DualF32 => "df32",
            Precision::DualF64 => "df64",
        }
    }

    /// The lines defining `real` for this instantiation.
    fn real_definition(self) -> String {
        match self {
            Precision::F32 => "typedef float real;\n".into(),
            Precision::F64 => "typedef double real;\n".into(),
            Precision::DualF32 => {
                format!("typedef float mlff_base;\n{DUAL_HEADER}\ntypedef mlff_dual real;\n")
            }
            Precision::DualF64 => {
                format!("typedef double mlff_base;\n{DUAL_HEADER}\ntypedef mlff_dual real;\n")
            }
        }
    }
}

/// One kernel source file and the kernels it exports (names without precision suffix).
#[derive(Clone, Copy, Debug)]
pub struct KernelFile {
    /// File name under `kernels/`.
    pub file: &'static str,
    /// Its text.
    pub source: &'static str,
    /// Exported kernel functions.
    pub kernels: &'static [&'static str],
}

/// The header every kernel file is compiled after.
pub const COMMON_HEADER: &str = include_str!("../kernels/common.cuh");

/// The dual-number type of the `Dual*` instantiations.
pub const DUAL_HEADER: &str = include_str!("../kernels/dual.cuh");

macro_rules! kernel_file {
    ($file:literal, [$($k:literal),+]) => {
        KernelFile {
            file: $file,
            source: include_str!(concat!("../kernels/", $file)),
            kernels: &[$($k),+],
        }
    };
}

/// Every kernel file of the crate.
pub const KERNEL_FILES: &[KernelFile] = &[
    kernel_file!("spherical_harmonics.cu", ["sh_forward", "sh_vjp"]),
    kernel_file!("radial_embedding.cu", ["bessel_forward", "bessel_backward"]),
    kernel_file!("sum_rows.cu", ["sum_rows"]),
    kernel_file!("gather.cu", ["gather_rows"]),
    kernel_file!("scatter_sum.cu", ["scatter_sum_sorted"]),
    kernel_file!("tensor_product_uvu.cu", ["tp_contract", "tp_weight_grad"]),
    kernel_file!("gate.cu", ["gate_forward", "gate_backward"]),
    kernel_file!("edge_vectors.cu", ["edge_vectors", "edge_vectors_vjp"]),
    kernel_file!("edge_lengths.cu", ["edge_lengths", "edge_lengths_vjp"]),
    kernel_file!("linear.cu", ["linear_rows", "linear_weight_grad"]),
    kernel_file!(
        "elementwise.cu",
        ["silu_with_slope", "mul_assign", "add_scaled"]
    ),
    kernel_file!("gemm.cu", ["gemm_rows"]),
];

/// The file exporting `kernel`.
pub fn file_of(kernel: &str) -> Option<&'static KernelFile> {
    KERNEL_FILES.iter().find(|f| f.kernels.contains(&kernel))
}

/// Exported (suffixed) name of `kernel` in `precision`, e.g. `sh_forward_f64`.
pub fn exported_name(kernel: &str, precision: Precision) -> String {
    format!("{kernel}_{}", precision.name())
}

/// The complete NVRTC program text of `file` in `precision`.
pub fn program_source(file: &KernelFile, precision: Precision) -> String {
    format!(
        "{}#define MLFF_KERNEL(name) name##_{}\n{COMMON_HEADER}\n{}",
        precision.real_definition(),
        precision.name(),
        file.source
    )
}

/// NVRTC virtual architecture for a compute capability (`compute_80` for 8.0, …).
pub fn arch_for(major: i32, minor: i32) -> Result<&'static str> {
    // CompileOptions wants a 'static name, so the known architectures are listed.
    Ok(match (major, minor) {
        (6, 0) => "compute_60",
        (6, 1) => "compute_61",
        (6, 2) => "compute_62",
        (7, 0) => "compute_70",
        (7, 2) => "compute_72",
        (7, 5) => "compute_75",
        (8, 0) => "compute_80",
        (8, 6) => "compute_86",
        (8, 7) => "compute_87",
        (8, 9) => "compute_89",
        (9, 0) => "compute_90",
        (10, 0) => "compute_100",
        (12, 0) => "compute_120",
        _ => return Err(CudaError::UnsupportedArch { major, minor }),
    })
}

/// Whether the NVRTC library can be opened (it is loaded at run time).
pub fn nvrtc_available() -> bool {
    // SAFETY: only tries to dlopen the library by its candidate names; no symbol is called.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// Compiles one kernel file to PTX for `arch` (e.g. `compute_90`).
pub fn compile(file: &KernelFile, precision: Precision, arch: &'static str) -> Result<Ptx> {
    if !nvrtc_available() {
        return Err(CudaError::NvrtcMissing);
    }
    let opts = CompileOptions {
        arch: Some(arch),
        name: Some(file.file.to_string()),
        options: vec!["--std=c++17".into()],
        ..Default::default()
    };
    compile_ptx_with_opts(program_source(file, precision), opts).map_err(|e| {
        let log = match e {
            CompileError::CompileError { log, .. } => log.to_string_lossy().into_owned(),
            other => other.to_string(),
        };
        CudaError::Compile {
            file: file.file,
            precision: precision.name(),
            arch,
            log,
        }
    })
}
