// Edge vectors and their vector–Jacobian product (the geometry input of NequIP, and the last
// step of the forces F = -∂E/∂pos).
//   vec[e, a] = pos[tip[e], a] - pos[origin[e], a]      (NequIP: pos[edge_index[1]] - pos[edge_index[0]])
//   ∂L/∂pos[i, a] = Σ_{e: tip(e)=i} g[e, a] - Σ_{e: origin(e)=i} g[e, a]
// The VJP reads the edges grouped by tip and by origin (CSR, as in scatter_sum.cu), so it is
// deterministic and needs no atomics; both sums run in increasing edge order.

// One thread per (edge, component).
extern "C" __global__ void MLFF_KERNEL(edge_vectors)(int num_edges, const int* __restrict__ origin,
                                                     const int* __restrict__ tip,
                                                     const real* __restrict__ pos,
                                                     real* __restrict__ out)
{
    long long k = mlff_thread_index();
    if (k >= 3LL * num_edges) {
        return;
    }
    long long e = k / 3;
    int a = (int)(k % 3);
    out[k] = pos[3LL * tip[e] + a] - pos[3LL * origin[e] + a];
}

// One thread per (atom, component); overwrites grad_pos.
extern "C" __global__ void MLFF_KERNEL(edge_vectors_vjp)(
    int num_atoms, const int* __restrict__ tip_start, const int* __restrict__ tip_edges,
    const int* __restrict__ origin_start, const int* __restrict__ origin_edges,
    const real* __restrict__ grad_vectors, real* __restrict__ grad_pos)
{
    long long k = mlff_thread_index();
    if (k >= 3LL * num_atoms) {
        return;
    }
    long long i = k / 3;
    int a = (int)(k % 3);
    real into = 0;
    for (int s = tip_start[i]; s < tip_start[i + 1]; ++s) {
        into += grad_vectors[3LL * tip_edges[s] + a];
    }
    real out_of = 0;
    for (int s = origin_start[i]; s < origin_start[i + 1]; ++s) {
        out_of += grad_vectors[3LL * origin_edges[s] + a];
    }
    grad_pos[k] = into - out_of;
}
