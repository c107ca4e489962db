//! Compiles the CUDA kernel sources as C++ (with emulation/shim.h) for the CPU emulation that
//! `mlff_cuda::emulator` exposes: once for f64, once for f32. Compiler warnings surface as cargo
//! warnings (`-Wall -Wextra`), so a kernel edit that warns breaks the warning-free build rule.

fn main() {
    for dir in ["kernels", "emulation"] {
        println!("cargo:rerun-if-changed={dir}");
    }
    let build = || {
        let mut b = cc::Build::new();
        b.cpp(true).std("c++17").warnings(true).extra_warnings(true);
        b
    };
    build()
        .file("emulation/shim.cpp")
        .compile("mlff_cuda_emu_shim");
    build()
        .file("emulation/kernels.cpp")
        .define("MLFF_EMU_F64", None)
        .compile("mlff_cuda_emu_f64");
    build()
        .file("emulation/kernels.cpp")
        .compile("mlff_cuda_emu_f32");
}
