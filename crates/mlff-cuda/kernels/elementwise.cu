// Element-wise operations of the NequIP pipeline that no other kernel fuses. One thread per
// element.

// SiLU in place, keeping its derivative for the backward pass (the radial MLP's hidden
// activation): x ← x σ(x),  slope = σ(x) (1 + x (1 - σ(x))).
extern "C" __global__ void MLFF_KERNEL(silu_with_slope)(long long n, real* __restrict__ x,
                                                        real* __restrict__ slope)
{
    long long k = mlff_thread_index();
    if (k >= n) {
        return;
    }
    real v = x[k];
    real s = (real)1 / ((real)1 + exp(-v));
    x[k] = v * s;
    slope[k] = s * ((real)1 + v * ((real)1 - s));
}

// y ← y ⊙ x (chain rule through a kept slope).
extern "C" __global__ void MLFF_KERNEL(mul_assign)(long long n, const real* __restrict__ x,
                                                   real* __restrict__ y)
{
    long long k = mlff_thread_index();
    if (k < n) {
        y[k] *= x[k];
    }
}

// y ← y + a x (residual connections, summed branches, accumulated gradients).
extern "C" __global__ void MLFF_KERNEL(add_scaled)(long long n, real a, const real* __restrict__ x,
                                                   real* __restrict__ y)
{
    long long k = mlff_thread_index();
    if (k < n) {
        y[k] += a * x[k];
    }
}
