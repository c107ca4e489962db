//! Every kernel file compiles to PTX with NVRTC for compute_80 and compute_90, in both
//! precisions, and exports every kernel it lists. Needs libnvrtc.so.12 on the library path
//! (crates/mlff-cuda/fetch-nvrtc.sh); without it the tests print a notice and skip, unless
//! `MLFF_REQUIRE_NVRTC=1` (set in CI), where a missing library fails them.

mod common;

use std::time::Instant;

use mlff_cuda::CudaError;
use mlff_cuda::kernels::{self, KERNEL_FILES, KernelFile, Precision};

/// Whether NVRTC can be used; panics when CI requires it and it is missing.
fn nvrtc_or_skip(test: &str) -> bool {
    if kernels::nvrtc_available() {
        return true;
    }
    assert!(
        std::env::var("MLFF_REQUIRE_NVRTC").as_deref() != Ok("1"),
        "MLFF_REQUIRE_NVRTC=1 but libnvrtc.so.12 cannot be opened: run \
         crates/mlff-cuda/fetch-nvrtc.sh and put its output on LD_LIBRARY_PATH"
    );
    common::notice(&format!(
        "{test} skipped: libnvrtc.so.12 not found (see crates/mlff-cuda/fetch-nvrtc.sh)"
    ));
    false
}

#[test]
fn every_kernel_compiles_for_compute_80_and_90() {
    if !nvrtc_or_skip("every_kernel_compiles_for_compute_80_and_90") {
        return;
    }
    for arch in ["compute_80", "compute_90"] {
        for precision in Precision::ALL {
            for file in KERNEL_FILES {
                let start = Instant::now();
                let ptx = kernels::compile(file, precision, arch)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .to_src();
                eprintln!(
                    "nvrtc {arch} {} {}: {:.0} ms",
                    precision.name(),
                    file.file,
                    start.elapsed().as_secs_f64() * 1e3
                );
                for kernel in file.kernels {
                    let entry = format!(".entry {}(", kernels::exported_name(kernel, precision));
                    assert!(ptx.contains(&entry), "{}: no {entry} in the PTX", file.file);
                }
            }
        }
    }
}

#[test]
fn compile_errors_are_reported_with_the_log() {
    if !nvrtc_or_skip("compile_errors_are_reported_with_the_log") {
        return;
    }
    let broken = KernelFile {
        file: "broken.cu",
        source: "extern \"C\" __global__ void MLFF_KERNEL(broken)(real* x) { x[0] = undeclared; }",
        kernels: &["broken"],
    };
    match kernels::compile(&broken, Precision::F64, "compute_80") {
        Err(CudaError::Compile { file, log, .. }) => {
            assert_eq!(file, "broken.cu");
            assert!(log.contains("undeclared"), "log: {log}");
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}
