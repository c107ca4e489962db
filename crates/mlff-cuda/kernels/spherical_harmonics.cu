// Real spherical harmonics Y_0 … Y_lmax (lmax ≤ 3) of edge vectors, in e3nn 0.6's convention with
// `component` normalisation (Σ_m Y_lm² = 2l+1 on the unit sphere), and their vector–Jacobian
// product. Output layout per vector: [Y_0 | Y_1 (3) | Y_2 (5) | Y_3 (7)], first (lmax+1)² kept,
// components m = -l..l in e3nn's order (polar axis y, so Y_1 = √3 (x, y, z)).
//
// Unnormalised polynomials h_l (e3nn's recursion, for a point (x, y, z)):
//   h_1 = (x, y, z)
//   h_2 = ( √3 xz, √3 xy, y² - (x²+z²)/2, √3 yz, √3/2 (z² - x²) )
//   h_3 = ( √(5/6) (h_2,0 z + h_2,4 x),  √5 h_2,0 y,  √(3/8) (4y² - x² - z²) x,
//           y (2y² - 3x² - 3z²)/2,  √(3/8) (4y² - x² - z²) z,  √5 h_2,4 y,
//           √(5/6) (h_2,4 z - h_2,0 x) )
//   Y_l = √(2l+1) h_l   (component normalisation)
// With `normalize`, the point is v/|v| (NequIP's edge directions); otherwise v itself (solid
// harmonics r^l Y_l). A zero vector with `normalize` gives NaN: callers reject it on the host.
//
// Gradients use forward-mode dual numbers: the same polynomial code runs on `Grad3` values that
// carry ∂/∂(v_x, v_y, v_z), the normalisation v/|v| included, so the VJP needs no hand-derived
// formulas.

// A value and its gradient with respect to the three input components.
struct Grad3 {
    real v;
    real d[3];
};

__device__ __forceinline__ Grad3 g3(real v, real d0, real d1, real d2)
{
    Grad3 r;
    r.v = v;
    r.d[0] = d0;
    r.d[1] = d1;
    r.d[2] = d2;
    return r;
}
__device__ __forceinline__ Grad3 operator+(Grad3 a, Grad3 b)
{
    return g3(a.v + b.v, a.d[0] + b.d[0], a.d[1] + b.d[1], a.d[2] + b.d[2]);
}
__device__ __forceinline__ Grad3 operator-(Grad3 a, Grad3 b)
{
    return g3(a.v - b.v, a.d[0] - b.d[0], a.d[1] - b.d[1], a.d[2] - b.d[2]);
}
__device__ __forceinline__ Grad3 operator*(Grad3 a, Grad3 b)
{
    return g3(a.v * b.v, a.d[0] * b.v + a.v * b.d[0], a.d[1] * b.v + a.v * b.d[1],
              a.d[2] * b.v + a.v * b.d[2]);
}
__device__ __forceinline__ Grad3 operator*(real s, Grad3 a)
{
    return g3(s * a.v, s * a.d[0], s * a.d[1], s * a.d[2]);
}
__device__ __forceinline__ Grad3 operator+(Grad3 a, real b)
{
    return g3(a.v + b, a.d[0], a.d[1], a.d[2]);
}
// 1/|p| of a point, with its gradient: d(1/r) = -(1/r)³ r dr.
__device__ __forceinline__ Grad3 inverse_norm(Grad3 x, Grad3 y, Grad3 z)
{
    Grad3 r2 = x * x + y * y + z * z;
    real inv = (real)1 / sqrt(r2.v);
    real f = (real)-0.5 * inv * inv * inv;
    return g3(inv, f * r2.d[0], f * r2.d[1], f * r2.d[2]);
}
__device__ __forceinline__ real inverse_norm(real x, real y, real z)
{
    return (real)1 / sqrt(x * x + y * y + z * z);
}

// Writes Y_0 … Y_lmax of the point (x, y, z) (after optional normalisation) into out[0..(lmax+1)²).
template <typename S>
__device__ __forceinline__ void sh_evaluate(S x, S y, S z, int lmax, int normalize, S* out)
{
    if (normalize) {
        S inv = inverse_norm(x, y, z);
        x = x * inv;
        y = y * inv;
        z = z * inv;
    }
    const real sqrt3 = (real)1.7320508075688772935;
    const real sqrt5 = (real)2.2360679774997896964;
    const real sqrt7 = (real)2.6457513110645905905;
    out[0] = (real)0 * x + (real)1; // constant, with a zero gradient for Grad3
    if (lmax < 1) {
        return;
    }
    out[1] = sqrt3 * x;
    out[2] = sqrt3 * y;
    out[3] = sqrt3 * z;
    if (lmax < 2) {
        return;
    }
    S x2z2 = x * x + z * z;
    S y2 = y * y;
    S h20 = sqrt3 * (x * z);
    S h21 = sqrt3 * (x * y);
    S h22 = y2 - (real)0.5 * x2z2;
    S h23 = sqrt3 * (y * z);
    S h24 = ((real)0.5 * sqrt3) * (z * z - x * x);
    out[4] = sqrt5 * h20;
    out[5] = sqrt5 * h21;
    out[6] = sqrt5 * h22;
    out[7] = sqrt5 * h23;
    out[8] = sqrt5 * h24;
    if (lmax < 3) {
        return;
    }
    const real c30 = (real)0.91287092917527685576; // √(5/6)
    const real c32 = (real)0.61237243569579452455; // √(3/8)
    S q = (real)4 * y2 - x2z2;
    out[9] = sqrt7 * (c30 * (h20 * z + h24 * x));
    out[10] = sqrt7 * (sqrt5 * (h20 * y));
    out[11] = sqrt7 * (c32 * (q * x));
    out[12] = sqrt7 * ((real)0.5 * (y * ((real)2 * y2 - (real)3 * x2z2)));
    out[13] = sqrt7 * (c32 * (q * z));
    out[14] = sqrt7 * (sqrt5 * (h24 * y));
    out[15] = sqrt7 * (c30 * (h24 * z - h20 * x));
}

// Largest degree these kernels implement.
#define SH_LMAX 3

// out[e, :] = Y(vectors[e, :]), one thread per vector. `dim` = (lmax+1)².
extern "C" __global__ void MLFF_KERNEL(sh_forward)(int n, int lmax, int normalize,
                                                   const real* __restrict__ vectors,
                                                   real* __restrict__ out)
{
    long long e = mlff_thread_index();
    if (e >= n) {
        return;
    }
    real y[(SH_LMAX + 1) * (SH_LMAX + 1)];
    const real* v = vectors + 3 * e;
    sh_evaluate<real>(v[0], v[1], v[2], lmax, normalize, y);
    int dim = (lmax + 1) * (lmax + 1);
    for (int k = 0; k < dim; ++k) {
        out[(long long)dim * e + k] = y[k];
    }
}

// grad_vectors[e, a] = Σ_k grad_out[e, k] ∂Y_k/∂v_a (overwritten), one thread per vector.
extern "C" __global__ void MLFF_KERNEL(sh_vjp)(int n, int lmax, int normalize,
                                               const real* __restrict__ vectors,
                                               const real* __restrict__ grad_out,
                                               real* __restrict__ grad_vectors)
{
    long long e = mlff_thread_index();
    if (e >= n) {
        return;
    }
    Grad3 y[(SH_LMAX + 1) * (SH_LMAX + 1)];
    const real* v = vectors + 3 * e;
    sh_evaluate<Grad3>(g3(v[0], 1, 0, 0), g3(v[1], 0, 1, 0), g3(v[2], 0, 0, 1), lmax, normalize, y);
    int dim = (lmax + 1) * (lmax + 1);
    real acc[3] = {0, 0, 0};
    for (int k = 0; k < dim; ++k) {
        real g = grad_out[(long long)dim * e + k];
        for (int a = 0; a < 3; ++a) {
            acc[a] += g * y[k].d[a];
        }
    }
    for (int a = 0; a < 3; ++a) {
        grad_vectors[3 * e + a] = acc[a];
    }
}
