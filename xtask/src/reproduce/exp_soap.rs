//! Experiment 4 — SOAP similarity: for every trained model (cells of experiments 1–3) the
//! similarity of each test set to its training set (mean over test frames of the largest
//! cosine similarity of atom-averaged SOAP vectors), correlated with the test error, per set
//! and per frame.

use anyhow::Result;
use mlff_metrics::{pearson, spearman};

use super::grid::Experiment;
use super::measure::evenly_spaced;
use super::plots::{Series, scatter};
use super::report::{Section, Table, fmt};
use super::store::CellResult;

/// Most points drawn in the per-frame scatter plot.
const MAX_FRAME_POINTS: usize = 3000;

fn correlation_text(what: &str, x: &[f64], y: &[f64]) -> String {
    match (pearson(x, y), spearman(x, y)) {
        (Ok(p), Ok(s)) if p.coefficient.is_finite() => format!(
            "{what}: Pearson r = {:.2} (p = {:.1e}), Spearman ρ = {:.2} (p = {:.1e}), n = {}.",
            p.coefficient, p.p_value, s.coefficient, s.p_value, p.n
        ),
        _ => format!("{what}: too few points to correlate (n = {}).", x.len()),
    }
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(Experiment::SoapSimilarity);
    let mut rows = Vec::new();
    let mut sets: Vec<(f64, f64)> = Vec::new();
    let mut frames: Vec<(f64, f64)> = Vec::new();
    for r in results {
        for t in &r.tests {
            let (Some(s), Some(sim)) = (&t.scores, &t.similarity) else {
                continue;
            };
            rows.push(vec![
                r.id.clone(),
                format!("{} {}", t.kind, t.molecule),
                format!("{:.5}", sim.mean_max),
                fmt(s.force_mae),
            ]);
            sets.push((sim.mean_max, s.force_mae));
            frames.extend(
                sim.per_frame_max
                    .iter()
                    .copied()
                    .zip(t.per_frame_force_mae.iter().copied()),
            );
        }
    }
    section.table = Table::new(
        &["cell", "test set", "mean max SOAP similarity", "force MAE"],
        rows,
    );
    if sets.is_empty() {
        return Ok(section);
    }
    let (x, y): (Vec<f64>, Vec<f64>) = sets.iter().cloned().unzip();
    section.findings.push(correlation_text(
        "Across test sets, similarity to the training set vs force MAE (a negative coefficient \
         means less similar test sets have larger errors)",
        &x,
        &y,
    ));
    let (fx, fy): (Vec<f64>, Vec<f64>) = frames.iter().cloned().unzip();
    section
        .findings
        .push(correlation_text("Per frame, the same", &fx, &fy));
    section.figures.push(scatter(
        "e4_similarity_vs_error_sets",
        "Test-set force MAE vs similarity to the training set",
        "mean max SOAP cosine similarity",
        "force MAE (kcal/mol/Å)",
        &[Series {
            label: "test sets".into(),
            points: sets,
        }],
    )?);
    let indices: Vec<usize> =
        evenly_spaced(&(0..frames.len()).collect::<Vec<_>>(), MAX_FRAME_POINTS);
    section.figures.push(scatter(
        "e4_similarity_vs_error_frames",
        "Per-frame force MAE vs similarity to the training set",
        "max SOAP cosine similarity to a training frame",
        "frame force MAE (kcal/mol/Å)",
        &[Series {
            label: "test frames".into(),
            points: indices.iter().map(|&i| frames[i]).collect(),
        }],
    )?);
    Ok(section)
}
