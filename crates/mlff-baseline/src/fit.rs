//! Fitting: ridge-regularised linear least squares on energies and forces.
//!
//! Each frame contributes one energy row (weight `√w_E / N`, so the loss sees per-atom
//! energies) and `3N` force rows (weight `√(w_F / 3N)`). The normal equations `G c = h` are
//! accumulated frame by frame — memory is `O(P²)` for `P` coefficients, never `O(rows · P)` —
//! in fixed chunks merged in order, so the result does not depend on the thread count.
//! Energy shifts are first fitted alone (per-atom energies against element counts), so the
//! large constant part of total energies never meets the ridge.

use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use mlff_data::{Dataset, Units};
use rayon::prelude::*;

use crate::basis::RadialBasis;
use crate::error::{BaselineError, Result};
use crate::layout::ColumnLayout;
use crate::model::{PairConfig, PairModel, for_each_pair, frame_positions};

/// Frames per parallel task; fixed so the summation order is too.
const FRAMES_PER_TASK: usize = 16;

/// Relative ridge of the shift-only pre-fit: just enough to pick the minimum-norm solution
/// when the training compositions do not determine every element's shift.
const SHIFT_RIDGE: f64 = 1e-12;

/// Normal equations being accumulated, plus which pairs the data contained.
struct NormalEquations {
    n: usize,
    /// Upper triangle of `G` (row-major `n × n`; the lower part is filled at the end).
    g: Vec<f64>,
    h: Vec<f64>,
    observed: Vec<bool>,
    shortest: Vec<f64>,
}

impl NormalEquations {
    fn zeros(n: usize, n_pairs: usize) -> Self {
        Self {
            n,
            g: vec![0.0; n * n],
            h: vec![0.0; n],
            observed: vec![false; n_pairs],
            shortest: vec![f64::INFINITY; n_pairs],
        }
    }

    fn merge(mut self, other: Self) -> Self {
        self.g.iter_mut().zip(&other.g).for_each(|(a, b)| *a += b);
        self.h.iter_mut().zip(&other.h).for_each(|(a, b)| *a += b);
        for p in 0..self.observed.len() {
            self.observed[p] |= other.observed[p];
            self.shortest[p] = self.shortest[p].min(other.shortest[p]);
        }
        self
    }

    /// `G += w² a aᵀ`, `h += w² a y` for one row `a` with nonzero columns `nz`.
    fn add_row(&mut self, row: &[f64], nz: &[usize], target: f64, w2: f64) {
        for (x, &c1) in nz.iter().enumerate() {
            let a1 = w2 * row[c1];
            self.h[c1] += a1 * target;
            for &c2 in &nz[x..] {
                let (lo, hi) = if c1 <= c2 { (c1, c2) } else { (c2, c1) };
                self.g[lo * self.n + hi] += a1 * row[c2];
            }
        }
    }

    fn solve(mut self, relative_ridge: f64) -> Result<Vec<f64>> {
        let n = self.n;
        for i in 0..n {
            for j in 0..i {
                self.g[i * n + j] = self.g[j * n + i];
            }
        }
        let mean_diag = (0..n).map(|i| self.g[i * n + i]).sum::<f64>() / n as f64;
        let ridge = relative_ridge * mean_diag.max(f64::MIN_POSITIVE);
        let g = Mat::from_fn(n, n, |i, j| {
            self.g[i * n + j] + if i == j { ridge } else { 0.0 }
        });
        let mut rhs = Mat::from_fn(n, 1, |i, _| self.h[i]);
        let llt = g.llt(Side::Lower).map_err(|_| BaselineError::Singular {
            ridge: relative_ridge,
        })?;
        llt.solve_in_place(rhs.as_mut());
        let solution: Vec<f64> = (0..n).map(|i| rhs[(i, 0)]).collect();
        if solution.iter().any(|c| !c.is_finite()) {
            return Err(BaselineError::Singular {
                ridge: relative_ridge,
            });
        }
        Ok(solution)
    }
}

/// Per-thread scratch of one frame's design rows.
struct FrameScratch {
    positions: Vec<[f64; 3]>,
    rows: Vec<f64>,
    nonzero: Vec<usize>,
    phi: Vec<f64>,
    dphi: Vec<f64>,
}

/// The frames of one training dataset with their labels, in kcal/mol and Å.
struct TrainingSet<'a> {
    data: &'a Dataset,
    elements: Vec<Vec<usize>>,
}

fn labelled<'a>(data: &'a Dataset, layout: &ColumnLayout) -> Result<TrainingSet<'a>> {
    let name = || data.provenance().label().display().to_string();
    if data.energies().is_none() {
        return Err(BaselineError::MissingLabels {
            dataset: name(),
            what: "energies",
        });
    }
    if data.forces().is_none() {
        return Err(BaselineError::MissingLabels {
            dataset: name(),
            what: "forces",
        });
    }
    let elements = (0..data.len())
        .map(|t| layout.element_indices(&data.species().of_frame(t).to_vec()))
        .collect::<Result<_>>()?;
    Ok(TrainingSet { data, elements })
}

/// Fits the shifts alone: per-atom energy against per-atom element fractions.
fn fit_shifts(sets: &[TrainingSet<'_>], layout: &ColumnLayout) -> Result<Vec<f64>> {
    let s = layout.elements().len();
    let mut normal = NormalEquations::zeros(s, 0);
    let mut row = vec![0.0; s];
    let all: Vec<usize> = (0..s).collect();
    for set in sets {
        let energies = set.data.require_energies()?;
        for (t, elements) in set.elements.iter().enumerate() {
            row.fill(0.0);
            elements.iter().for_each(|&e| row[e] += 1.0);
            let w = 1.0 / elements.len() as f64;
            normal.add_row(&row, &all, energies[t], w * w);
        }
    }
    normal.solve(SHIFT_RIDGE)
}

/// Writes frame `t`'s design rows (energy, then forces) into `scratch.rows` and accumulates.
fn add_frame(
    normal: &mut NormalEquations,
    set: &TrainingSet<'_>,
    t: usize,
    model: (&ColumnLayout, &RadialBasis, &PairConfig, &[f64]),
    scratch: &mut FrameScratch,
) -> Result<()> {
    let (layout, basis, config, shifts) = model;
    let (p, nb) = (layout.n_columns(), basis.n_basis());
    let elements = &set.elements[t];
    let n = elements.len();
    frame_positions(set.data, t, &mut scratch.positions);
    scratch.rows.clear();
    scratch.rows.resize((1 + 3 * n) * p, 0.0);
    let FrameScratch {
        positions,
        rows,
        phi,
        dphi,
        nonzero,
    } = scratch;
    for &e in elements {
        rows[layout.shift_column(e)] += 1.0;
    }
    let (observed, shortest) = (&mut normal.observed, &mut normal.shortest);
    for_each_pair(
        layout,
        elements,
        positions,
        basis.r_cut(),
        |i, j, pair, r, d| {
            observed[pair] = true;
            shortest[pair] = shortest[pair].min(r);
            basis.eval(r, phi, dphi);
            for k in 0..nb {
                let c = pair * nb + k;
                rows[c] += phi[k];
                for a in 0..3 {
                    let f = -dphi[k] * d[a] / r;
                    rows[(1 + 3 * i + a) * p + c] += f;
                    rows[(1 + 3 * j + a) * p + c] -= f;
                }
            }
            Ok(())
        },
    )?;
    let energy = set.data.require_energies()?[t];
    let shift: f64 = elements.iter().map(|&e| shifts[e]).sum();
    let forces = set.data.require_forces()?;
    let w2_energy = config.energy_weight / (n * n) as f64;
    let w2_force = config.force_weight / (3 * n) as f64;
    for (r, row) in rows.chunks_exact(p).enumerate() {
        nonzero.clear();
        nonzero.extend((0..p).filter(|&c| row[c] != 0.0));
        let (target, w2) = match r {
            0 => (energy - shift, w2_energy),
            _ => (forces[[t, (r - 1) / 3, (r - 1) % 3]], w2_force),
        };
        normal.add_row(row, nonzero, target, w2);
    }
    Ok(())
}

/// Fits a pair model to the energies and forces of `training` (one or more datasets, e.g.
/// several molecules); each is converted to kcal/mol and Å first.
///
/// Cost: per frame, the pair basis (`N²/2` pairs) plus `(1 + 3N) · nnz²` multiply-adds for the
/// normal equations (`nnz` ≤ coefficients touched by one row), then one `P³/3` Cholesky.
pub fn fit(config: PairConfig, training: &[&Dataset]) -> Result<PairModel> {
    config.validate()?;
    let basis = config.basis()?;
    if training.iter().all(|d| d.is_empty()) {
        return Err(BaselineError::NoTrainingData);
    }
    let units = Units::KCAL_MOL_ANGSTROM;
    let converted: Vec<Dataset> = training.iter().map(|d| d.converted(units)).collect();
    let elements: Vec<u8> = converted
        .iter()
        .flat_map(|d| d.species().elements())
        .collect();
    let layout = ColumnLayout::new(elements, config.n_basis);
    let sets = converted
        .iter()
        .map(|d| labelled(d, &layout))
        .collect::<Result<Vec<_>>>()?;
    let shifts = fit_shifts(&sets, &layout)?;
    let normal = accumulate(&sets, &layout, &basis, &config, &shifts)?;
    let (observed, shortest) = (normal.observed.clone(), normal.shortest.clone());
    let mut coefficients = normal.solve(config.ridge)?;
    for (e, shift) in shifts.iter().enumerate() {
        coefficients[layout.shift_column(e)] += shift;
    }
    Ok(PairModel {
        config,
        layout,
        coefficients,
        observed_pairs: observed,
        shortest_distance: shortest,
        units,
    })
}

fn accumulate(
    sets: &[TrainingSet<'_>],
    layout: &ColumnLayout,
    basis: &RadialBasis,
    config: &PairConfig,
    shifts: &[f64],
) -> Result<NormalEquations> {
    let tasks: Vec<(usize, usize)> = sets
        .iter()
        .enumerate()
        .flat_map(|(s, set)| {
            (0..set.data.len())
                .step_by(FRAMES_PER_TASK)
                .map(move |t| (s, t))
        })
        .collect();
    let (p, n_pairs) = (layout.n_columns(), layout.n_pairs());
    let partials = tasks
        .par_iter()
        .map(|&(s, first)| {
            let set = &sets[s];
            let mut normal = NormalEquations::zeros(p, n_pairs);
            let mut scratch = FrameScratch {
                positions: Vec::new(),
                rows: Vec::new(),
                nonzero: Vec::with_capacity(p),
                phi: vec![0.0; basis.n_basis()],
                dphi: vec![0.0; basis.n_basis()],
            };
            for t in first..(first + FRAMES_PER_TASK).min(set.data.len()) {
                let model = (layout, basis, config, shifts);
                add_frame(&mut normal, set, t, model, &mut scratch)?;
            }
            Ok(normal)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(partials
        .into_iter()
        .fold(NormalEquations::zeros(p, n_pairs), NormalEquations::merge))
}
