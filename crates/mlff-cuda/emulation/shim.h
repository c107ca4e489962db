// Host emulation of the few CUDA language features the kernels in ../kernels use, so that the
// very same sources compile as C++ and run on the CPU (see emulation/kernels.cpp and
// src/emulator.rs).
//
// A launch is emulated by running every (block, thread) of the 1-D grid one after the other:
// the Rust side sets the indices with mlff_emu_set_thread() and then calls the kernel function.
// That is exact for kernels without shared memory, __syncthreads or warp intrinsics (none of
// ours use them); atomics become plain read-modify-writes because nothing runs concurrently
// within one emulated launch. The indices are thread-local so that several Rust test threads
// can emulate launches at the same time.
#pragma once

#include <cmath>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict

struct mlff_uint3 {
    unsigned int x, y, z;
};

extern thread_local mlff_uint3 threadIdx;
extern thread_local mlff_uint3 blockIdx;
extern thread_local mlff_uint3 blockDim;
extern thread_local mlff_uint3 gridDim;

// The math functions the kernels call, with CUDA's overloads for float and double.
using std::cos;
using std::exp;
using std::sin;
using std::sqrt;
using std::tanh;

inline double atomicAdd(double* address, double value)
{
    double old = *address;
    *address = old + value;
    return old;
}

inline float atomicAdd(float* address, float value)
{
    float old = *address;
    *address = old + value;
    return old;
}
