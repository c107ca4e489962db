//! Measures one core's f32 multiply-add peak as the kernels reach it: independent tiles of
//! fused multiply-adds, compiled for the widest instruction set the CPU has (`mlff_e3::simd`).
//! The reference for the "fraction of peak" figures in docs/benchmarks.md.
//!
//! `cargo run --release -p mlff-e3 --example fma_peak`

use std::hint::black_box;
use std::time::Instant;

use mlff_e3::simd::{Isa, SimdKernel};

/// Independent accumulator tiles: enough to cover the FMA latency on every port.
const CHAINS: usize = 12;
/// Lanes per tile (one 256-bit register of f32).
const LANES: usize = 8;

struct Peak {
    iterations: usize,
}

impl SimdKernel<f32> for Peak {
    type Output = f32;
    #[inline(always)]
    fn run<const FUSED: bool>(&self, seed: f32) -> f32 {
        let mut acc = [[seed; LANES]; CHAINS];
        let (a, b) = (black_box(0.999_999_f32), black_box(1e-7_f32));
        for _ in 0..self.iterations {
            for tile in acc.iter_mut() {
                for x in tile.iter_mut() {
                    *x = if FUSED { x.mul_add(a, b) } else { *x * a + b };
                }
            }
        }
        acc.iter().flatten().sum()
    }
}

fn main() {
    let isa = Isa::detected();
    let peak = Peak {
        iterations: 50_000_000,
    };
    let flops = (2 * CHAINS * LANES * peak.iterations) as f64;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        black_box(isa.run(&peak, black_box(1.0)));
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{isa:?}: {:.1} GFLOP/s f32 on one core ({CHAINS} chains of {LANES} lanes, best of 5)",
        flops / best / 1e9
    );
}
