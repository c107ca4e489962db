// Storage of the emulated thread indices and the setter the Rust grid loop calls.
#include "shim.h"

thread_local mlff_uint3 threadIdx = {0, 0, 0};
thread_local mlff_uint3 blockIdx = {0, 0, 0};
thread_local mlff_uint3 blockDim = {1, 1, 1};
thread_local mlff_uint3 gridDim = {1, 1, 1};

extern "C" void mlff_emu_set_thread(unsigned int block, unsigned int thread,
                                    unsigned int block_dim, unsigned int grid_dim)
{
    blockIdx = {block, 0, 0};
    threadIdx = {thread, 0, 0};
    blockDim = {block_dim, 1, 1};
    gridDim = {grid_dim, 1, 1};
}
