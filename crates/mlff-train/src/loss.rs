//! The energy/force loss with nequip's `loss_coeffs` names, the error sums every objective
//! reports ([`LossParts`]), and the loss's derivatives with respect to the predictions, so that
//! every model defines the loss identically and only back-propagates.
//!
//! Loss of a batch of `B` frames with `A` atoms in all (nequip's `MSELoss` reduces by the mean):
//! `L = c_E · (1/B) Σ_f ℓ(e_f) + c_F · (1/(3A)) Σ ℓ(ΔF)`, where `e_f` is the energy error of frame
//! `f` (divided by its atom count for the `PerAtom…` kinds) and `ℓ` is the square (`MSELoss`) or
//! the absolute value (`L1Loss`).

use crate::error::{Result, TrainError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A labelled quantity the loss can compare (nequip's field names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossField {
    /// The total energy of a frame.
    TotalEnergy,
    /// The force components of every atom.
    Forces,
}

/// How a field's errors are reduced (nequip's loss names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LossKind {
    /// Mean squared error.
    #[serde(rename = "MSELoss")]
    Mse,
    /// Mean squared error of the energy divided by the number of atoms.
    #[serde(rename = "PerAtomMSELoss")]
    PerAtomMse,
    /// Mean absolute error.
    #[serde(rename = "L1Loss")]
    L1,
    /// Mean absolute error of the energy divided by the number of atoms.
    #[serde(rename = "PerAtomL1Loss")]
    PerAtomL1,
}

/// One entry of `loss_coeffs`: a bare coefficient (`forces: 1000`, meaning `MSELoss`) or a
/// coefficient with a loss name (`total_energy: [1, PerAtomMSELoss]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LossTermSpec {
    /// A coefficient with the default `MSELoss`.
    Coeff(f64),
    /// A coefficient and a loss kind.
    WithKind(f64, LossKind),
}

impl LossTermSpec {
    fn coeff_and_kind(self) -> (f64, LossKind) {
        match self {
            LossTermSpec::Coeff(c) => (c, LossKind::Mse),
            LossTermSpec::WithKind(c, k) => (c, k),
        }
    }
}

/// nequip's `loss_coeffs` mapping, e.g. `{forces: 1000, total_energy: [1, PerAtomMSELoss]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LossCoeffs(pub BTreeMap<LossField, LossTermSpec>);

impl Default for LossCoeffs {
    /// Per-atom energy MSE and force MSE weighted 1 : 1 (the accuracy anchor of design notes §11).
    fn default() -> Self {
        LossCoeffs(BTreeMap::from([
            (LossField::Forces, LossTermSpec::Coeff(1.0)),
            (
                LossField::TotalEnergy,
                LossTermSpec::WithKind(1.0, LossKind::PerAtomMse),
            ),
        ]))
    }
}

/// The energy term of a [`LossFunction`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnergyTerm {
    /// Weight `c_E`.
    pub coeff: f64,
    /// Divide each frame's energy error by its atom count first.
    pub per_atom: bool,
    /// Square (`true`) or absolute value (`false`) of the error.
    pub squared: bool,
}

/// The force term of a [`LossFunction`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForceTerm {
    /// Weight `c_F`.
    pub coeff: f64,
    /// Square (`true`) or absolute value (`false`) of each component's error.
    pub squared: bool,
}

/// The batch a frame belongs to: the loss's means divide by these counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchShape {
    /// Frames in the batch (`B`).
    pub n_frames: usize,
    /// Atoms in all frames of the batch together (`A`; force components are `3A`).
    pub n_atoms: usize,
}

/// The validated loss built from [`LossCoeffs`]; objectives receive it to weight their gradient.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossFunction {
    /// The energy term, if weighted.
    pub energy: Option<EnergyTerm>,
    /// The force term, if weighted.
    pub forces: Option<ForceTerm>,
}

impl LossFunction {
    /// Validates `coeffs` (finite non-negative coefficients, at least one positive, no per-atom
    /// kind on forces) and builds the loss. Zero coefficients drop their term.
    pub fn new(coeffs: &LossCoeffs) -> Result<Self> {
        let mut loss = LossFunction {
            energy: None,
            forces: None,
        };
        for (&field, &spec) in &coeffs.0 {
            let (coeff, kind) = spec.coeff_and_kind();
            let name = match field {
                LossField::TotalEnergy => "loss_coeffs.total_energy",
                LossField::Forces => "loss_coeffs.forces",
            };
            if !coeff.is_finite() || coeff < 0.0 {
                return Err(TrainError::config(
                    name,
                    format!("coefficient {coeff} must be finite and non-negative"),
                ));
            }
            if coeff == 0.0 {
                continue;
            }
            let squared = matches!(kind, LossKind::Mse | LossKind::PerAtomMse);
            let per_atom = matches!(kind, LossKind::PerAtomMse | LossKind::PerAtomL1);
            match field {
                LossField::TotalEnergy => {
                    loss.energy = Some(EnergyTerm {
                        coeff,
                        per_atom,
                        squared,
                    })
                }
                LossField::Forces if per_atom => {
                    return Err(TrainError::config(
                        name,
                        format!(
                            "{kind:?} divides by the atom count, which only makes sense for total_energy"
                        ),
                    ));
                }
                LossField::Forces => loss.forces = Some(ForceTerm { coeff, squared }),
            }
        }
        if loss.energy.is_none() && loss.forces.is_none() {
            return Err(TrainError::config(
                "loss_coeffs",
                "no term has a positive coefficient",
            ));
        }
        Ok(loss)
    }

    /// The loss of the errors summed in `parts` (terms with no data contribute nothing).
    pub fn value(&self, parts: &LossParts) -> f64 {
        let mut total = 0.0;
        if let Some(e) = self.energy
            && parts.n_frames > 0
        {
            let sum = match (e.per_atom, e.squared) {
                (true, true) => parts.energy_per_atom_sq_sum,
                (true, false) => parts.energy_per_atom_abs_sum,
                (false, true) => parts.energy_sq_sum,
                (false, false) => parts.energy_abs_sum,
            };
            total += e.coeff * sum / parts.n_frames as f64;
        }
        if let Some(f) = self.forces
            && parts.n_force_components > 0
        {
            let sum = if f.squared {
                parts.force_sq_sum
            } else {
                parts.force_abs_sum
            };
            total += f.coeff * sum / parts.n_force_components as f64;
        }
        total
    }

    /// `∂L/∂E_pred` for one frame of `n_atoms` atoms in `batch` (0 without an energy term).
    pub fn energy_derivative(
        &self,
        batch: BatchShape,
        predicted: f64,
        reference: f64,
        n_atoms: usize,
    ) -> f64 {
        let Some(e) = self.energy else { return 0.0 };
        let scale = if e.per_atom {
            1.0 / n_atoms as f64
        } else {
            1.0
        };
        let err = (predicted - reference) * scale;
        let d_err = if e.squared { 2.0 * err } else { sign(err) };
        e.coeff * d_err * scale / batch.n_frames as f64
    }

    /// Writes `∂L/∂F_pred` for one frame's force components into `out` (zeros without a force
    /// term). `predicted`, `reference` and `out` have the same length (3 × atoms).
    pub fn force_derivatives(
        &self,
        batch: BatchShape,
        predicted: &[f64],
        reference: &[f64],
        out: &mut [f64],
    ) {
        let Some(f) = self.forces else {
            out.fill(0.0);
            return;
        };
        let w = f.coeff / (3 * batch.n_atoms) as f64;
        for ((o, &p), &r) in out.iter_mut().zip(predicted).zip(reference) {
            let err = p - r;
            *o = w * if f.squared { 2.0 * err } else { sign(err) };
        }
    }
}

/// torch's `sign` (0 at 0): the subgradient torch's L1 loss back-propagates.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Error sums and counts over a set of frames; merging two is exact, and every metric and the
/// loss follow from them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LossParts {
    /// Frames with an energy error added.
    pub n_frames: usize,
    /// Force components added (3 × atoms).
    pub n_force_components: usize,
    /// Σ (ΔE)².
    pub energy_sq_sum: f64,
    /// Σ |ΔE|.
    pub energy_abs_sum: f64,
    /// Σ (ΔE / N)².
    pub energy_per_atom_sq_sum: f64,
    /// Σ |ΔE / N|.
    pub energy_per_atom_abs_sum: f64,
    /// Σ (ΔF)² over components.
    pub force_sq_sum: f64,
    /// Σ |ΔF| over components.
    pub force_abs_sum: f64,
}

impl LossParts {
    /// Adds one frame's energy error (with `n_atoms` atoms) and force errors (`predicted` and
    /// `reference` of equal length; empty slices for energy-only data).
    pub fn add_frame(
        &mut self,
        predicted_energy: f64,
        reference_energy: f64,
        n_atoms: usize,
        predicted_forces: &[f64],
        reference_forces: &[f64],
    ) {
        let de = predicted_energy - reference_energy;
        let de_atom = de / n_atoms as f64;
        self.n_frames += 1;
        self.energy_sq_sum += de * de;
        self.energy_abs_sum += de.abs();
        self.energy_per_atom_sq_sum += de_atom * de_atom;
        self.energy_per_atom_abs_sum += de_atom.abs();
        self.add_forces(predicted_forces, reference_forces);
    }

    /// Adds force errors only (for data without energies).
    pub fn add_forces(&mut self, predicted: &[f64], reference: &[f64]) {
        for (&p, &r) in predicted.iter().zip(reference) {
            let d = p - r;
            self.force_sq_sum += d * d;
            self.force_abs_sum += d.abs();
        }
        self.n_force_components += predicted.len().min(reference.len());
    }

    /// Adds another set's sums and counts to these.
    pub fn merge(&mut self, other: &LossParts) {
        self.n_frames += other.n_frames;
        self.n_force_components += other.n_force_components;
        self.energy_sq_sum += other.energy_sq_sum;
        self.energy_abs_sum += other.energy_abs_sum;
        self.energy_per_atom_sq_sum += other.energy_per_atom_sq_sum;
        self.energy_per_atom_abs_sum += other.energy_per_atom_abs_sum;
        self.force_sq_sum += other.force_sq_sum;
        self.force_abs_sum += other.force_abs_sum;
    }

    /// The error metrics these sums define.
    pub fn metrics(&self) -> ErrorMetrics {
        let mean = |sum: f64, n: usize| (n > 0).then(|| sum / n as f64);
        ErrorMetrics {
            energy_per_atom_mae: mean(self.energy_per_atom_abs_sum, self.n_frames),
            energy_per_atom_rmse: mean(self.energy_per_atom_sq_sum, self.n_frames).map(f64::sqrt),
            energy_mae: mean(self.energy_abs_sum, self.n_frames),
            force_mae: mean(self.force_abs_sum, self.n_force_components),
            force_rmse: mean(self.force_sq_sum, self.n_force_components).map(f64::sqrt),
        }
    }

    /// True if every sum is finite.
    pub fn is_finite(&self) -> bool {
        [
            self.energy_sq_sum,
            self.energy_abs_sum,
            self.energy_per_atom_sq_sum,
            self.energy_per_atom_abs_sum,
            self.force_sq_sum,
            self.force_abs_sum,
        ]
        .iter()
        .all(|v| v.is_finite())
    }
}

/// MAE/RMSE metrics in the data's units (`None` where no data of that kind was added).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorMetrics {
    /// Mean |ΔE / N|.
    pub energy_per_atom_mae: Option<f64>,
    /// √mean (ΔE / N)².
    pub energy_per_atom_rmse: Option<f64>,
    /// Mean |ΔE| of total energies.
    pub energy_mae: Option<f64>,
    /// Mean |ΔF| over components.
    pub force_mae: Option<f64>,
    /// √mean (ΔF)² over components.
    pub force_rmse: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<LossFunction> {
        let coeffs: LossCoeffs = serde_yaml::from_str(yaml).unwrap();
        LossFunction::new(&coeffs)
    }

    #[test]
    fn nequip_style_coefficients_parse() {
        let loss = parse("forces: 1000\ntotal_energy: [1, PerAtomMSELoss]\n").unwrap();
        assert_eq!(
            loss.forces,
            Some(ForceTerm {
                coeff: 1000.0,
                squared: true
            })
        );
        assert_eq!(
            loss.energy,
            Some(EnergyTerm {
                coeff: 1.0,
                per_atom: true,
                squared: true
            })
        );
        let l1 = parse("forces: [2, L1Loss]\n").unwrap();
        assert_eq!(l1.energy, None);
        assert!(!l1.forces.unwrap().squared);
    }

    #[test]
    fn bad_coefficients_are_rejected_with_the_key() {
        let e = parse("forces: -1\n").unwrap_err().to_string();
        assert!(e.contains("loss_coeffs.forces"), "{e}");
        let e = parse("forces: [1, PerAtomMSELoss]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("total_energy"), "{e}");
        assert!(parse("forces: 0\n").is_err());
        assert!(serde_yaml::from_str::<LossCoeffs>("stress: 1\n").is_err());
        assert!(serde_yaml::from_str::<LossCoeffs>("forces: [1, HuberLoss]\n").is_err());
    }

    /// The derivatives agree with central differences of `value` on a two-frame batch.
    #[test]
    fn derivatives_match_finite_differences() {
        let loss = parse("forces: 3\ntotal_energy: [0.5, PerAtomMSELoss]\n").unwrap();
        let natoms = [2usize, 3];
        let ref_e = [1.0, -2.0];
        let ref_f: Vec<Vec<f64>> = vec![
            (0..6).map(|i| 0.1 * i as f64).collect(),
            (0..9).map(|i| -0.05 * i as f64).collect(),
        ];
        let mut pred_e = [1.3, -2.4];
        let mut pred_f: Vec<Vec<f64>> = ref_f
            .iter()
            .map(|f| f.iter().map(|x| x * 1.7 + 0.2).collect())
            .collect();
        let batch = BatchShape {
            n_frames: 2,
            n_atoms: 5,
        };
        let total = |pe: &[f64; 2], pf: &[Vec<f64>]| {
            let mut p = LossParts::default();
            for k in 0..2 {
                p.add_frame(pe[k], ref_e[k], natoms[k], &pf[k], &ref_f[k]);
            }
            loss.value(&p)
        };
        let h = 1e-6;
        for k in 0..2 {
            let d = loss.energy_derivative(batch, pred_e[k], ref_e[k], natoms[k]);
            pred_e[k] += h;
            let up = total(&pred_e, &pred_f);
            pred_e[k] -= 2.0 * h;
            let down = total(&pred_e, &pred_f);
            pred_e[k] += h;
            let fd = (up - down) / (2.0 * h);
            assert!((d - fd).abs() <= 1e-6 * fd.abs(), "{d} vs {fd}");
            let mut df = vec![0.0; pred_f[k].len()];
            loss.force_derivatives(batch, &pred_f[k], &ref_f[k], &mut df);
            for c in 0..df.len() {
                pred_f[k][c] += h;
                let up = total(&pred_e, &pred_f);
                pred_f[k][c] -= 2.0 * h;
                let down = total(&pred_e, &pred_f);
                pred_f[k][c] += h;
                let fd = (up - down) / (2.0 * h);
                assert!((df[c] - fd).abs() <= 1e-6 * fd.abs(), "{} vs {fd}", df[c]);
            }
        }
    }

    #[test]
    fn metrics_follow_from_sums_and_merge_exactly() {
        let mut a = LossParts::default();
        a.add_frame(2.0, 1.0, 2, &[1.0, 0.0, 0.0], &[0.0, 0.0, 2.0]);
        let mut b = LossParts::default();
        b.add_frame(0.0, 4.0, 4, &[], &[]);
        a.merge(&b);
        let m = a.metrics();
        assert_eq!(m.energy_per_atom_mae, Some((0.5 + 1.0) / 2.0));
        assert_eq!(m.energy_mae, Some(2.5));
        assert_eq!(m.force_mae, Some(1.0));
        assert_eq!(m.force_rmse, Some((5.0f64 / 3.0).sqrt()));
        assert!(LossParts::default().metrics().force_mae.is_none());
    }
}
