//! Run-time choice of the vector instructions the hot kernels are compiled for.
//!
//! The crates are built for the x86-64 baseline (SSE2), so one binary runs on every x86-64 CPU.
//! The kernels are written on fixed-width lane arrays ([`crate::LaneTile`]); compiled for AVX2,
//! the same source does twice the lanes per instruction. A kernel body implements
//! [`SimdKernel`], with `#[inline(always)]` on [`SimdKernel::run`] and on everything it calls,
//! and [`Isa::run`] calls it from a wrapper compiled for the chosen instruction set, so the whole
//! body is compiled for that set.
//!
//! Between the baseline and AVX2 only the vector width changes, never the order of the
//! operations: Rust does not contract `a * b + c` into a fused multiply-add, and lane
//! reductions are fixed trees, so the two give the same bits (the tests check this). With
//! FMA, a body is run with `FUSED = true` and may round `a · b + c` once instead of twice
//! ([`crate::LaneTile::fma_as`]): the results then differ from the other sets in the last bits
//! (well inside every test's tolerance), and are still the same on every run and thread count
//! of one machine.

use std::sync::OnceLock;

/// Environment variable that pins the instruction set: `baseline`, `avx2` or `avx2-fma` (where
/// the CPU has it), for comparisons; unset, the widest available set is used.
pub const SIMD_ENV: &str = "MLFFBENCH_SIMD";

/// A kernel body compiled once per instruction set. `run` and everything it calls must be
/// `#[inline(always)]`, or the callees stay compiled for the baseline.
pub trait SimdKernel<A> {
    /// What the body returns.
    type Output;
    /// The body, applied to one argument (typically one parallel task's chunk). `FUSED`: the
    /// body is compiled with FMA and may use fused multiply-adds.
    fn run<const FUSED: bool>(&self, arg: A) -> Self::Output;
}

/// Instruction sets the kernels are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// The build target's own (SSE2 on x86-64).
    Baseline,
    /// x86-64 with AVX2 (256-bit vectors).
    Avx2,
    /// x86-64 with AVX2 and FMA: kernels use fused multiply-adds.
    Avx2Fma,
}

impl Isa {
    /// The set the kernels use: the widest this CPU has, unless [`SIMD_ENV`] pins one.
    /// Detected once per process.
    pub fn detected() -> Self {
        static CHOSEN: OnceLock<Isa> = OnceLock::new();
        *CHOSEN.get_or_init(|| {
            let widest = *Self::available()
                .last()
                .expect("baseline is always available");
            match std::env::var(SIMD_ENV).as_deref() {
                Ok("baseline") => Isa::Baseline,
                Ok("avx2") if Isa::Avx2.is_available() => Isa::Avx2,
                Ok("avx2-fma") if Isa::Avx2Fma.is_available() => Isa::Avx2Fma,
                _ => widest,
            }
        })
    }

    /// Every set this CPU can run, narrowest first.
    pub fn available() -> Vec<Self> {
        [Isa::Baseline, Isa::Avx2, Isa::Avx2Fma]
            .into_iter()
            .filter(|isa| isa.is_available())
            .collect()
    }

    /// Whether this CPU can run the set.
    pub fn is_available(self) -> bool {
        match self {
            Isa::Baseline => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            Isa::Avx2 | Isa::Avx2Fma => false,
        }
    }

    /// Runs `kernel` on `arg`, compiled for this set (the baseline where the CPU lacks it).
    #[inline]
    pub fn run<A, K: SimdKernel<A>>(self, kernel: &K, arg: A) -> K::Output {
        #[cfg(target_arch = "x86_64")]
        if self != Isa::Baseline && self.is_available() {
            #[allow(unsafe_code)]
            return match self {
                // SAFETY: the CPU has AVX2 and FMA (`is_available` above), all that
                // `run_avx2_fma` requires.
                Isa::Avx2Fma => unsafe { run_avx2_fma(kernel, arg) },
                // SAFETY: the CPU has AVX2 (`is_available` above), all that `run_avx2` requires.
                _ => unsafe { run_avx2(kernel, arg) },
            };
        }
        kernel.run::<false>(arg)
    }
}

/// Clears the upper halves of the vector registers (`vzeroupper`) where the CPU has AVX.
///
/// faer's GEMM microkernels (AVX2/AVX-512, chosen at run time) return with the upper state
/// dirty; on Intel cores every SSE instruction of baseline code that follows then pays a
/// transition penalty (measured: libm's `expf` called from the gate ran ~20× slower).
#[inline]
pub fn clear_upper_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU has AVX (checked just above), the only requirement of `zeroupper`.
        #[allow(unsafe_code)]
        unsafe {
            zeroupper()
        };
    }
}

/// `vzeroupper`.
///
/// # Safety
/// The CPU must support AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[allow(unsafe_code)]
unsafe fn zeroupper() {
    std::arch::x86_64::_mm256_zeroupper()
}

/// `kernel.run(arg)` compiled with AVX2 (`run` is inlined here, so its body is too).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[allow(unsafe_code)]
unsafe fn run_avx2<A, K: SimdKernel<A>>(kernel: &K, arg: A) -> K::Output {
    kernel.run::<false>(arg)
}

/// `kernel.run::<true>(arg)` compiled with AVX2 and FMA.
///
/// # Safety
/// The CPU must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)]
unsafe fn run_avx2_fma<A, K: SimdKernel<A>>(kernel: &K, arg: A) -> K::Output {
    kernel.run::<true>(arg)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Saxpy<'a>(&'a [f32]);

    impl SimdKernel<&mut [f32]> for Saxpy<'_> {
        type Output = f32;
        #[inline(always)]
        fn run<const FUSED: bool>(&self, y: &mut [f32]) -> f32 {
            for (y, &x) in y.iter_mut().zip(self.0) {
                *y = if FUSED {
                    0.1f32.mul_add(x, *y)
                } else {
                    *y + 0.1 * x
                };
            }
            y.iter().sum()
        }
    }

    #[test]
    fn sets_without_fma_compute_the_same_bits() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
        let results: Vec<(Vec<f32>, f32)> = [Isa::Baseline, Isa::Avx2]
            .into_iter() // Avx2 runs as the baseline where the CPU lacks it
            .map(|isa| {
                let mut y: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.11).cos()).collect();
                let s = isa.run(&Saxpy(&x), &mut y);
                (y, s)
            })
            .collect();
        for r in &results[1..] {
            assert_eq!(r.0, results[0].0);
            assert_eq!(r.1.to_bits(), results[0].1.to_bits());
        }
        assert!(Isa::available().contains(&Isa::detected()));
        // With FMA: the same sums to rounding.
        let mut y: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.11).cos()).collect();
        let s = Isa::Avx2Fma.run(&Saxpy(&x), &mut y);
        for (a, b) in y.iter().zip(&results[0].0) {
            assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!((s - results[0].1).abs() <= 1e-3, "{s} vs {}", results[0].1);
    }
}
