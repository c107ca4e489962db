//! Seeded, portable random draws shared by all strategies.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator for one independent purpose (`stream`) of a split made with `seed`.
///
/// Separate streams keep, e.g., the test draw unchanged when only the validation size changes.
pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Streams used by the strategies (fixed forever: changing one changes every stored split).
pub(crate) mod stream {
    pub const TEST: u64 = 1;
    pub const TRAIN: u64 = 2;
    pub const VALIDATION: u64 = 3;
    pub const POOL: u64 = 4;
    pub const CLUSTERS: u64 = 5;
    /// Cross-dataset tasks use `TASK_BASE + task number`.
    pub const TASK_BASE: u64 = 1 << 32;
}

/// Shuffles `items` in place (Fisher–Yates); only the first `k` positions are randomised,
/// which is all a draw of `k` items needs.
pub(crate) fn partial_shuffle<T>(items: &mut [T], k: usize, rng: &mut ChaCha8Rng) {
    let n = items.len();
    for i in 0..k.min(n) {
        let j = rng.random_range(i..n);
        items.swap(i, j);
    }
}

/// Splits `items` into a random draw of `k` (sorted) and the rest (sorted).
pub(crate) fn draw_sorted(
    mut items: Vec<usize>,
    k: usize,
    rng: &mut ChaCha8Rng,
) -> (Vec<usize>, Vec<usize>) {
    partial_shuffle(&mut items, k, rng);
    let mut rest = items.split_off(k.min(items.len()));
    items.sort_unstable();
    rest.sort_unstable();
    (items, rest)
}

/// A random draw of `k` of `items`, sorted (the rest is discarded unsorted).
///
/// Yields exactly the first list of [`draw_sorted`] for the same generator state.
pub(crate) fn draw(mut items: Vec<usize>, k: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    partial_shuffle(&mut items, k, rng);
    items.truncate(k);
    items.sort_unstable();
    items
}
