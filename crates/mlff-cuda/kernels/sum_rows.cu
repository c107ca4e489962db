// Column sums of a row-major matrix: out[c] += Σ_r src[r, c] (out must be zeroed first).
//
// Used for gradients of parameters shared by all edges (Bessel frequencies). One thread per
// (chunk of `rows_per_thread` rows, column) sums its chunk serially, then adds the partial sum
// with one atomicAdd, so contention is rows/rows_per_thread atomics per column. The atomic order
// makes the last bits of the result run-dependent on a GPU (the emulation is sequential).
extern "C" __global__ void MLFF_KERNEL(sum_rows)(int rows, int width, int rows_per_thread,
                                                 const real* __restrict__ src,
                                                 real* __restrict__ out)
{
    long long idx = mlff_thread_index();
    long long chunks = ((long long)rows + rows_per_thread - 1) / rows_per_thread;
    if (idx >= chunks * width) {
        return;
    }
    long long chunk = idx / width;
    int c = (int)(idx % width);
    long long r0 = chunk * rows_per_thread;
    long long r1 = r0 + rows_per_thread < rows ? r0 + rows_per_thread : rows;
    real acc = 0;
    for (long long r = r0; r < r1; ++r) {
        acc += src[r * width + c];
    }
    atomicAdd(out + c, acc);
}
