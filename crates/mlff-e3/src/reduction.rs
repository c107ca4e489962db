//! Sums of per-chunk partial gradients (shared weights, frequencies) in parallel.

use rayon::prelude::*;

use crate::scalar::Scalar;

/// Element-wise sum of the `len`-long partial vectors produced by `partials`.
pub(crate) fn sum_partials<T: Scalar>(
    partials: impl ParallelIterator<Item = Vec<T>>,
    len: usize,
) -> Vec<T> {
    partials.reduce(
        || vec![T::zero(); len],
        |mut a, b| {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
            a
        },
    )
}
