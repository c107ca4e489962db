// e3nn's Gate nonlinearity on a batch, forward and backward, driven by host-built tables.
//
// Output component m is either an activated scalar or a gated component:
//   out[m] = s_m f_m(x[src_m])                      (gate_src_m < 0)
//   out[m] = x[src_m] · s_m f_m(x[gate_src_m])      (gated: the gate is an activated scalar)
// with f ∈ {SiLU, tanh, sigmoid} and s_m its second-moment normalisation constant.
// Backward, one thread per input component a (each input feeds exactly one role):
//   scalar a → out m:            ∂L/∂x[a] = g[m] s f'(x[a])
//   gated  a → out m, gate b:    ∂L/∂x[a] = g[m] s f(x[b])
//   gate   a for outputs m0..m0+len reading inputs b0..b0+len:
//                                ∂L/∂x[a] = (Σ_t g[m0+t] x[b0+t]) s f'(x[a])

#define ACT_SILU 0
#define ACT_TANH 1
#define ACT_SIGMOID 2

// Logistic function, overflow-free for either sign.
__device__ __forceinline__ real gate_sigmoid(real x)
{
    if (x >= (real)0) {
        return (real)1 / ((real)1 + exp(-x));
    }
    real e = exp(x);
    return e / ((real)1 + e);
}

__device__ __forceinline__ real gate_act(int act, real x)
{
    switch (act) {
    case ACT_SILU:
        return x * gate_sigmoid(x);
    case ACT_TANH:
        return tanh(x);
    default:
        return gate_sigmoid(x);
    }
}

__device__ __forceinline__ real gate_act_derivative(int act, real x)
{
    switch (act) {
    case ACT_SILU: {
        real s = gate_sigmoid(x);
        return s * ((real)1 + x * ((real)1 - s));
    }
    case ACT_TANH: {
        real t = tanh(x);
        return (real)1 - t * t;
    }
    default: {
        real s = gate_sigmoid(x);
        return s * ((real)1 - s);
    }
    }
}

// out_table[m] = (act, src, gate_src), scale[m] = s_m. One thread per (sample, output component).
extern "C" __global__ void MLFF_KERNEL(gate_forward)(int num_samples, int dim_in, int dim_out,
                                                     const int* __restrict__ out_table,
                                                     const real* __restrict__ scale,
                                                     const real* __restrict__ x,
                                                     real* __restrict__ out)
{
    long long idx = mlff_thread_index();
    if (idx >= (long long)num_samples * dim_out) {
        return;
    }
    long long z = idx / dim_out;
    int m = (int)(idx % dim_out);
    const int* row = out_table + 3 * m;
    const real* xz = x + z * dim_in;
    if (row[2] < 0) {
        out[idx] = scale[m] * gate_act(row[0], xz[row[1]]);
    } else {
        out[idx] = xz[row[1]] * (scale[m] * gate_act(row[0], xz[row[2]]));
    }
}

#define GATE_ROLE_SCALAR 0
#define GATE_ROLE_GATED 1
#define GATE_ROLE_GATE 2

// in_table[a] = (role, act, m, b, len) as described above, in_scale[a] = s of the activation
// involved. One thread per (sample, input component); overwrites grad_x.
extern "C" __global__ void MLFF_KERNEL(gate_backward)(int num_samples, int dim_in, int dim_out,
                                                      const int* __restrict__ in_table,
                                                      const real* __restrict__ in_scale,
                                                      const real* __restrict__ x,
                                                      const real* __restrict__ grad_out,
                                                      real* __restrict__ grad_x)
{
    long long idx = mlff_thread_index();
    if (idx >= (long long)num_samples * dim_in) {
        return;
    }
    long long z = idx / dim_in;
    int a = (int)(idx % dim_in);
    const int* row = in_table + 5 * a;
    const real* xz = x + z * dim_in;
    const real* g = grad_out + z * dim_out;
    real s = in_scale[a];
    switch (row[0]) {
    case GATE_ROLE_SCALAR:
        grad_x[idx] = g[row[2]] * (s * gate_act_derivative(row[1], xz[a]));
        break;
    case GATE_ROLE_GATED:
        grad_x[idx] = g[row[2]] * (s * gate_act(row[1], xz[row[3]]));
        break;
    default: {
        real dot = 0;
        for (int t = 0; t < row[4]; ++t) {
            dot += g[row[2] + t] * xz[row[3] + t];
        }
        grad_x[idx] = dot * (s * gate_act_derivative(row[1], xz[a]));
    }
    }
}
