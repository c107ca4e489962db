//! The standard-normal samples e3nn's `normalize2mom` draws, reproduced exactly.
//!
//! e3nn scales every activation by `E[f(z)²]^{-1/2}` estimated from `torch.randn(1_000_000,
//! dtype=float64)` with a CPU generator seeded 0. A trained NequIP model bakes that Monte-Carlo
//! constant into its function (it differs from the exact integral in the 4th digit), so
//! importing one exactly needs the same samples. PyTorch's CPU generator is the 32-bit Mersenne
//! Twister (MT19937, `init_genrand` seeding); a float64 uniform takes the low 53 bits of two
//! consecutive outputs joined high-word first, and tensors of ≥16 contiguous values are filled
//! with uniforms first and then turned into normals 16 at a time by Box–Muller (the first 8
//! uniforms give radii, the next 8 angles; cosines land in the first half, sines in the second).

/// The 32-bit Mersenne Twister (Matsumoto & Nishimura 1998).
struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    fn new(seed: u32) -> Self {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Self { state, index: 624 }
    }

    fn twist(&mut self) {
        for i in 0..624 {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % 624] & 0x7fff_ffff);
            let mut next = self.state[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                next ^= 0x9908_b0df;
            }
            self.state[i] = next;
        }
        self.index = 0;
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A float64 uniform in [0, 1) the way PyTorch's CPU generator makes one.
    fn next_uniform(&mut self) -> f64 {
        let hi = u64::from(self.next_u32());
        let lo = u64::from(self.next_u32());
        let bits = ((hi << 32) | lo) & ((1u64 << 53) - 1);
        bits as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// `torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)` for
/// `n` a multiple of 16 (the only case e3nn uses: 10⁶).
pub(crate) fn torch_randn_f64(n: usize, seed: u32) -> Vec<f64> {
    debug_assert!(n.is_multiple_of(16));
    let mut rng = Mt19937::new(seed);
    let mut z: Vec<f64> = (0..n).map(|_| rng.next_uniform()).collect();
    for block in z.chunks_exact_mut(16) {
        for j in 0..8 {
            let radius = (-2.0 * (1.0 - block[j]).ln()).sqrt();
            let theta = 2.0 * std::f64::consts::PI * block[j + 8];
            block[j] = radius * theta.cos();
            block[j + 8] = radius * theta.sin();
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mersenne_twister_matches_the_reference_output() {
        // The 10,000th output of MT19937 seeded 5489 is 4123659995 (C++11 [rand.predef]).
        let mut rng = Mt19937::new(5489);
        let v = (0..10_000).map(|_| rng.next_u32()).last().unwrap();
        assert_eq!(v, 4_123_659_995);
    }

    #[test]
    fn samples_are_standard_normal() {
        let z = torch_randn_f64(160_000, 0);
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|v| v * v).sum::<f64>() / z.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.01,
            "{mean} {var}"
        );
    }
}
