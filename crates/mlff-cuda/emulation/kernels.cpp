// Every kernel of ../kernels compiled for the host, once per precision: the build script
// compiles this file twice, with MLFF_EMU_F64 defined or not. Each precision lives in its own
// namespace (the kernels themselves are extern "C" with distinct suffixed names).
#include "shim.h"

#ifdef MLFF_EMU_F64
namespace mlff_emu_f64 {
typedef double real;
#define MLFF_KERNEL(name) name##_f64
#else
namespace mlff_emu_f32 {
typedef float real;
#define MLFF_KERNEL(name) name##_f32
#endif

#include "../kernels/common.cuh"
#include "../kernels/edge_lengths.cu"
#include "../kernels/edge_vectors.cu"
#include "../kernels/elementwise.cu"
#include "../kernels/gate.cu"
#include "../kernels/gather.cu"
#include "../kernels/linear.cu"
#include "../kernels/radial_embedding.cu"
#include "../kernels/scatter_sum.cu"
#include "../kernels/spherical_harmonics.cu"
#include "../kernels/sum_rows.cu"
#include "../kernels/tensor_product_uvu.cu"
}
