//! Row-batched dense products, generic over the scalar (f32, f64, duals).
//!
//! The matrices here are small (tens to a few thousand columns) and the batch is long (edges),
//! so each rayon task takes a block of rows and the innermost loop runs over contiguous
//! output columns, which the compiler vectorises for plain floats.

use mlff_e3::Scalar;
use rayon::prelude::*;

/// Rows per rayon task.
const ROWS: usize = 64;

/// `out = alpha · a · w` with `a: rows × k`, `w: k × m` (row-major), `out: rows × m`.
pub fn matmul<T: Scalar>(a: &[T], w: &[T], alpha: T, k: usize, m: usize, out: &mut [T]) {
    if m == 0 {
        return;
    }
    let scaled: Vec<T> = w.iter().map(|&v| v * alpha).collect();
    out.par_chunks_mut(ROWS * m)
        .zip(a.par_chunks(ROWS * k.max(1)))
        .for_each(|(out, a)| {
            for (o, row) in out.chunks_exact_mut(m).zip(a.chunks_exact(k.max(1))) {
                o.fill(T::zero());
                for (j, &x) in row.iter().enumerate().take(k) {
                    for (oc, &wc) in o.iter_mut().zip(&scaled[j * m..(j + 1) * m]) {
                        *oc += x * wc;
                    }
                }
            }
        });
}

/// `grad_a = alpha · grad_out · wᵀ` (`rows × k`, overwritten).
///
/// Computed as a sum of scaled rows of `wᵀ` (transposed once per call), so the inner loop is
/// a contiguous axpy the compiler vectorises, not a dot product it may not reassociate.
pub fn matmul_grad_input<T: Scalar>(
    grad_out: &[T],
    w: &[T],
    alpha: T,
    k: usize,
    m: usize,
    grad_a: &mut [T],
) {
    if k == 0 {
        return;
    }
    let mut wt = vec![T::zero(); k * m];
    for j in 0..k {
        for c in 0..m {
            wt[c * k + j] = alpha * w[j * m + c];
        }
    }
    grad_a
        .par_chunks_mut(ROWS * k)
        .zip(grad_out.par_chunks(ROWS * m.max(1)))
        .for_each(|(ga, g)| {
            for (ga, g) in ga.chunks_exact_mut(k).zip(g.chunks_exact(m.max(1))) {
                ga.fill(T::zero());
                for (c, &gc) in g.iter().enumerate().take(m) {
                    for (gj, &wv) in ga.iter_mut().zip(&wt[c * k..(c + 1) * k]) {
                        *gj += gc * wv;
                    }
                }
            }
        });
}

/// `grad_w = alpha · aᵀ · grad_out` (`k × m`, overwritten), summed over rows in a fixed order.
pub fn matmul_grad_weight<T: Scalar>(
    a: &[T],
    grad_out: &[T],
    alpha: T,
    k: usize,
    m: usize,
    grad_w: &mut [T],
) {
    let partials: Vec<Vec<T>> = a
        .par_chunks(ROWS * k.max(1))
        .zip(grad_out.par_chunks(ROWS * m.max(1)))
        .map(|(a, g)| {
            let mut acc = vec![T::zero(); k * m];
            for (row, g) in a.chunks_exact(k.max(1)).zip(g.chunks_exact(m.max(1))) {
                for (j, &x) in row.iter().enumerate().take(k) {
                    for (accc, &gc) in acc[j * m..(j + 1) * m].iter_mut().zip(g) {
                        *accc += x * gc;
                    }
                }
            }
            acc
        })
        .collect();
    grad_w.fill(T::zero());
    for p in partials {
        for (gw, v) in grad_w.iter_mut().zip(p) {
            *gw += v;
        }
    }
    for gw in grad_w.iter_mut() {
        *gw *= alpha;
    }
}
