//! Test data and objectives shared by the integration tests.
#![allow(dead_code)]

use mlff_data::{Dataset, DatasetParts, Provenance, Species, TimeOrder, Units};
use mlff_train::{LossFunction, LossParts, Objective, ObjectiveError};
use ndarray::{Array1, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Morse pair energy `D (1 − e^{−a(r−r0)})²` and its derivative.
fn morse(r: f64) -> (f64, f64) {
    let (d, a, r0) = (5.0, 1.5, 1.2);
    let x = (-a * (r - r0)).exp();
    (d * (1.0 - x).powi(2), 2.0 * d * (1.0 - x) * a * x)
}

/// `n_frames` noisy 4-atom clusters (H, H, C, O around a fixed geometry) labelled with a Morse
/// pair potential plus per-atom energies (H −0.5, C −38, O −75).
pub fn morse_dataset(n_frames: usize, seed: u64) -> Dataset {
    let z = [1u8, 1, 6, 8];
    let base = [
        [0.0, 0.0, 0.0],
        [1.3, 0.0, 0.0],
        [0.6, 1.1, 0.0],
        [0.6, 0.4, 1.1],
    ];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = z.len();
    let mut positions = Array3::zeros((n_frames, n, 3));
    let mut forces = Array3::zeros((n_frames, n, 3));
    let mut energies = Array1::zeros(n_frames);
    for t in 0..n_frames {
        for a in 0..n {
            for c in 0..3 {
                positions[(t, a, c)] = base[a][c] + rng.random_range(-0.15..0.15);
            }
        }
        let mut e: f64 = z
            .iter()
            .map(|&s| match s {
                1 => -0.5,
                6 => -38.0,
                _ => -75.0,
            })
            .sum();
        for a in 0..n {
            for b in (a + 1)..n {
                let d: Vec<f64> = (0..3)
                    .map(|c| positions[(t, a, c)] - positions[(t, b, c)])
                    .collect();
                let r = d.iter().map(|x| x * x).sum::<f64>().sqrt();
                let (v, dv) = morse(r);
                e += v;
                for c in 0..3 {
                    forces[(t, a, c)] -= dv * d[c] / r;
                    forces[(t, b, c)] += dv * d[c] / r;
                }
            }
        }
        energies[t] = e;
    }
    Dataset::new(DatasetParts {
        species: Species::Fixed(Array1::from(z.to_vec())),
        positions,
        energies: Some(energies),
        forces: Some(forces),
        time_order: TimeOrder::Sequential,
        units: Units::default(),
        provenance: Provenance::default(),
    })
    .expect("valid generated dataset")
}

/// Linear regression `y = w·x` read as an energy-only objective (one "atom" per example).
pub struct LinearRegression {
    pub features: Vec<Vec<f64>>,
    pub targets: Vec<f64>,
}

impl LinearRegression {
    /// `n` examples of `d` random features with random targets (exactly fittable when `d ≥ n`).
    pub fn random(n: usize, d: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        LinearRegression {
            features: (0..n)
                .map(|_| (0..d).map(|_| rng.random_range(-1.0..1.0)).collect())
                .collect(),
            targets: (0..n).map(|_| rng.random_range(-2.0..2.0)).collect(),
        }
    }

    fn predict(&self, w: &[f64], i: usize) -> f64 {
        self.features[i].iter().zip(w).map(|(x, w)| x * w).sum()
    }
}

impl Objective for LinearRegression {
    fn n_examples(&self) -> usize {
        self.targets.len()
    }
    fn n_params(&self) -> usize {
        self.features[0].len()
    }
    fn loss_and_gradient(
        &self,
        w: &[f64],
        batch: &[usize],
        loss: &LossFunction,
        grad: &mut [f64],
    ) -> Result<LossParts, ObjectiveError> {
        let shape = mlff_train::BatchShape {
            n_frames: batch.len(),
            n_atoms: batch.len(),
        };
        grad.fill(0.0);
        let mut parts = LossParts::default();
        for &i in batch {
            let p = self.predict(w, i);
            parts.add_frame(p, self.targets[i], 1, &[], &[]);
            let d = loss.energy_derivative(shape, p, self.targets[i], 1);
            for (g, x) in grad.iter_mut().zip(&self.features[i]) {
                *g += d * x;
            }
        }
        Ok(parts)
    }
    fn evaluate(&self, w: &[f64], indices: &[usize]) -> Result<LossParts, ObjectiveError> {
        let mut parts = LossParts::default();
        for &i in indices {
            parts.add_frame(self.predict(w, i), self.targets[i], 1, &[], &[]);
        }
        Ok(parts)
    }
}

/// Wraps an objective and makes the gradient NaN from optimiser step `bad_step` (1-based) on.
pub struct FailsAtStep<'a, O> {
    pub inner: &'a O,
    pub bad_step: u64,
    pub calls: std::sync::atomic::AtomicU64,
}

impl<O: Objective> Objective for FailsAtStep<'_, O> {
    fn n_examples(&self) -> usize {
        self.inner.n_examples()
    }
    fn n_params(&self) -> usize {
        self.inner.n_params()
    }
    fn loss_and_gradient(
        &self,
        w: &[f64],
        batch: &[usize],
        loss: &LossFunction,
        grad: &mut [f64],
    ) -> Result<LossParts, ObjectiveError> {
        let parts = self.inner.loss_and_gradient(w, batch, loss, grad)?;
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if call >= self.bad_step {
            grad[0] = f64::NAN;
        }
        Ok(parts)
    }
    fn evaluate(&self, w: &[f64], indices: &[usize]) -> Result<LossParts, ObjectiveError> {
        self.inner.evaluate(w, indices)
    }
}
