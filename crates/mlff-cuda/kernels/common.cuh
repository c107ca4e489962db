// Definitions shared by every kernel file of mlff-cuda.
//
// Every .cu file here is compiled after this header and after a two-line prelude that fixes the
// precision:
//     typedef double real;                      (or float)
//     #define MLFF_KERNEL(name) name##_f64      (or name##_f32)
// NVRTC gets prelude + this header + one kernel file as a single source (see src/kernels.rs);
// the CPU emulation includes the same files from emulation/kernels.cpp after emulation/shim.h.
// No kernel uses shared memory or warp intrinsics, so running every thread of the launch grid
// one after the other on the CPU computes exactly what the GPU computes (up to atomic order).
//
// Launches are one-dimensional: one thread per output element, `mlff_thread_index()`.

// Global index of this thread in a 1-D launch, wide enough for (rows × width) beyond 2^31.
__device__ __forceinline__ long long mlff_thread_index()
{
    return (long long)blockIdx.x * (long long)blockDim.x + (long long)threadIdx.x;
}

// x^n for a small non-negative integer n, by repeated multiplication (the cutoff powers).
__device__ __forceinline__ real mlff_ipow(real x, int n)
{
    real r = (real)1;
    for (int k = 0; k < n; ++k) {
        r *= x;
    }
    return r;
}
