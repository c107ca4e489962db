//! Statistics of the training frames that a force field's output scaling and message
//! normalisation need: per-species energy shifts, force RMS (global and per species) and the
//! average number of neighbours within `r_max` — computed from training indices only, so no
//! validation or test label leaks into the model.
//!
//! **Energy shifts.** nequip 0.19's `CommonDataStatisticsManager` sets every species' shift to
//! the mean per-atom energy `μ = mean(E/N)`; older nequip fitted per-species shifts by (ridge)
//! least squares of energies on species counts. We do the least squares and resolve its
//! ambiguity towards nequip 0.19: among all minimisers of `‖C s − E‖²` (C: frames × species
//! counts) we take the one closest to `μ·1`, i.e. `s = μ·1 + C⁺(E − C μ·1)` with the
//! pseudo-inverse from an eigendecomposition of `CᵀC` (eigenvalues below 1e-10 of the largest
//! count as zero). For one molecule (every frame has the same composition, so all species
//! columns are collinear) this gives exactly nequip 0.19's `μ` for every species; for mixtures of
//! compositions that determine the shifts it gives the ordinary least-squares solution.
//!
//! **Neighbours.** For each training frame, each atom counts the other atoms closer than `r_max`
//! (strictly; no periodic images — molecules), by an O(N²) loop per frame (fine for molecules of
//! tens of atoms); the average is over all atoms of all training frames (nequip's
//! `num_neighbors_mean`), and per species over that species' atoms.

use crate::error::{Result, TrainError};
use faer::{Mat, Side};
use mlff_data::Dataset;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Relative eigenvalue cut-off of the pseudo-inverse.
const RANK_TOLERANCE: f64 = 1e-10;

/// Statistics of the training frames, in the dataset's units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataStats {
    /// Frames used.
    pub n_frames: usize,
    /// The atomic numbers present in the training frames, ascending; per-species vectors follow
    /// this order.
    pub species: Vec<u8>,
    /// Atoms of each species over all training frames.
    pub species_atom_counts: Vec<usize>,
    /// Per-species energy shift (least squares, see the module docs).
    pub per_species_energy_shift: Vec<f64>,
    /// Rank of the species-count matrix (< species count when compositions are collinear).
    pub composition_rank: usize,
    /// RMS of the energy residual `E − Σ_s n_s shift_s` over frames.
    pub energy_residual_rms: f64,
    /// Mean of `E/N` (nequip's `per_atom_energy_mean`).
    pub per_atom_energy_mean: f64,
    /// Population standard deviation of `E/N`.
    pub per_atom_energy_std: f64,
    /// RMS of all force components (nequip's `forces_rms`); `None` without forces.
    pub forces_rms: Option<f64>,
    /// RMS of force components per species (nequip's `per_type_forces_rms`).
    pub per_species_forces_rms: Option<Vec<f64>>,
    /// The cut-off the neighbour counts used.
    pub r_max: f64,
    /// Mean number of neighbours within `r_max` per atom (nequip's `num_neighbors_mean`).
    pub avg_num_neighbors: f64,
    /// Mean number of neighbours per atom of each species.
    pub per_species_avg_num_neighbors: Vec<f64>,
}

impl DataStats {
    /// Computes the statistics of frames `train` of `data` with neighbour cut-off `r_max` (in
    /// the dataset's length unit). Needs energies; force statistics are `None` without forces.
    pub fn compute(data: &Dataset, train: &[usize], r_max: f64) -> Result<Self> {
        if train.is_empty() {
            return Err(TrainError::Statistics("no training frames given".into()));
        }
        if !(r_max.is_finite() && r_max > 0.0) {
            return Err(TrainError::Statistics(format!(
                "r_max {r_max} must be finite and positive"
            )));
        }
        let energies = data.require_energies()?;
        let frames = train
            .iter()
            .map(|&i| data.frame(i))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let species = {
            let mut s: Vec<u8> = frames
                .iter()
                .flat_map(|f| f.atomic_numbers.iter().copied())
                .collect();
            s.sort_unstable();
            s.dedup();
            s
        };
        let slot = |z: u8| species.binary_search(&z).expect("species collected above");
        let n_species = species.len();

        // Species counts per frame (the design matrix of the energy fit).
        let mut counts = Mat::<f64>::zeros(frames.len(), n_species);
        let mut species_atom_counts = vec![0usize; n_species];
        for (row, f) in frames.iter().enumerate() {
            for &z in f.atomic_numbers {
                counts[(row, slot(z))] += 1.0;
                species_atom_counts[slot(z)] += 1;
            }
        }
        let e: Vec<f64> = train.iter().map(|&i| energies[i]).collect();
        let per_atom: Vec<f64> = frames
            .iter()
            .zip(&e)
            .map(|(f, &e)| e / f.atomic_numbers.len() as f64)
            .collect();
        let per_atom_energy_mean = mean(&per_atom);
        let per_atom_energy_std = mean(
            &per_atom
                .iter()
                .map(|v| (v - per_atom_energy_mean).powi(2))
                .collect::<Vec<_>>(),
        )
        .sqrt();
        let (shift, composition_rank) = energy_shifts(&counts, &e, per_atom_energy_mean)?;
        let residual: Vec<f64> = (0..frames.len())
            .map(|r| {
                let fit: f64 = (0..n_species).map(|s| counts[(r, s)] * shift[s]).sum();
                (e[r] - fit).powi(2)
            })
            .collect();

        let (forces_rms, per_species_forces_rms) = match data.forces() {
            None => (None, None),
            Some(_) => {
                let mut sq = vec![0.0; n_species];
                for f in &frames {
                    let forces = f.forces.expect("dataset has forces");
                    for (a, &z) in f.atomic_numbers.iter().enumerate() {
                        sq[slot(z)] += forces.row(a).iter().map(|v| v * v).sum::<f64>();
                    }
                }
                let total_atoms: usize = species_atom_counts.iter().sum();
                let global = (sq.iter().sum::<f64>() / (3 * total_atoms) as f64).sqrt();
                let per: Vec<f64> = sq
                    .iter()
                    .zip(&species_atom_counts)
                    .map(|(s, &n)| (s / (3 * n) as f64).sqrt())
                    .collect();
                (Some(global), Some(per))
            }
        };

        let neighbours: Vec<Vec<usize>> = frames
            .par_iter()
            .map(|f| neighbour_counts(f.positions, r_max))
            .collect();
        let mut per_species_sum = vec![0usize; n_species];
        for (f, counts) in frames.iter().zip(&neighbours) {
            for (&z, &c) in f.atomic_numbers.iter().zip(counts) {
                per_species_sum[slot(z)] += c;
            }
        }
        let total_atoms: usize = species_atom_counts.iter().sum();
        Ok(DataStats {
            n_frames: frames.len(),
            avg_num_neighbors: per_species_sum.iter().sum::<usize>() as f64 / total_atoms as f64,
            per_species_avg_num_neighbors: per_species_sum
                .iter()
                .zip(&species_atom_counts)
                .map(|(&s, &n)| s as f64 / n as f64)
                .collect(),
            species,
            species_atom_counts,
            per_species_energy_shift: shift,
            composition_rank,
            energy_residual_rms: mean(&residual).sqrt(),
            per_atom_energy_mean,
            per_atom_energy_std,
            forces_rms,
            per_species_forces_rms,
            r_max,
        })
    }

    /// The shift of atomic number `z`, if it occurs in the training frames.
    pub fn energy_shift_of(&self, z: u8) -> Option<f64> {
        let i = self.species.binary_search(&z).ok()?;
        Some(self.per_species_energy_shift[i])
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// `s = μ·1 + C⁺(E − C μ·1)` and the rank of `C` (see the module docs).
fn energy_shifts(counts: &Mat<f64>, energies: &[f64], mu: f64) -> Result<(Vec<f64>, usize)> {
    let (n_frames, n_species) = (counts.nrows(), counts.ncols());
    let residual: Vec<f64> = (0..n_frames)
        .map(|r| energies[r] - mu * (0..n_species).map(|s| counts[(r, s)]).sum::<f64>())
        .collect();
    let gram = counts.transpose() * counts.as_ref();
    let ct_r: Vec<f64> = (0..n_species)
        .map(|s| (0..n_frames).map(|r| counts[(r, s)] * residual[r]).sum())
        .collect();
    let eig = gram
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| TrainError::Statistics(format!("eigendecomposition of CᵀC failed: {e:?}")))?;
    let values = eig.S().column_vector();
    let vectors = eig.U();
    let largest = (0..n_species).map(|k| values[k]).fold(0.0f64, f64::max);
    let mut shift = vec![mu; n_species];
    let mut rank = 0;
    for k in 0..n_species {
        let lambda = values[k];
        if lambda <= RANK_TOLERANCE * largest {
            continue;
        }
        rank += 1;
        let projection: f64 = (0..n_species).map(|s| vectors[(s, k)] * ct_r[s]).sum();
        for (s, value) in shift.iter_mut().enumerate() {
            *value += vectors[(s, k)] * projection / lambda;
        }
    }
    Ok((shift, rank))
}

/// For each atom, the number of other atoms strictly closer than `r_max`.
fn neighbour_counts(positions: ndarray::ArrayView2<'_, f64>, r_max: f64) -> Vec<usize> {
    let n = positions.nrows();
    let r2 = r_max * r_max;
    let mut counts = vec![0usize; n];
    for i in 0..n {
        for j in (i + 1)..n {
            let d2: f64 = (0..3)
                .map(|k| (positions[(i, k)] - positions[(j, k)]).powi(2))
                .sum();
            if d2 < r2 {
                counts[i] += 1;
                counts[j] += 1;
            }
        }
    }
    counts
}
