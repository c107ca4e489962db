// Every kernel of ../kernels compiled for the host, once per instantiation: the build script
// compiles this file four times, with one of MLFF_EMU_{F64,F32,DF64,DF32} defined (the last two
// with dual numbers, ../kernels/dual.cuh, as `real`). Each precision lives in its own
// namespace (the kernels themselves are extern "C" with distinct suffixed names).
#include "shim.h"

#if defined(MLFF_EMU_F64)
namespace mlff_emu_f64 {
typedef double real;
#define MLFF_KERNEL(name) name##_f64
#elif defined(MLFF_EMU_F32)
namespace mlff_emu_f32 {
typedef float real;
#define MLFF_KERNEL(name) name##_f32
#elif defined(MLFF_EMU_DF64)
namespace mlff_emu_df64 {
typedef double mlff_base;
#include "../kernels/dual.cuh"
typedef mlff_dual real;
#define MLFF_KERNEL(name) name##_df64
#elif defined(MLFF_EMU_DF32)
namespace mlff_emu_df32 {
typedef float mlff_base;
#include "../kernels/dual.cuh"
typedef mlff_dual real;
#define MLFF_KERNEL(name) name##_df32
#else
#error "define one of MLFF_EMU_F64, MLFF_EMU_F32, MLFF_EMU_DF64, MLFF_EMU_DF32"
#endif

#include "../kernels/common.cuh"
#include "../kernels/edge_lengths.cu"
#include "../kernels/edge_vectors.cu"
#include "../kernels/elementwise.cu"
#include "../kernels/gate.cu"
#include "../kernels/gather.cu"
#include "../kernels/gemm.cu"
#include "../kernels/linear.cu"
#include "../kernels/radial_embedding.cu"
#include "../kernels/scatter_sum.cu"
#include "../kernels/spherical_harmonics.cu"
#include "../kernels/sum_rows.cu"
#include "../kernels/tensor_product_uvu.cu"
}
