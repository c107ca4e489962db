//! Seeded random inputs and tolerance checks shared by the test files.
#![allow(dead_code)]

pub mod dual_ops;
pub mod pipeline_ops;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A deterministic generator for one test.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` values uniform in `[lo, hi)`.
pub fn uniform(rng: &mut ChaCha8Rng, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Asserts `|a - b| <= tol · max(1, |b|)` element-wise, naming the first failure.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: emulated {g} vs mlff-e3 {w} (tolerance {tol})"
        );
    }
}

/// Prints a skip notice that `cargo test` shows even for passing tests (the test harness only
/// captures the print macros, not direct writes to the stderr handle).
pub fn notice(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "NOTICE: {message}");
}

/// NequIP's convolution product `features ⊗ Y_{≤lmax} → out` (irreps as text).
pub fn nequip_convolution(features: &str, lmax: u32, out: &str) -> mlff_e3::TensorProduct {
    mlff_e3::TensorProduct::nequip_convolution(
        &features.parse().unwrap(),
        &mlff_e3::Irreps::spherical_harmonics(lmax),
        &out.parse().unwrap(),
    )
    .unwrap()
}
