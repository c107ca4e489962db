// The `uvu` tensor product with per-sample (per-edge) weights, and its backward, driven by
// coupling tables that the host builds from mlff_e3::TensorProduct::paths().
//
// A path p couples block u of in1 (irrep dim d1, multiplicity m1), block v of in2 (d2, m2) and
// block u of out (d3); its non-zero coupling entries (i, j, k, c) hold the Wigner 3j
// coefficient times the path normalisation. With per-sample weights W[z, off_p + u·m2 + v]:
//   out[u,k]   = Σ_v W[u,v] Σ_{e: k_e=k} c_e x1[u,i_e] x2[v,j_e]
//   ∂L/∂x1[u,i] = Σ_v W[u,v] Σ_{e: i_e=i} c_e g[u,k_e] x2[v,j_e]
//   ∂L/∂x2[v,j] = Σ_u W[u,v] Σ_{e: j_e=j} c_e x1[u,i_e] g[u,k_e]
//   ∂L/∂W[u,v]  = Σ_e c_e x1[u,i_e] x2[v,j_e] g[u,k_e]
// The first three have the same shape (the product is trilinear, so each adjoint is again a
// product with the roles permuted): a sum over one channel index n of a weight times a sparse
// bilinear form of two operand rows. `tp_contract` evaluates exactly that, and the host fills
// one table per role. `tp_weight_grad` evaluates the fourth.
//
// Contract table: for result component r, terms[row_start[r] .. row_start[r+1]), each TERM_FIELDS
// ints:
//   base_a, stride_a   operand A index: base_a + n·stride_a + a_e
//   base_b, stride_b   operand B index: base_b + n·stride_b + b_e
//   base_w, stride_w   weight index:    base_w + n·stride_w  (base_w < 0: unweighted, weight 1)
//   count              n = 0 .. count-1
//   entry_begin, entry_end   range of (a_e, b_e) pairs in `pairs` and coefficients in `coef`
// One thread per (sample, result component); it owns its output, so no atomics.

#define TERM_FIELDS 9

extern "C" __global__ void MLFF_KERNEL(tp_contract)(
    int num_samples, int num_rows, const int* __restrict__ row_start,
    const int* __restrict__ terms, const int* __restrict__ pairs, const real* __restrict__ coef,
    const real* __restrict__ op_a, int width_a, const real* __restrict__ op_b, int width_b,
    const real* __restrict__ weights, int num_weights, real* __restrict__ out)
{
    long long idx = mlff_thread_index();
    if (idx >= (long long)num_samples * num_rows) {
        return;
    }
    long long z = idx / num_rows;
    int r = (int)(idx % num_rows);
    const real* a = op_a + z * width_a;
    const real* b = op_b + z * width_b;
    const real* w = weights + z * num_weights;
    real acc = 0;
    for (int t = row_start[r]; t < row_start[r + 1]; ++t) {
        const int* term = terms + TERM_FIELDS * t;
        int base_a = term[0], stride_a = term[1];
        int base_b = term[2], stride_b = term[3];
        int base_w = term[4], stride_w = term[5];
        int count = term[6], e0 = term[7], e1 = term[8];
        for (int n = 0; n < count; ++n) {
            const real* an = a + base_a + n * stride_a;
            const real* bn = b + base_b + n * stride_b;
            real s = 0;
            for (int e = e0; e < e1; ++e) {
                s += coef[e] * an[pairs[2 * e]] * bn[pairs[2 * e + 1]];
            }
            acc += (base_w < 0 ? (real)1 : w[base_w + n * stride_w]) * s;
        }
    }
    out[idx] = acc;
}

// grad_w[z, q] = Σ_e c_e x1[z, base1 + i_e] x2[z, base2 + j_e] g[z, base3 + k_e] for weight q,
// with wterms[q] = (base1, base2, base3, entry_begin, entry_end) and triples (i, j, k) in `ijk`.
// One thread per (sample, weight); overwrites grad_w.
#define WTERM_FIELDS 5

extern "C" __global__ void MLFF_KERNEL(tp_weight_grad)(
    int num_samples, int num_weights, const int* __restrict__ wterms,
    const int* __restrict__ ijk, const real* __restrict__ coef, const real* __restrict__ x1,
    int width1, const real* __restrict__ x2, int width2, const real* __restrict__ grad_out,
    int width_out, real* __restrict__ grad_w)
{
    long long idx = mlff_thread_index();
    if (idx >= (long long)num_samples * num_weights) {
        return;
    }
    long long z = idx / num_weights;
    int q = (int)(idx % num_weights);
    const int* term = wterms + WTERM_FIELDS * q;
    const real* a = x1 + z * width1 + term[0];
    const real* b = x2 + z * width2 + term[1];
    const real* g = grad_out + z * width_out + term[2];
    real acc = 0;
    for (int e = term[3]; e < term[4]; ++e) {
        acc += coef[e] * a[ijk[3 * e]] * b[ijk[3 * e + 1]] * g[ijk[3 * e + 2]];
    }
    grad_w[idx] = acc;
}
