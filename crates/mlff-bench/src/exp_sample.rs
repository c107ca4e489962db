//! Experiment 1 — sample efficiency: error against training-set size, on an i.i.d. test set
//! and on the time-holdout segment side by side, with fitted log–log slopes.

use anyhow::Result;
use mlff_data::Dataset;
use mlff_metrics::{DEFAULT_LEVEL, Estimate, fit_power_law, power_law_slope_bootstrap};

use crate::cell_splits::{self, CellSplits, IID, TIME_HOLDOUT};
use crate::grid::CellSpec;
use crate::plots::{BarredSeries, Series, line_chart};
use crate::preset::Plan;
use crate::report::{Section, Table};
use crate::stats::{self, Effect, Replicate, replicate};
use crate::store::CellResult;

/// The cells: molecule × size × seed.
pub fn cells(plan: &Plan) -> Vec<CellSpec> {
    let mut cells = Vec::new();
    for molecule in &plan.sample.molecules {
        for &size in &plan.sample.sizes {
            for &seed in &plan.seeds {
                cells.push(CellSpec::Sample {
                    molecule: molecule.clone(),
                    size,
                    seed,
                });
            }
        }
    }
    cells
}

/// Frames the largest cell of a molecule with `frames` frames may use, or why it cannot.
pub fn check_size(plan: &Plan, size: usize, frames: usize) -> std::result::Result<(), String> {
    let pool = cell_splits::pool_size(frames, plan);
    let needed = size + plan.validation_frames(size) + plan.sample.iid_test;
    if needed > pool {
        return Err(format!(
            "training size {size} needs {needed} frames (with {} validation and {} i.i.d. test \
             frames) before the time-holdout segment, but only {pool} of {frames} are there",
            plan.validation_frames(size),
            plan.sample.iid_test
        ));
    }
    Ok(())
}

/// The frames of a cell.
pub fn splits(
    molecule: &str,
    size: usize,
    seed: u64,
    data: &Dataset,
    plan: &Plan,
) -> Result<CellSplits> {
    cell_splits::iid_with_holdout(molecule, data, plan, size, plan.sample.iid_test, seed)
}

pub use crate::stats::mean;

/// The sizes of `molecule`'s cells, ascending.
fn sizes_of(results: &[&CellResult], molecule: &str) -> Vec<usize> {
    let mut sizes: Vec<usize> = results
        .iter()
        .filter_map(|r| match &r.spec {
            CellSpec::Sample {
                molecule: m, size, ..
            } if m == molecule => Some(*size),
            _ => None,
        })
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The cells of `molecule` at training size `n` (one per seed).
fn cells_at<'a>(results: &[&'a CellResult], molecule: &str, n: usize) -> Vec<&'a CellResult> {
    results
        .iter()
        .copied()
        .filter(|r| {
            matches!(&r.spec, CellSpec::Sample { molecule: m, size, .. } if m == molecule && *size == n)
        })
        .collect()
}

/// Both tests of one cell: (i.i.d., time holdout).
type Pair<'a> = (Replicate<'a>, Replicate<'a>);

/// The cells of `molecule` at size `n` that have both tests.
fn pairs<'a>(results: &[&'a CellResult], molecule: &str, n: usize) -> Vec<Pair<'a>> {
    cells_at(results, molecule, n)
        .into_iter()
        .filter_map(|r| {
            Some((
                replicate(r, IID, molecule)?,
                replicate(r, TIME_HOLDOUT, molecule)?,
            ))
        })
        .collect()
}

/// A learning curve of one molecule and test kind: every (size, seed) cell and, per size, the
/// mean over seeds with its interval.
struct Curve {
    /// (size, force MAE) of every cell.
    cells: Vec<(f64, f64)>,
    /// (size, estimate over seeds or frames).
    sizes: Vec<(f64, Option<Estimate>, f64)>,
}

impl Curve {
    fn new(per_size: &[(usize, Vec<Replicate<'_>>)]) -> Self {
        let cells = per_size
            .iter()
            .flat_map(|(n, reps)| reps.iter().map(move |r| (*n as f64, r.mae)))
            .collect();
        let sizes = per_size
            .iter()
            .filter(|(_, reps)| !reps.is_empty())
            .map(|(n, reps)| {
                let maes: Vec<f64> = reps.iter().map(|r| r.mae).collect();
                (*n as f64, stats::mae(reps), mean(&maes))
            })
            .collect();
        Self { cells, sizes }
    }

    /// The log–log slope over every cell with its 95% t-interval, and (when every size has
    /// ≥ 2 seeds) a bootstrap interval resampling seeds within sizes.
    fn slope(&self) -> std::result::Result<(Estimate, Option<Estimate>), String> {
        let (x, y): (Vec<f64>, Vec<f64>) = self.cells.iter().copied().unzip();
        let fit = fit_power_law(&x, &y).map_err(|e| e.to_string())?;
        let t = fit
            .slope_estimate(DEFAULT_LEVEL)
            .map_err(|e| e.to_string())?;
        let seeds_everywhere = self
            .sizes
            .iter()
            .all(|(n, ..)| x.iter().filter(|v| *v == n).count() >= 2);
        let boot = seeds_everywhere
            .then(|| power_law_slope_bootstrap(&x, &y, &stats::bootstrap()).ok())
            .flatten();
        Ok((t, boot))
    }

    fn series(&self, label: String) -> BarredSeries {
        BarredSeries {
            series: Series {
                label,
                points: self
                    .sizes
                    .iter()
                    .map(|(n, e, m)| (*n, e.map_or(*m, |e| e.value)))
                    .collect(),
            },
            bars: self
                .sizes
                .iter()
                .map(|(_, e, _)| stats::bar(e.as_ref()))
                .collect(),
        }
    }
}

/// The sentence on one learning-curve slope: an effect only when its interval excludes 0.
fn slope_sentence(what: &str, curve: &Curve) -> String {
    match curve.slope() {
        Err(e) => format!("{what}: no slope ({e})"),
        Ok((b, boot)) => {
            let also = boot
                .map(|e| format!("; seed bootstrap {}", e))
                .unwrap_or_default();
            let fit = format!(
                "b = {b}, {} t-interval over {} cells{also}",
                stats::level(&b),
                b.n
            );
            match stats::effect(&b, 0.0) {
                Effect::Below => format!("{what}: force MAE falls as N^b, {fit}"),
                Effect::Above => {
                    format!("{what}: force MAE rises with training size, N^b with {fit}")
                }
                Effect::None => {
                    format!("{what}: no significant dependence on training size was found ({fit})")
                }
            }
        }
    }
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(crate::grid::ExperimentKey::SampleEfficiency);
    let mut molecules: Vec<&str> = results
        .iter()
        .filter_map(|r| match &r.spec {
            CellSpec::Sample { molecule, .. } => Some(molecule.as_str()),
            _ => None,
        })
        .collect();
    molecules.sort_unstable();
    molecules.dedup();
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut slopes = Vec::new();
    let mut all_pairs: Vec<Pair<'_>> = Vec::new();
    for molecule in &molecules {
        let per_size: Vec<(usize, Vec<Pair<'_>>)> = sizes_of(results, molecule)
            .into_iter()
            .map(|n| (n, pairs(results, molecule, n)))
            .collect();
        for (n, cell_pairs) in &per_size {
            if cell_pairs.is_empty() {
                continue;
            }
            let (iid, ood): (Vec<Replicate<'_>>, Vec<Replicate<'_>>) =
                cell_pairs.iter().copied().unzip();
            let m = |reps: &[Replicate<'_>]| mean(&reps.iter().map(|r| r.mae).collect::<Vec<_>>());
            rows.push(vec![
                molecule.to_string(),
                n.to_string(),
                iid.len().to_string(),
                stats::text(stats::mae(&iid).as_ref(), m(&iid)),
                stats::text(stats::mae(&ood).as_ref(), m(&ood)),
                stats::text(stats::ratio(&ood, &iid).as_ref(), m(&ood) / m(&iid)),
                stats::basis(&iid),
            ]);
            all_pairs.extend(cell_pairs.iter().copied());
        }
        for (label, holdout) in [("i.i.d.", false), ("time holdout", true)] {
            let reps: Vec<(usize, Vec<Replicate<'_>>)> = per_size
                .iter()
                .map(|(n, p)| {
                    (
                        *n,
                        p.iter()
                            .map(|pair| if holdout { pair.1 } else { pair.0 })
                            .collect(),
                    )
                })
                .collect();
            let curve = Curve::new(&reps);
            let b = curve
                .slope()
                .map(|(b, _)| format!("b = {b}"))
                .unwrap_or_else(|_| "no slope".into());
            slopes.push(slope_sentence(&format!("{molecule} {label}"), &curve));
            series.push(curve.series(format!("{molecule} {label} ({b})")));
        }
    }
    section.table = Table::new(
        &[
            "molecule",
            "n_train",
            "seeds",
            "force MAE i.i.d. [95% CI]",
            "force MAE time holdout [95% CI]",
            "ratio time holdout / i.i.d. [95% CI]",
            "intervals over",
        ],
        rows,
    );
    if !series.is_empty() {
        section.figures.push(line_chart(
            "e1_learning_curve",
            "Force MAE vs training-set size (mean over seeds, 95% intervals)",
            "training frames",
            "force MAE (kcal/mol/Å)",
            &series,
            true,
        )?);
    }
    if !slopes.is_empty() {
        section.findings.push(format!(
            "Learning curves (log–log slope b of force MAE against training size N over every \
             cell): {}.",
            slopes.join("; ")
        ));
    }
    if !all_pairs.is_empty() {
        section.findings.push(ratio_sentence(&all_pairs));
    }
    Ok(section)
}

/// The time-holdout / i.i.d. sentence: an effect only when the ratio's interval excludes 1.
fn ratio_sentence(pairs: &[Pair<'_>]) -> String {
    let (iid, ood): (Vec<Replicate<'_>>, Vec<Replicate<'_>>) = pairs.iter().copied().unzip();
    let Some(r) = stats::ratio(&ood, &iid) else {
        let total = |reps: &[Replicate<'_>]| reps.iter().map(|r| r.mae).sum::<f64>();
        return format!(
            "The time-holdout force MAE is on average {:.2}× the i.i.d. one over {} cells (no \
             interval could be computed, so no effect is claimed).",
            total(&ood) / total(&iid),
            pairs.len()
        );
    };
    let how = if pairs.len() >= 2 {
        format!(
            "geometric mean of the per-cell ratios over {} (molecule, size, seed) cells, {} \
             t-interval of the mean log ratio",
            pairs.len(),
            stats::level(&r)
        )
    } else {
        format!(
            "one cell, {} bootstrap interval over test frames",
            stats::level(&r)
        )
    };
    let verdict = match stats::effect(&r, 1.0) {
        Effect::Above => {
            "a random split overstates the accuracy on the frames the simulation visits next"
        }
        Effect::Below => {
            "here the later frames are predicted significantly better than i.i.d. ones"
        }
        Effect::None => {
            "no significant difference between the time-holdout and i.i.d. errors was found"
        }
    };
    format!("The time-holdout force MAE is on average {r}× the i.i.d. one ({how}): {verdict}.")
}

/// Experiment 1: error against training-set size.
pub struct SampleEfficiency;

impl crate::experiment::Experiment for SampleEfficiency {
    fn key(&self) -> crate::grid::ExperimentKey {
        crate::grid::ExperimentKey::SampleEfficiency
    }

    fn cells(&self, plan: &Plan) -> Vec<CellSpec> {
        cells(plan)
    }

    /// Sizes a preset chose that the data cannot supply are dropped with a notice; sizes the
    /// user chose are problems.
    fn check(
        &self,
        plan: &mut Plan,
        frames: &std::collections::BTreeMap<String, usize>,
        explicit: bool,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        let mut kept = Vec::new();
        for &size in &plan.sample.sizes {
            let failures: Vec<String> = plan
                .sample
                .molecules
                .iter()
                .filter_map(|m| {
                    check_size(plan, size, frames.get(m).copied().unwrap_or(0))
                        .err()
                        .map(|e| format!("{m}: {e}"))
                })
                .collect();
            match (failures.is_empty(), explicit) {
                (true, _) => kept.push(size),
                (false, true) => problems.extend(failures),
                (false, false) => {
                    tracing::warn!("preset size {size} dropped: {}", failures.join("; "));
                }
            }
        }
        plan.sample.sizes = kept;
        problems
    }

    fn splits(
        &self,
        cell: &CellSpec,
        data: &crate::data::DataCache,
        plan: &Plan,
    ) -> Result<CellSplits> {
        match cell {
            CellSpec::Sample {
                molecule,
                size,
                seed,
            } => splits(molecule, *size, *seed, &data.get(molecule)?.dataset, plan),
            other => anyhow::bail!("cell {} is not one of experiment 1's", other.id()),
        }
    }

    fn section(&self, results: &[&CellResult]) -> Result<Section> {
        section(results)
    }
}
