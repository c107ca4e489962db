// Segmented scatter-sum over edges grouped by target: out[t, c] = Σ_{e: target(e) = t} src[e, c].
//
// The host sorts edge ids by target once (stable, so each sum runs in increasing edge order):
// edges[start[t] .. start[t+1]) are the edges into t. One thread per (target, column) sums its
// segment serially; no atomics, so the result is deterministic and equal to the CPU's
// ScatterPlan bit for bit. Adjacent threads read adjacent columns of the same source row.
extern "C" __global__ void MLFF_KERNEL(scatter_sum_sorted)(int num_targets, int width,
                                                           const int* __restrict__ start,
                                                           const int* __restrict__ edges,
                                                           const real* __restrict__ src,
                                                           real* __restrict__ out)
{
    long long k = mlff_thread_index();
    if (k >= (long long)num_targets * width) {
        return;
    }
    long long t = k / width;
    int c = (int)(k % width);
    real acc = 0;
    for (int s = start[t]; s < start[t + 1]; ++s) {
        acc += src[(long long)edges[s] * width + c];
    }
    out[k] = acc;
}
