//! Experiment 1 — sample efficiency: error against training-set size, on an i.i.d. test set
//! and on the time-holdout segment side by side, with fitted log–log slopes.

use anyhow::Result;
use mlff_data::Dataset;
use mlff_metrics::fit_power_law;

use super::cell_splits::{self, CellSplits, IID, TIME_HOLDOUT};
use super::grid::CellSpec;
use super::plots::{Series, line_chart};
use super::preset::Plan;
use super::report::{Section, Table, fmt};
use super::store::CellResult;

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

/// Mean of `values`, or NaN when empty.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// (size, mean force MAE over seeds) of one molecule and test kind.
fn curve(results: &[&CellResult], molecule: &str, kind: &str) -> Vec<(f64, f64)> {
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
        .into_iter()
        .filter_map(|n| {
            let maes: Vec<f64> = results
                .iter()
                .filter(|r| matches!(&r.spec, CellSpec::Sample { molecule: m, size, .. } if m == molecule && *size == n))
                .filter_map(|r| r.scores(kind, molecule).map(|s| s.force_mae))
                .collect();
            (!maes.is_empty()).then(|| (n as f64, mean(&maes)))
        })
        .collect()
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(super::grid::Experiment::SampleEfficiency);
    let mut molecules: Vec<&str> = results
        .iter()
        .filter_map(|r| match &r.spec {
            CellSpec::Sample { molecule, .. } => Some(molecule.as_str()),
            _ => None,
        })
        .collect();
    molecules.dedup();
    let mut rows = Vec::new();
    let mut series = Vec::new();
    let mut gaps = Vec::new();
    let mut slopes = Vec::new();
    for molecule in &molecules {
        let iid = curve(results, molecule, IID);
        let ood = curve(results, molecule, TIME_HOLDOUT);
        for ((n, e_iid), (_, e_ood)) in iid.iter().zip(&ood) {
            gaps.push(e_ood / e_iid);
            rows.push(vec![
                molecule.to_string(),
                format!("{n}"),
                fmt(*e_iid),
                fmt(*e_ood),
                format!("{:.2}", e_ood / e_iid),
            ]);
        }
        for (kind, points) in [("i.i.d.", &iid), ("time holdout", &ood)] {
            let slope = slope_text(points);
            slopes.push(format!("{molecule} {kind}: {slope}"));
            series.push(Series {
                label: format!("{molecule} {kind} (slope {slope})"),
                points: points.clone(),
            });
        }
    }
    section.table = Table::new(
        &[
            "molecule",
            "n_train",
            "force MAE i.i.d.",
            "force MAE time holdout",
            "ratio",
        ],
        rows,
    );
    if !series.is_empty() {
        section.figures.push(line_chart(
            "e1_learning_curve",
            "Force MAE vs training-set size",
            "training frames",
            "force MAE (kcal/mol/Å)",
            &series,
            true,
        )?);
    }
    if !slopes.is_empty() {
        section.findings.push(format!(
            "Log–log slopes of force MAE against training size (more negative = learns faster \
             from more data): {}.",
            slopes.join("; ")
        ));
    }
    if !gaps.is_empty() {
        section.findings.push(format!(
            "Across {} (molecule, size) points the time-holdout force MAE is on average {:.2}× \
             the i.i.d. one (range {:.2}–{:.2}): {}.",
            gaps.len(),
            mean(&gaps),
            gaps.iter().cloned().fold(f64::INFINITY, f64::min),
            gaps.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            if mean(&gaps) > 1.05 {
                "a random split overstates the accuracy on the frames the simulation visits next"
            } else {
                "on these data the i.i.d. split does not overstate the accuracy on later frames"
            }
        ));
    }
    Ok(section)
}

fn slope_text(points: &[(f64, f64)]) -> String {
    if points.len() < 3 {
        return "n/a (< 3 sizes)".into();
    }
    let (x, y): (Vec<f64>, Vec<f64>) = points.iter().cloned().unzip();
    match fit_power_law(&x, &y) {
        Ok(fit) => format!("{:.2} ± {:.2}", fit.slope, fit.slope_stderr),
        Err(e) => format!("n/a ({e})"),
    }
}
