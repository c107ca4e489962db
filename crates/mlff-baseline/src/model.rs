//! The fitted two-body model: `E = Σ_i e_{Z_i} + Σ_{i<j, r_ij<r_cut} Σ_k w_{Z_i Z_j, k} φ_k(r_ij)`,
//! with analytic forces `F = −∇E`.

use mlff_data::{Dataset, Units};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::basis::RadialBasis;
use crate::error::{BaselineError, Result};
use crate::layout::ColumnLayout;

/// Hyper-parameters of the pair model and its least-squares fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairConfig {
    /// Cutoff radius, Å.
    pub r_cut: f64,
    /// Bessel functions per element pair.
    pub n_basis: usize,
    /// Power `p` of the polynomial cutoff envelope.
    pub envelope_p: u32,
    /// Ridge strength relative to the mean diagonal of the normal matrix.
    pub ridge: f64,
    /// Weight of the squared per-atom energy error of a frame.
    pub energy_weight: f64,
    /// Weight of the mean squared force-component error of a frame.
    pub force_weight: f64,
}

impl Default for PairConfig {
    fn default() -> Self {
        Self {
            r_cut: 5.0,
            n_basis: 8,
            envelope_p: 6,
            ridge: 1e-8,
            energy_weight: 1.0,
            force_weight: 1.0,
        }
    }
}

impl PairConfig {
    /// The radial basis, validating `r_cut`, `n_basis` and `envelope_p`.
    pub fn basis(&self) -> Result<RadialBasis> {
        RadialBasis::new(self.n_basis, self.r_cut, self.envelope_p)
    }

    /// Checks every parameter.
    pub fn validate(&self) -> Result<()> {
        self.basis()?;
        let checks: [(&'static str, f64, &'static str); 3] = [
            ("ridge", self.ridge, "must be finite and > 0"),
            (
                "energy_weight",
                self.energy_weight,
                "must be finite and ≥ 0",
            ),
            ("force_weight", self.force_weight, "must be finite and ≥ 0"),
        ];
        for (what, value, reason) in checks {
            let ok = value.is_finite() && (value > 0.0 || (what != "ridge" && value == 0.0));
            if !ok {
                return Err(BaselineError::InvalidParameter {
                    what,
                    value: value.to_string(),
                    reason,
                });
            }
        }
        if self.energy_weight + self.force_weight <= 0.0 {
            return Err(BaselineError::InvalidParameter {
                what: "energy_weight + force_weight",
                value: "0".into(),
                reason: "at least one weight must be > 0",
            });
        }
        Ok(())
    }
}

/// A fitted pair potential (energies in the training data's unit, kcal/mol for MD17 files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairModel {
    pub(crate) config: PairConfig,
    pub(crate) layout: ColumnLayout,
    /// All coefficients in [`ColumnLayout`] order (pair weights, then shifts).
    pub(crate) coefficients: Vec<f64>,
    /// Whether each element pair occurred within the cutoff in the training data.
    pub(crate) observed_pairs: Vec<bool>,
    /// Shortest training distance of each pair (Å); `inf` if unobserved.
    pub(crate) shortest_distance: Vec<f64>,
    pub(crate) units: Units,
}

/// Calls `visit(i, j, pair, r, d)` for every atom pair within `r_cut`, where `d = x_i − x_j`.
pub(crate) fn for_each_pair(
    layout: &ColumnLayout,
    elements: &[usize],
    positions: &[[f64; 3]],
    r_cut: f64,
    mut visit: impl FnMut(usize, usize, usize, f64, [f64; 3]) -> Result<()>,
) -> Result<()> {
    let r_cut2 = r_cut * r_cut;
    for i in 0..positions.len() {
        for j in i + 1..positions.len() {
            let d = [
                positions[i][0] - positions[j][0],
                positions[i][1] - positions[j][1],
                positions[i][2] - positions[j][2],
            ];
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if !(r2 > 0.0 && r2.is_finite()) {
                return Err(BaselineError::DegenerateGeometry {
                    i,
                    j,
                    distance: r2.sqrt(),
                });
            }
            if r2 < r_cut2 {
                visit(i, j, layout.pair(elements[i], elements[j]), r2.sqrt(), d)?;
            }
        }
    }
    Ok(())
}

/// Positions of frame `t` of a dataset as `[x, y, z]` rows.
pub(crate) fn frame_positions(data: &Dataset, t: usize, out: &mut Vec<[f64; 3]>) {
    out.clear();
    let p = data.positions();
    out.extend((0..data.n_atoms()).map(|i| [p[[t, i, 0]], p[[t, i, 1]], p[[t, i, 2]]]));
}

/// Energies `(T)` and flat forces `(T, N, 3)` predicted for a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Energy per frame.
    pub energies: Vec<f64>,
    /// Forces, row-major `(T, N, 3)`.
    pub forces: Vec<f64>,
}

impl PairModel {
    /// The hyper-parameters it was fitted with.
    pub fn config(&self) -> &PairConfig {
        &self.config
    }

    /// The elements it knows (sorted atomic numbers).
    pub fn elements(&self) -> &[u8] {
        self.layout.elements()
    }

    /// Units of its energies and lengths (those of the training data).
    pub fn units(&self) -> Units {
        self.units
    }

    /// Per-element energy shifts `e_Z`, in [`Self::elements`] order.
    pub fn energy_shifts(&self) -> &[f64] {
        &self.coefficients[self.layout.n_pair_columns()..]
    }

    /// Number of fitted coefficients.
    pub fn n_parameters(&self) -> usize {
        self.coefficients.len()
    }

    /// Shortest training distance (Å) of the element pair `(a, b)`, if it was observed.
    pub fn shortest_training_distance(&self, a: u8, b: u8) -> Option<f64> {
        let ia = self.layout.elements().binary_search(&a).ok()?;
        let ib = self.layout.elements().binary_search(&b).ok()?;
        let p = self.layout.pair(ia, ib);
        self.observed_pairs[p].then_some(self.shortest_distance[p])
    }

    /// Element indices of `atomic_numbers`, checked against the trained elements.
    pub(crate) fn element_indices(&self, atomic_numbers: &[u8]) -> Result<Vec<usize>> {
        self.layout.element_indices(atomic_numbers)
    }

    /// Energy of one geometry (element indices from [`Self::element_indices`]); writes forces.
    ///
    /// Cost: per pair within the cutoff, one sin/cos and ~10 flops per basis function.
    pub(crate) fn evaluate(
        &self,
        elements: &[usize],
        positions: &[[f64; 3]],
        forces: &mut [[f64; 3]],
    ) -> Result<f64> {
        let nb = self.config.n_basis;
        let basis = self.config.basis()?;
        let (mut phi, mut dphi) = (vec![0.0; nb], vec![0.0; nb]);
        forces.iter_mut().for_each(|f| *f = [0.0; 3]);
        let mut energy: f64 = elements
            .iter()
            .map(|&e| self.coefficients[self.layout.shift_column(e)])
            .sum();
        let layout = &self.layout;
        for_each_pair(
            layout,
            elements,
            positions,
            basis.r_cut(),
            |i, j, p, r, d| {
                if !self.observed_pairs[p] {
                    let (a, b) = layout.pair_elements(p);
                    return Err(BaselineError::UnseenPair { a, b, i, j });
                }
                basis.eval(r, &mut phi, &mut dphi);
                let w = &self.coefficients[p * nb..(p + 1) * nb];
                let (mut e, mut de) = (0.0, 0.0);
                for k in 0..nb {
                    e += w[k] * phi[k];
                    de += w[k] * dphi[k];
                }
                energy += e;
                for a in 0..3 {
                    let f = -de * d[a] / r;
                    forces[i][a] += f;
                    forces[j][a] -= f;
                }
                Ok(())
            },
        )?;
        Ok(energy)
    }

    /// Energy and forces of one geometry of atoms `atomic_numbers` at `positions` (Å).
    pub fn energy_forces(
        &self,
        atomic_numbers: &[u8],
        positions: &[[f64; 3]],
        forces: &mut [[f64; 3]],
    ) -> Result<f64> {
        for (what, len) in [("positions", positions.len()), ("forces", forces.len())] {
            if len != atomic_numbers.len() {
                return Err(BaselineError::ShapeMismatch {
                    what,
                    expected: atomic_numbers.len(),
                    got: len,
                });
            }
        }
        let elements = self.element_indices(atomic_numbers)?;
        self.evaluate(&elements, positions, forces)
    }

    /// Energies and forces of every frame of `data` (converted to the model's units first),
    /// in parallel over frames.
    pub fn predict(&self, data: &Dataset) -> Result<Prediction> {
        let converted;
        let data = if data.units() == self.units {
            data
        } else {
            converted = data.converted(self.units);
            &converted
        };
        let n = data.n_atoms();
        let per_frame: Vec<(f64, Vec<[f64; 3]>)> = (0..data.len())
            .into_par_iter()
            .map(|t| {
                let elements = self.element_indices(&data.species().of_frame(t).to_vec())?;
                let mut positions = Vec::with_capacity(n);
                frame_positions(data, t, &mut positions);
                let mut forces = vec![[0.0; 3]; n];
                let e = self.evaluate(&elements, &positions, &mut forces)?;
                Ok((e, forces))
            })
            .collect::<Result<_>>()?;
        let energies = per_frame.iter().map(|(e, _)| *e).collect();
        let forces = per_frame
            .iter()
            .flat_map(|(_, f)| f.iter().flatten().copied())
            .collect();
        Ok(Prediction { energies, forces })
    }
}
