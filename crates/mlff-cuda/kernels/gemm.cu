// Dense row-major product C = α op(A) op(B) + β C (C: m × n, inner size k), one thread per
// element of C. op(A)[i, l] = a[i * a_row + l * a_col], op(B)[l, j] = b[l * b_row + j * b_col],
// so the host passes strides for either operand stored transposed.
//
// On a GPU this is the GEMM for the dual-number instantiation, which cuBLAS has no type for
// (f32/f64 products go to cuBLAS); the emulation uses it for every instantiation. With
// use_beta = 0 the previous C is not read (it may hold anything, as in BLAS with β = 0).
// FLOPs: 2 m n k (a dual product counts as three real products).
extern "C" __global__ void MLFF_KERNEL(gemm_rows)(int m, int n, int k, real alpha,
                                                  const real* __restrict__ a, int a_row, int a_col,
                                                  const real* __restrict__ b, int b_row, int b_col,
                                                  real beta, int use_beta, real* __restrict__ c)
{
    long long idx = mlff_thread_index();
    if (idx >= (long long)m * n) {
        return;
    }
    long long i = idx / n;
    long long j = idx % n;
    real acc = 0;
    for (int l = 0; l < k; ++l) {
        acc += a[i * a_row + (long long)l * a_col] * b[(long long)l * b_row + j * b_col];
    }
    c[idx] = use_beta ? alpha * acc + beta * c[idx] : alpha * acc;
}
