// NequIP's radial edge embedding: Bessel basis times the polynomial cutoff envelope, and its
// vector–Jacobian product.
//
// With x = r / r_max and frequencies w_n:
//   b_n(x) = sin(π w_n x) / (π x)
//   u_p(x) = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^{p+1} - p(p+1)/2 x^{p+2}   (x < 1; 0 beyond)
//   e_n(r) = b_n(x) u_p(x)
// Derivatives:
//   u_p'(x) = -p(p+1)(p+2)/2 x^{p-1} (1-x)²
//   b_n'(x) = w_n cos(π w_n x)/x - sin(π w_n x)/(π x²)
//   ∂e_n/∂r = (b_n' u + b_n u') / r_max,    ∂e_n/∂w_n = cos(π w_n x) u

#define MLFF_PI ((real)3.14159265358979323846)

// u_p(x) and u_p'(x).
__device__ __forceinline__ void polynomial_cutoff(real x, int p, real* u, real* du)
{
    if (x >= (real)1) {
        *u = 0;
        *du = 0;
        return;
    }
    real pf = (real)p;
    real xp = mlff_ipow(x, p);
    *u = (real)1 - (pf + 1) * (pf + 2) / 2 * xp + pf * (pf + 2) * xp * x -
         pf * (pf + 1) / 2 * xp * x * x;
    real one_minus = (real)1 - x;
    *du = -pf * (pf + 1) * (pf + 2) / 2 * mlff_ipow(x, p - 1) * one_minus * one_minus;
}

// out[e, n] = e_n(lengths[e]), one thread per (edge, basis function).
extern "C" __global__ void MLFF_KERNEL(bessel_forward)(int num_edges, int num_basis, real r_max,
                                                       int p, const real* __restrict__ lengths,
                                                       const real* __restrict__ frequencies,
                                                       real* __restrict__ out)
{
    long long idx = mlff_thread_index();
    if (idx >= (long long)num_edges * num_basis) {
        return;
    }
    long long e = idx / num_basis;
    int n = (int)(idx % num_basis);
    real x = lengths[e] / r_max;
    real u, du;
    polynomial_cutoff(x, p, &u, &du);
    real pix = MLFF_PI * x;
    out[idx] = sin(frequencies[n] * pix) / pix * u;
}

// grad_lengths[e] = Σ_n grad_out[e, n] ∂e_n/∂r (overwritten), and the per-edge terms of the
// frequency gradient, freq_terms[e, n] = grad_out[e, n] ∂e_n/∂w_n, which `sum_rows` reduces.
// One thread per edge.
extern "C" __global__ void MLFF_KERNEL(bessel_backward)(int num_edges, int num_basis, real r_max,
                                                        int p, const real* __restrict__ lengths,
                                                        const real* __restrict__ frequencies,
                                                        const real* __restrict__ grad_out,
                                                        real* __restrict__ grad_lengths,
                                                        real* __restrict__ freq_terms)
{
    long long e = mlff_thread_index();
    if (e >= num_edges) {
        return;
    }
    real x = lengths[e] / r_max;
    real u, du;
    polynomial_cutoff(x, p, &u, &du);
    real pix = MLFF_PI * x;
    real dx = 0;
    for (int n = 0; n < num_basis; ++n) {
        long long k = e * num_basis + n;
        real w = frequencies[n];
        real s = sin(w * pix);
        real c = cos(w * pix);
        real b = s / pix;
        real db = w * c / x - s / (pix * x);
        dx += grad_out[k] * (db * u + b * du);
        freq_terms[k] = grad_out[k] * c * u;
    }
    grad_lengths[e] = dx / r_max;
}
