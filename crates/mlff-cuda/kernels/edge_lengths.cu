// Edge lengths |v_e| and their VJP, accumulated into the edge-vector gradient (the radial
// embedding's path to the forces):
//     len[e] = sqrt(v_e · v_e),      grad_vec[e, a] += grad_len[e] v[e, a] / len[e]
// A zero-length edge gives inf/NaN, as in mlff-e3 (the graph builder never makes one).

// One thread per edge.
extern "C" __global__ void MLFF_KERNEL(edge_lengths)(int num_edges, const real* __restrict__ vec,
                                                     real* __restrict__ len)
{
    long long e = mlff_thread_index();
    if (e >= num_edges) {
        return;
    }
    const real* v = vec + 3 * e;
    len[e] = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

// One thread per (edge, component).
extern "C" __global__ void MLFF_KERNEL(edge_lengths_vjp)(int num_edges,
                                                         const real* __restrict__ vec,
                                                         const real* __restrict__ len,
                                                         const real* __restrict__ grad_len,
                                                         real* __restrict__ grad_vec)
{
    long long k = mlff_thread_index();
    if (k >= 3LL * num_edges) {
        return;
    }
    long long e = k / 3;
    grad_vec[k] += grad_len[e] * vec[k] / len[e];
}
