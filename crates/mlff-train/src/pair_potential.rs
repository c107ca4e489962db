//! A small real force field that implements [`Objective`]: a pair potential whose radial
//! function for each pair of species is a learned combination of smooth Gaussian basis
//! functions. It is linear in its parameters, so energies, forces and the exact loss gradient
//! (including the force term) are cheap — a baseline, the reference objective of this crate's
//! tests and example, and a template for implementing [`Objective`] for a real model.
//!
//! `E = Σ_atoms shift(Z) + Σ_{i<j} Σ_k w[type(Zi,Zj), k] φ_k(r_ij)`, with
//! `φ_k(r) = exp(−((r−μ_k)/σ)²) · ½(cos(π r / r_max) + 1)` for `r < r_max` (0 beyond), `μ_k`
//! evenly spaced on `[r_min, r_max)` and `σ` their spacing; forces are `−∂E/∂r`.

use crate::error::{ObjectiveError, Result, TrainError};
use crate::loss::{BatchShape, LossFunction, LossParts};
use crate::objective::Objective;
use mlff_data::Dataset;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use std::f64::consts::PI;

/// The radial basis of a [`PairPotential`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RadialBasis {
    /// Number of basis functions per species pair.
    pub n_basis: usize,
    /// First centre.
    pub r_min: f64,
    /// Cut-off radius (functions and their derivatives vanish there).
    pub r_max: f64,
}

impl RadialBasis {
    fn validate(&self) -> Result<()> {
        if self.n_basis == 0 {
            return Err(TrainError::config("n_basis", "must be at least 1"));
        }
        if !(self.r_min >= 0.0 && self.r_max > self.r_min && self.r_max.is_finite()) {
            return Err(TrainError::config(
                "r_min/r_max",
                format!(
                    "need 0 ≤ r_min < r_max < ∞, got {} and {}",
                    self.r_min, self.r_max
                ),
            ));
        }
        Ok(())
    }

    /// Writes `φ_k(r)` and `dφ_k/dr` for every `k`.
    fn eval(&self, r: f64, phi: &mut [f64], dphi: &mut [f64]) {
        let spacing = (self.r_max - self.r_min) / self.n_basis as f64;
        let (cut, dcut) = if r < self.r_max {
            let x = PI * r / self.r_max;
            (0.5 * (x.cos() + 1.0), -0.5 * PI / self.r_max * x.sin())
        } else {
            (0.0, 0.0)
        };
        for k in 0..self.n_basis {
            let mu = self.r_min + spacing * k as f64;
            let u = (r - mu) / spacing;
            let g = (-u * u).exp();
            phi[k] = g * cut;
            dphi[k] = g * (-2.0 * u / spacing) * cut + g * dcut;
        }
    }
}

/// Per-frame features: `E = shift + energy·w`, `F = forces·w` (forces: `3N × P`).
struct FrameFeatures {
    energy_shift: f64,
    energy: Vec<f64>,
    forces: Array2<f64>,
}

/// A species-pair radial potential bound to a dataset (the [`Objective`]'s examples are its frames).
pub struct PairPotential {
    basis: RadialBasis,
    species: Vec<u8>,
    frames: Vec<FrameFeatures>,
    energies: Vec<f64>,
    forces: Option<Vec<Vec<f64>>>,
    n_atoms: usize,
}

impl PairPotential {
    /// Precomputes the features of every frame of `data` (needs energies). `energy_shift(z)` is
    /// the fixed per-atom energy of species `z` (e.g. from [`DataStats`](crate::DataStats));
    /// species it does not know are an error.
    pub fn new(
        data: &Dataset,
        basis: RadialBasis,
        energy_shift: impl Fn(u8) -> Option<f64>,
    ) -> Result<Self> {
        basis.validate()?;
        let energies = data.require_energies()?.to_vec();
        let species = data.species().elements();
        let shifts: Vec<f64> = species
            .iter()
            .map(|&z| {
                energy_shift(z).ok_or_else(|| {
                    TrainError::config("energy_shift", format!("no shift for atomic number {z}"))
                })
            })
            .collect::<Result<_>>()?;
        let n_pairs = species.len() * (species.len() + 1) / 2;
        let model = PairPotential {
            basis,
            species,
            frames: Vec::new(),
            energies,
            forces: data.forces().map(|f| {
                f.outer_iter()
                    .map(|fr| fr.iter().copied().collect())
                    .collect()
            }),
            n_atoms: data.n_atoms(),
        };
        let frames = data
            .frames()
            .collect::<Vec<_>>()
            .par_iter()
            .map(|f| {
                model.features(
                    f.atomic_numbers.as_slice().expect("contiguous"),
                    f.positions,
                    &shifts,
                    n_pairs,
                )
            })
            .collect();
        Ok(PairPotential { frames, ..model })
    }

    /// The number of parameters: species pairs × basis functions.
    pub fn param_count(&self) -> usize {
        self.species.len() * (self.species.len() + 1) / 2 * self.basis.n_basis
    }

    fn features(
        &self,
        z: &[u8],
        pos: ArrayView2<'_, f64>,
        shifts: &[f64],
        n_pairs: usize,
    ) -> FrameFeatures {
        let k_n = self.basis.n_basis;
        let n = z.len();
        let mut energy = vec![0.0; n_pairs * k_n];
        let mut forces = Array2::zeros((3 * n, n_pairs * k_n));
        let (mut phi, mut dphi) = (vec![0.0; k_n], vec![0.0; k_n]);
        for a in 0..n {
            for b in (a + 1)..n {
                let d = [0, 1, 2].map(|c| pos[(a, c)] - pos[(b, c)]);
                let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
                if r >= self.basis.r_max {
                    continue;
                }
                self.basis.eval(r, &mut phi, &mut dphi);
                let base = self.pair_index(z[a], z[b]) * k_n;
                for k in 0..k_n {
                    energy[base + k] += phi[k];
                    for c in 0..3 {
                        let g = dphi[k] * d[c] / r;
                        forces[(3 * a + c, base + k)] -= g;
                        forces[(3 * b + c, base + k)] += g;
                    }
                }
            }
        }
        let energy_shift = z
            .iter()
            .map(|&s| shifts[self.species.binary_search(&s).expect("known species")])
            .sum();
        FrameFeatures {
            energy_shift,
            energy,
            forces,
        }
    }

    /// The index of the unordered species pair `(a, b)` in `0..n_pairs`.
    fn pair_index(&self, a: u8, b: u8) -> usize {
        let s = self.species.len();
        let i = self
            .species
            .binary_search(&a)
            .expect("species of the dataset");
        let j = self
            .species
            .binary_search(&b)
            .expect("species of the dataset");
        let (i, j) = (i.min(j), i.max(j));
        i * s - i * (i + 1) / 2 + j
    }

    /// Energy and forces (`3N`, atom-major) of frame `index` with parameters `params`.
    pub fn predict(&self, params: &[f64], index: usize) -> (f64, Vec<f64>) {
        let f = &self.frames[index];
        let e = f.energy_shift + dot(&f.energy, params);
        let forces = f
            .forces
            .rows()
            .into_iter()
            .map(|row| dot(row.as_slice().expect("row-major"), params))
            .collect();
        (e, forces)
    }

    fn check(&self, params: &[f64], indices: &[usize]) -> std::result::Result<(), ObjectiveError> {
        if params.len() != self.param_count() {
            return Err(format!(
                "{} parameters given, the pair potential has {}",
                params.len(),
                self.param_count()
            )
            .into());
        }
        if let Some(&i) = indices.iter().find(|&&i| i >= self.frames.len()) {
            return Err(format!("frame {i} out of range ({} frames)", self.frames.len()).into());
        }
        Ok(())
    }

    fn reference_forces(&self, index: usize) -> &[f64] {
        self.forces.as_ref().map_or(&[], |f| &f[index])
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Objective for PairPotential {
    fn n_examples(&self) -> usize {
        self.frames.len()
    }

    fn n_params(&self) -> usize {
        self.param_count()
    }

    fn loss_and_gradient(
        &self,
        params: &[f64],
        batch: &[usize],
        loss: &LossFunction,
        grad: &mut [f64],
    ) -> std::result::Result<LossParts, ObjectiveError> {
        self.check(params, batch)?;
        let shape = BatchShape {
            n_frames: batch.len(),
            n_atoms: batch.len() * self.n_atoms,
        };
        grad.fill(0.0);
        let mut parts = LossParts::default();
        let mut d_forces = vec![0.0; 3 * self.n_atoms];
        for &i in batch {
            let (e, f) = self.predict(params, i);
            let ref_f = self.reference_forces(i);
            parts.add_frame(e, self.energies[i], self.n_atoms, &f, ref_f);
            let de = loss.energy_derivative(shape, e, self.energies[i], self.n_atoms);
            let feats = &self.frames[i];
            for (g, x) in grad.iter_mut().zip(&feats.energy) {
                *g += de * x;
            }
            if !ref_f.is_empty() {
                loss.force_derivatives(shape, &f, ref_f, &mut d_forces);
                for (row, &df) in feats.forces.rows().into_iter().zip(&d_forces) {
                    for (g, x) in grad.iter_mut().zip(row) {
                        *g += df * x;
                    }
                }
            }
        }
        Ok(parts)
    }

    fn evaluate(
        &self,
        params: &[f64],
        indices: &[usize],
    ) -> std::result::Result<LossParts, ObjectiveError> {
        self.check(params, indices)?;
        let mut parts = LossParts::default();
        for &i in indices {
            let (e, f) = self.predict(params, i);
            parts.add_frame(
                e,
                self.energies[i],
                self.n_atoms,
                &f,
                self.reference_forces(i),
            );
        }
        Ok(parts)
    }
}
