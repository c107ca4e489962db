//! Compiles the CUDA kernel sources as C++ (with emulation/shim.h) for the CPU emulation that
//! `mlff_cuda::emulator` exposes: for f64, f32 and dual numbers over each. Compiler warnings
//! surface as cargo warnings (`-Wall -Wextra`), so a kernel edit that warns breaks the
//! warning-free build rule.

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
    for name in ["f64", "f32", "df64", "df32"] {
        build()
            .file("emulation/kernels.cpp")
            .define(&format!("MLFF_EMU_{}", name.to_uppercase()), None)
            .compile(&format!("mlff_cuda_emu_{name}"));
    }
}
