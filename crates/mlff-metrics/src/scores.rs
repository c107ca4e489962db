//! Energy and force errors of predictions against reference labels.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::inputs::{AtomicNumbers, CheckedPair, Labels, check_pair};
use crate::units::EnergyUnit;

/// Frames per parallel work item; fixed so that sums are reduced in the same order on any
/// number of threads (results are bit-for-bit reproducible).
const FRAMES_PER_CHUNK: usize = 256;
/// Atomic numbers 0..=118 index the per-element sums directly.
const ELEMENTS: usize = 119;

/// Energy errors over all frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyErrors {
    /// Mean |E_pred − E_ref| (total energy).
    pub mae: f64,
    /// Root mean square of E_pred − E_ref.
    pub rmse: f64,
    /// Mean |E_pred − E_ref| / N.
    pub per_atom_mae: f64,
    /// Root mean square of (E_pred − E_ref) / N.
    pub per_atom_rmse: f64,
    /// Mean (E_pred − E_ref) / N (systematic offset).
    pub per_atom_mean_error: f64,
}

/// Force errors over all atoms of all frames.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceErrors {
    /// Mean absolute error over Cartesian components.
    pub component_mae: f64,
    /// Root mean square error over Cartesian components.
    pub component_rmse: f64,
    /// Mean Euclidean norm of the error vector, |F_pred − F_ref|, per atom.
    pub vector_error_mean: f64,
    /// Mean | |F_pred| − |F_ref| | per atom (error of the force magnitude).
    pub magnitude_mae: f64,
    /// Mean cosine similarity of F_pred and F_ref per atom; `None` if no atom has two non-zero
    /// force vectors.
    pub cosine_similarity: Option<f64>,
    /// Atoms (over all frames) included in the cosine mean: those with both vectors non-zero.
    pub cosine_atoms: usize,
}

/// Force errors on the atoms of one element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementErrors {
    /// Atomic number.
    pub atomic_number: u8,
    /// Atoms of this element over all frames.
    pub atoms: usize,
    /// Component MAE on these atoms.
    pub component_mae: f64,
    /// Component RMSE on these atoms.
    pub component_rmse: f64,
    /// Mean |F_pred − F_ref| on these atoms.
    pub vector_error_mean: f64,
}

/// Errors of one frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameErrors {
    /// E_pred − E_ref (signed, total).
    pub energy_error: f64,
    /// (E_pred − E_ref) / N.
    pub energy_error_per_atom: f64,
    /// Force component MAE in this frame.
    pub force_component_mae: f64,
    /// Force component RMSE in this frame.
    pub force_component_rmse: f64,
}

/// All error metrics of a set of predictions, in one energy unit (forces: that unit per Å).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Unit of every energy (and, per Å, force) value below.
    pub unit: EnergyUnit,
    /// Frames scored.
    pub n_frames: usize,
    /// Atoms per frame.
    pub n_atoms: usize,
    /// Energy errors.
    pub energy: EnergyErrors,
    /// Force errors.
    pub forces: ForceErrors,
    /// Force errors per element, by increasing atomic number.
    pub per_element: Vec<ElementErrors>,
    /// Errors per frame, in input order.
    pub per_frame: Vec<FrameErrors>,
}

/// Scores `predicted` against `reference` (both in `unit`).
///
/// Cost: about 30 floating-point operations per atom, parallel over frames.
pub fn score(
    predicted: &Labels<'_>,
    reference: &Labels<'_>,
    species: &AtomicNumbers<'_>,
    unit: EnergyUnit,
) -> Result<Scores> {
    let pair = check_pair(predicted, reference, species)?;
    let mut per_frame = vec![
        FrameErrors {
            energy_error: 0.0,
            energy_error_per_atom: 0.0,
            force_component_mae: 0.0,
            force_component_rmse: 0.0,
        };
        pair.n_frames
    ];
    let chunk_sums: Vec<Sums> = per_frame
        .par_chunks_mut(FRAMES_PER_CHUNK)
        .enumerate()
        .map(|(chunk, frames)| accumulate(&pair, chunk * FRAMES_PER_CHUNK, frames))
        .collect();
    let total = chunk_sums.into_iter().fold(Sums::new(), Sums::merge);
    Ok(total.into_scores(unit, pair.n_frames, pair.n_atoms, per_frame))
}

#[derive(Clone, Copy, Default)]
struct ElementSums {
    atoms: usize,
    abs: f64,
    squared: f64,
    vector: f64,
}

struct Sums {
    abs_energy: f64,
    squared_energy: f64,
    abs_energy_atom: f64,
    squared_energy_atom: f64,
    signed_energy_atom: f64,
    abs_force: f64,
    squared_force: f64,
    vector_force: f64,
    magnitude_force: f64,
    cosine: f64,
    cosine_atoms: usize,
    elements: Vec<ElementSums>,
}

/// Sums over frames `first..first + frames.len()`, filling their per-frame errors.
fn accumulate(pair: &CheckedPair<'_>, first: usize, frames: &mut [FrameErrors]) -> Sums {
    let n = pair.n_atoms;
    let predicted = pair.predicted_forces.as_slice().expect("standard layout");
    let reference = pair.reference_forces.as_slice().expect("standard layout");
    let mut sums = Sums::new();
    for (offset, out) in frames.iter_mut().enumerate() {
        let frame = first + offset;
        let de = pair.predicted_energies[frame] - pair.reference_energies[frame];
        let de_atom = de / n as f64;
        sums.abs_energy += de.abs();
        sums.squared_energy += de * de;
        sums.abs_energy_atom += de_atom.abs();
        sums.squared_energy_atom += de_atom * de_atom;
        sums.signed_energy_atom += de_atom;
        let (mut frame_abs, mut frame_squared) = (0.0, 0.0);
        let range = frame * n * 3..(frame + 1) * n * 3;
        let atoms = predicted[range.clone()]
            .chunks_exact(3)
            .zip(reference[range].chunks_exact(3));
        for ((p, r), &z) in atoms.zip(pair.species_of(frame)) {
            let d = [p[0] - r[0], p[1] - r[1], p[2] - r[2]];
            let abs = d[0].abs() + d[1].abs() + d[2].abs();
            let squared = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let vector = squared.sqrt();
            let norm_p = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
            let norm_r = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
            frame_abs += abs;
            frame_squared += squared;
            sums.vector_force += vector;
            sums.magnitude_force += (norm_p - norm_r).abs();
            if norm_p > 0.0 && norm_r > 0.0 {
                sums.cosine += (p[0] * r[0] + p[1] * r[1] + p[2] * r[2]) / (norm_p * norm_r);
                sums.cosine_atoms += 1;
            }
            let element = &mut sums.elements[usize::from(z)];
            element.atoms += 1;
            element.abs += abs;
            element.squared += squared;
            element.vector += vector;
        }
        sums.abs_force += frame_abs;
        sums.squared_force += frame_squared;
        let components = (3 * n) as f64;
        *out = FrameErrors {
            energy_error: de,
            energy_error_per_atom: de_atom,
            force_component_mae: frame_abs / components,
            force_component_rmse: (frame_squared / components).sqrt(),
        };
    }
    sums
}

impl Sums {
    fn new() -> Self {
        Self {
            abs_energy: 0.0,
            squared_energy: 0.0,
            abs_energy_atom: 0.0,
            squared_energy_atom: 0.0,
            signed_energy_atom: 0.0,
            abs_force: 0.0,
            squared_force: 0.0,
            vector_force: 0.0,
            magnitude_force: 0.0,
            cosine: 0.0,
            cosine_atoms: 0,
            elements: vec![ElementSums::default(); ELEMENTS],
        }
    }

    fn merge(mut self, other: Sums) -> Sums {
        self.abs_energy += other.abs_energy;
        self.squared_energy += other.squared_energy;
        self.abs_energy_atom += other.abs_energy_atom;
        self.squared_energy_atom += other.squared_energy_atom;
        self.signed_energy_atom += other.signed_energy_atom;
        self.abs_force += other.abs_force;
        self.squared_force += other.squared_force;
        self.vector_force += other.vector_force;
        self.magnitude_force += other.magnitude_force;
        self.cosine += other.cosine;
        self.cosine_atoms += other.cosine_atoms;
        for (mine, theirs) in self.elements.iter_mut().zip(&other.elements) {
            mine.atoms += theirs.atoms;
            mine.abs += theirs.abs;
            mine.squared += theirs.squared;
            mine.vector += theirs.vector;
        }
        self
    }

    fn into_scores(
        self,
        unit: EnergyUnit,
        n_frames: usize,
        n_atoms: usize,
        per_frame: Vec<FrameErrors>,
    ) -> Scores {
        let frames = n_frames as f64;
        let atoms = (n_frames * n_atoms) as f64;
        let per_element = self
            .elements
            .iter()
            .enumerate()
            .filter(|(_, e)| e.atoms > 0)
            .map(|(z, e)| ElementErrors {
                atomic_number: z as u8,
                atoms: e.atoms,
                component_mae: e.abs / (3 * e.atoms) as f64,
                component_rmse: (e.squared / (3 * e.atoms) as f64).sqrt(),
                vector_error_mean: e.vector / e.atoms as f64,
            })
            .collect();
        Scores {
            unit,
            n_frames,
            n_atoms,
            energy: EnergyErrors {
                mae: self.abs_energy / frames,
                rmse: (self.squared_energy / frames).sqrt(),
                per_atom_mae: self.abs_energy_atom / frames,
                per_atom_rmse: (self.squared_energy_atom / frames).sqrt(),
                per_atom_mean_error: self.signed_energy_atom / frames,
            },
            forces: ForceErrors {
                component_mae: self.abs_force / (3.0 * atoms),
                component_rmse: (self.squared_force / (3.0 * atoms)).sqrt(),
                vector_error_mean: self.vector_force / atoms,
                magnitude_mae: self.magnitude_force / atoms,
                cosine_similarity: (self.cosine_atoms > 0)
                    .then(|| self.cosine / self.cosine_atoms as f64),
                cosine_atoms: self.cosine_atoms,
            },
            per_element,
            per_frame,
        }
    }
}

impl Scores {
    /// The same scores expressed in `target` units (cosine similarities are unit-free).
    pub fn in_unit(&self, target: EnergyUnit) -> Scores {
        let k = self.unit.factor_to(target);
        let mut out = self.clone();
        out.unit = target;
        let e = &mut out.energy;
        for v in [
            &mut e.mae,
            &mut e.rmse,
            &mut e.per_atom_mae,
            &mut e.per_atom_rmse,
            &mut e.per_atom_mean_error,
        ] {
            *v *= k;
        }
        let f = &mut out.forces;
        for v in [
            &mut f.component_mae,
            &mut f.component_rmse,
            &mut f.vector_error_mean,
            &mut f.magnitude_mae,
        ] {
            *v *= k;
        }
        for el in &mut out.per_element {
            for v in [
                &mut el.component_mae,
                &mut el.component_rmse,
                &mut el.vector_error_mean,
            ] {
                *v *= k;
            }
        }
        for fr in &mut out.per_frame {
            for v in [
                &mut fr.energy_error,
                &mut fr.energy_error_per_atom,
                &mut fr.force_component_mae,
                &mut fr.force_component_rmse,
            ] {
                *v *= k;
            }
        }
        out
    }

    /// Force errors of one element, if present.
    pub fn element(&self, atomic_number: u8) -> Option<&ElementErrors> {
        self.per_element
            .iter()
            .find(|e| e.atomic_number == atomic_number)
    }
}
