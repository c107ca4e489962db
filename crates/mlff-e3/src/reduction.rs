//! Sums of per-chunk partial gradients (shared weights, frequencies) in parallel.

use rayon::prelude::*;

use crate::scalar::Scalar;

/// Element-wise sum of the `len`-long partial vectors produced by `partials`, added in the
/// iterator's order: the grouping of the sums does not depend on how rayon split the work,
/// so neither do the result's bits.
pub(crate) fn sum_partials<T: Scalar>(
    partials: impl IndexedParallelIterator<Item = Vec<T>>,
    len: usize,
) -> Vec<T> {
    let partials: Vec<Vec<T>> = partials.collect();
    let mut total = vec![T::zero(); len];
    for partial in partials {
        total.iter_mut().zip(partial).for_each(|(x, y)| *x += y);
    }
    total
}
