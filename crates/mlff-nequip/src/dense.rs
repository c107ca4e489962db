//! Row-batched dense products (the radial MLP's layers), generic over the scalar.
//!
//! Every product goes through [`mlff_e3::matmul`] (faer's GEMM for floats, split real products
//! for duals). The batch (edges) is cut into fixed blocks of [`ROWS`] rows, one rayon task
//! each, so a result never depends on the number of threads.

use mlff_e3::{Activation, MatView, MatViewMut, Scalar, matmul as gemm};
use rayon::prelude::*;

/// Rows per rayon task.
const ROWS: usize = 128;

/// `out = alpha · a · w` with `a: rows × k`, `w: k × m` (row-major), `out: rows × m`; with
/// `activation = Some((f, slope))`, then `out ← f(out)` and `slope ← f'(out)`, each block while
/// it is still in cache.
pub fn matmul<T: Scalar>(
    a: &[T],
    w: &[T],
    alpha: f64,
    (k, m): (usize, usize),
    out: &mut [T],
    activation: Option<(Activation, &mut [T])>,
) {
    if m == 0 {
        return;
    }
    let w = MatView::row_major(w, k, m);
    let product = |out: &mut [T], a: &[T]| {
        let rows = out.len() / m;
        gemm(
            MatViewMut::row_major(out, rows, m),
            false,
            MatView::row_major(a, rows, k),
            w,
            alpha,
        );
    };
    let blocks = out
        .par_chunks_mut(ROWS * m)
        .zip(a.par_chunks(ROWS * k.max(1)));
    match activation {
        None => blocks.for_each(|(out, a)| product(out, a)),
        Some((f, slope)) => {
            blocks
                .zip(slope.par_chunks_mut(ROWS * m))
                .for_each(|((out, a), slope)| {
                    product(out, a);
                    f.eval_with_derivative_in_place(out, slope);
                })
        }
    }
}

/// `grad_a = alpha · grad_out · wᵀ` (`rows × k`, overwritten).
pub fn matmul_grad_input<T: Scalar>(
    grad_out: &[T],
    w: &[T],
    alpha: f64,
    k: usize,
    m: usize,
    grad_a: &mut [T],
) {
    if k == 0 {
        return;
    }
    let wt = MatView::row_major(w, k, m).t();
    grad_a
        .par_chunks_mut(ROWS * k)
        .zip(grad_out.par_chunks(ROWS * m.max(1)))
        .for_each(|(ga, g)| {
            let rows = ga.len() / k;
            gemm(
                MatViewMut::row_major(ga, rows, k),
                false,
                MatView::row_major(g, rows, m),
                wt,
                alpha,
            );
        });
}

/// `grad_w = alpha · aᵀ · grad_out` (`k × m`, overwritten), block partials summed in a fixed
/// order.
pub fn matmul_grad_weight<T: Scalar>(
    a: &[T],
    grad_out: &[T],
    alpha: f64,
    k: usize,
    m: usize,
    grad_w: &mut [T],
) {
    grad_w.fill(T::zero());
    if k == 0 || m == 0 {
        return;
    }
    let partials: Vec<Vec<T>> = a
        .par_chunks(ROWS * k)
        .zip(grad_out.par_chunks(ROWS * m))
        .map(|(a, g)| {
            let rows = a.len() / k;
            let mut acc = vec![T::zero(); k * m];
            gemm(
                MatViewMut::row_major(&mut acc, k, m),
                false,
                MatView::row_major(a, rows, k).t(),
                MatView::row_major(g, rows, m),
                alpha,
            );
            acc
        })
        .collect();
    for p in partials {
        for (gw, v) in grad_w.iter_mut().zip(p) {
            *gw += v;
        }
    }
}
