// Gather rows: out[e, c] = x[idx[e], c] (e.g. node features onto edges). The adjoint of the
// segmented scatter-sum. One thread per output element; indices are checked on the host.
extern "C" __global__ void MLFF_KERNEL(gather_rows)(int num_out, int width,
                                                    const int* __restrict__ idx,
                                                    const real* __restrict__ x,
                                                    real* __restrict__ out)
{
    long long k = mlff_thread_index();
    if (k >= (long long)num_out * width) {
        return;
    }
    long long e = k / width;
    int c = (int)(k % width);
    out[k] = x[(long long)idx[e] * width + c];
}
