// Equivariant linear map of a batch of rows (e3nn's `Linear`, mlff_e3::Linear), and its
// transpose (the VJP with respect to the input), from one table-driven kernel.
//
// For a path p from input block i (mul_in copies of an irrep of dimension d) to output block o
// (mul_out copies), with row-major weights W_p[u, w] and path weight a_p:
//     out[n, o + w d + m] += a_p Σ_u x[n, i + u d + m] W_p[u, w]
// and the transpose
//     grad_x[n, i + u d + m] += a_p Σ_w g[n, o + w d + m] W_p[u, w].
// Both are, per output column c, a short list of terms
//     coef_t Σ_{k < count_t} src[n, src_start_t + k src_stride_t] * w[w_start_t + k w_stride_t]
// which the host builds (src/plan/linear.rs) from mlff_e3::Linear::paths(): forward terms step
// over u (w_stride = mul_out), transposed terms over w (w_stride = 1).
//
// `weight_set[n] * set_stride` offsets the weights per row: stride 0 for one shared weight
// vector (weight_set is then not read), the weight count for one vector per atom type (NequIP's self-connection and its
// per-type readout scale).
//
// One thread per output element; FLOPs: 2 Σ_t count_t per output element.
extern "C" __global__ void MLFF_KERNEL(linear_rows)(int rows, int width_src, int width_out,
                                                    const int* __restrict__ col_start,
                                                    const int* __restrict__ terms,
                                                    const real* __restrict__ coef,
                                                    const int* __restrict__ weight_set,
                                                    int set_stride,
                                                    const real* __restrict__ src,
                                                    const real* __restrict__ w,
                                                    real* __restrict__ out)
{
    long long k = mlff_thread_index();
    if (k >= (long long)rows * width_out) {
        return;
    }
    long long n = k / width_out;
    int c = (int)(k % width_out);
    const real* x = src + n * width_src;
    // The set index is read only for per-row weights (the shared case passes a dummy table).
    const real* wn = set_stride ? w + (long long)weight_set[n] * set_stride : w;
    real acc = 0;
    for (int t = col_start[c]; t < col_start[c + 1]; ++t) {
        const int* term = terms + 5 * t;
        int src_start = term[0], src_stride = term[1];
        int w_start = term[2], w_stride = term[3], count = term[4];
        real s = 0;
        for (int j = 0; j < count; ++j) {
            s += x[src_start + j * src_stride] * wn[w_start + j * w_stride];
        }
        acc += coef[t] * s;
    }
    out[k] = acc;
}

// Weight gradient of the map, summed over the rows of each weight set s:
//     grad_w[s, (p, u, w)] = a_p Σ_{n: set(n) = s} Σ_m x[n, i + u d + m] g[n, o + w d + m]
// The host gives each weight its (x_start, g_start, d) and coefficient a_p. With per_set = 0
// there is one set and every row counts (weight_set is not read). One thread per (set, weight),
// looping over the rows: no atomics, so the sum order is fixed.
extern "C" __global__ void MLFF_KERNEL(linear_weight_grad)(int rows, int width_x, int width_g,
                                                           int num_weights, int num_sets,
                                                           const int* __restrict__ wterms,
                                                           const real* __restrict__ wcoef,
                                                           const int* __restrict__ weight_set,
                                                           int per_set,
                                                           const real* __restrict__ x,
                                                           const real* __restrict__ g,
                                                           real* __restrict__ grad_w)
{
    long long idx = mlff_thread_index();
    if (idx >= (long long)num_sets * num_weights) {
        return;
    }
    int s = (int)(idx / num_weights);
    int k = (int)(idx % num_weights);
    int x_start = wterms[3 * k], g_start = wterms[3 * k + 1], dim = wterms[3 * k + 2];
    real acc = 0;
    for (long long n = 0; n < rows; ++n) {
        if (per_set && weight_set[n] != s) {
            continue;
        }
        const real* xr = x + n * width_x + x_start;
        const real* gr = g + n * width_g + g_start;
        for (int m = 0; m < dim; ++m) {
            acc += xr[m] * gr[m];
        }
    }
    grad_w[idx] = wcoef[k] * acc;
}
