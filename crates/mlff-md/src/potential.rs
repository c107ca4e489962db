//! The `Potential` trait: energy and forces of one frame, implemented by UFF, sGDML and any MLFF.

use rayon::prelude::*;

use crate::error::{MdError, Result};
use crate::vec3::Vec3;

/// A potential-energy surface: energy (kcal/mol) and forces (kcal/mol/Å) of one geometry (Å).
///
/// Implementations must return forces that are exactly minus the gradient of the energy,
/// otherwise NVE dynamics drifts.
pub trait Potential: Send + Sync {
    /// Number of atoms the potential was built for.
    fn n_atoms(&self) -> usize;

    /// Energy of `positions`; writes the forces (−∇E) into `forces` (overwriting it).
    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> Result<f64>;

    /// Energy only (the default allocates a force buffer and discards it).
    fn energy(&self, positions: &[Vec3]) -> Result<f64> {
        let mut forces = vec![[0.0; 3]; positions.len()];
        self.energy_forces(positions, &mut forces)
    }
}

/// Checks that `positions` and `forces` both have `n_atoms` entries and finite coordinates.
pub fn check_frame(n_atoms: usize, positions: &[Vec3], forces: &[Vec3]) -> Result<()> {
    if positions.len() != n_atoms {
        return Err(MdError::ShapeMismatch {
            what: "positions (atoms)".into(),
            expected: n_atoms,
            got: positions.len(),
        });
    }
    if forces.len() != n_atoms {
        return Err(MdError::ShapeMismatch {
            what: "forces buffer (atoms)".into(),
            expected: n_atoms,
            got: forces.len(),
        });
    }
    if let Some(atom) = positions
        .iter()
        .position(|p| p.iter().any(|x| !x.is_finite()))
    {
        return Err(MdError::NonFinite {
            what: "positions".into(),
            location: format!("atom {atom}"),
        });
    }
    Ok(())
}

/// Energies `(T)` and forces `(T, N, 3)` (row-major, flat) of many frames.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameEvaluations {
    /// Energy per frame, kcal/mol.
    pub energies: Vec<f64>,
    /// Forces, kcal/mol/Å, flat `(T, N, 3)` row-major.
    pub forces: Vec<f64>,
}

/// Evaluates `potential` on every frame of a flat `(T, N, 3)` position array, in parallel.
///
/// This is what `cargo xtask potential` needs: any npz `coords`/`R` array as a flat slice.
pub fn evaluate_frames(potential: &dyn Potential, positions: &[f64]) -> Result<FrameEvaluations> {
    let n = potential.n_atoms();
    let frame_len = 3 * n;
    if positions.is_empty() {
        return Err(MdError::Empty {
            what: "positions (no frames)".into(),
        });
    }
    if n == 0 || !positions.len().is_multiple_of(frame_len) {
        return Err(MdError::ShapeMismatch {
            what: format!("flat positions length (a multiple of 3·{n})"),
            expected: frame_len * positions.len().div_ceil(frame_len.max(1)),
            got: positions.len(),
        });
    }
    let per_frame: Vec<(f64, Vec<f64>)> = positions
        .par_chunks(frame_len)
        .enumerate()
        .map(|(t, flat)| {
            let frame: Vec<Vec3> = flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
            let mut forces = vec![[0.0; 3]; n];
            let energy = potential
                .energy_forces(&frame, &mut forces)
                .map_err(|e| match e {
                    MdError::NonFinite { what, location } => MdError::NonFinite {
                        what,
                        location: format!("frame {t}, {location}"),
                    },
                    other => other,
                })?;
            Ok((energy, forces.into_iter().flatten().collect()))
        })
        .collect::<Result<_>>()?;
    let mut out = FrameEvaluations {
        energies: Vec::with_capacity(per_frame.len()),
        forces: Vec::with_capacity(positions.len()),
    };
    for (energy, forces) in per_frame {
        out.energies.push(energy);
        out.forces.extend(forces);
    }
    Ok(out)
}
