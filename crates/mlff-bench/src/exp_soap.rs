//! Experiment 4 — SOAP similarity: for every trained model (cells of experiments 1–3) the
//! similarity of each test set to its training set (mean over test frames of the largest
//! cosine similarity of atom-averaged SOAP vectors), correlated with the test error, per set
//! and per frame.

use anyhow::Result;
use mlff_metrics::{Correlation, DEFAULT_LEVEL, pearson, pooled_correlation, spearman};

use crate::grid::ExperimentKey;
use crate::measure::evenly_spaced;
use crate::plots::{BarredSeries, Series, scatter};
use crate::report::{Section, Table};
use crate::stats::{self, Effect};
use crate::store::CellResult;

/// Most points drawn in the per-frame scatter plot.
const MAX_FRAME_POINTS: usize = 3000;

/// Pearson and Spearman coefficients with Fisher-z intervals and p-values, and whether the
/// Spearman interval lies below / above 0.
fn correlation_text(what: &str, x: &[f64], y: &[f64]) -> String {
    let with_interval = |c: &Correlation| match c.interval(DEFAULT_LEVEL) {
        Ok(e) => format!("{e} (p = {})", stats::p_value(c.p_value)),
        Err(_) => format!(
            "{:.2} (p = {}, too few points for an interval)",
            c.coefficient,
            stats::p_value(c.p_value)
        ),
    };
    match (pearson(x, y), spearman(x, y)) {
        (Ok(p), Ok(s)) => {
            // The interval decides where there is one; with fewer points (no Fisher-z interval
            // for Spearman below n = 10), the exact permutation p-value does.
            let effect = match s.interval(DEFAULT_LEVEL) {
                Ok(e) => stats::effect(&e, 0.0),
                Err(_) if s.p_value < 1.0 - DEFAULT_LEVEL && s.coefficient < 0.0 => Effect::Below,
                Err(_) if s.p_value < 1.0 - DEFAULT_LEVEL && s.coefficient > 0.0 => Effect::Above,
                Err(_) => Effect::None,
            };
            let verdict = match effect {
                Effect::Below => "less similar test data have significantly larger errors",
                Effect::Above => "more similar test data have significantly larger errors",
                _ => "no significant correlation between similarity and error was found",
            };
            format!(
                "{what}: Pearson r = {}, Spearman ρ = {} (95% Fisher-z intervals), n = {}: {verdict}.",
                with_interval(&p),
                with_interval(&s),
                p.n
            )
        }
        _ => format!(
            "{what}: too few points (or no variation) to correlate (n = {}), so no effect is claimed.",
            x.len()
        ),
    }
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(ExperimentKey::SoapSimilarity);
    let mut rows = Vec::new();
    let mut sets: Vec<(f64, f64)> = Vec::new();
    let mut set_bars = Vec::new();
    let mut frames: Vec<(f64, f64)> = Vec::new();
    let mut within = Vec::new();
    for r in results {
        for t in &r.tests {
            let (Some(s), Some(sim)) = (&t.scores, &t.similarity) else {
                continue;
            };
            let pairs: Vec<(f64, f64)> = sim
                .per_frame_max
                .iter()
                .copied()
                .zip(t.per_frame_force_mae.iter().copied())
                .collect();
            let (fx, fy): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
            let rho = spearman(&fx, &fy).ok();
            let mae = stats::frame_interval(&t.per_frame_force_mae);
            rows.push(vec![
                r.id.clone(),
                format!("{} {}", t.kind, t.molecule),
                format!("{:.5}", sim.mean_max),
                stats::text(mae.as_ref(), s.force_mae),
                match rho.map(|c| (c, c.interval(DEFAULT_LEVEL))) {
                    Some((_, Ok(e))) => e.to_string(),
                    Some((c, Err(_))) => format!("{:.2} (no interval)", c.coefficient),
                    None => "n/a".into(),
                },
            ]);
            within.extend(rho.filter(|c| c.n >= 4));
            sets.push((sim.mean_max, s.force_mae));
            set_bars.push(stats::bar(mae.as_ref()));
            frames.extend(pairs);
        }
    }
    section.table = Table::new(
        &[
            "cell",
            "test set",
            "mean max SOAP similarity",
            "force MAE [95% CI, frame bootstrap]",
            "within-set Spearman ρ (similarity vs frame error) [95% CI]",
        ],
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
    if let Ok(pooled) = pooled_correlation(&within, DEFAULT_LEVEL) {
        let verdict = match stats::effect(&pooled, 0.0) {
            Effect::Below => {
                "within a test set, less similar frames have significantly larger errors"
            }
            Effect::Above => {
                "within a test set, more similar frames have significantly larger errors"
            }
            Effect::None => "no significant within-set correlation was found",
        };
        section.findings.push(format!(
            "Per frame within each test set, Spearman ρ pooled over {} sets (Fisher z weighted by \
             n − 3) = {pooled} (95% interval, {} frames; sets that share test frames are not \
             independent, so the interval is if anything too narrow): {verdict}.",
            within.len(),
            pooled.n
        ));
    }
    let (fx, fy): (Vec<f64>, Vec<f64>) = frames.iter().cloned().unzip();
    section.findings.push(correlation_text(
        "Per frame, all test sets pooled (mixes differences between sets with those within)",
        &fx,
        &fy,
    ));
    section.figures.push(scatter(
        "e4_similarity_vs_error_sets",
        "Test-set force MAE vs similarity to the training set (95% frame-bootstrap intervals)",
        "mean max SOAP cosine similarity",
        "force MAE (kcal/mol/Å)",
        &[BarredSeries {
            series: Series {
                label: "test sets".into(),
                points: sets,
            },
            bars: set_bars,
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

/// Experiment 4: SOAP similarity of test to training frames against error, measured in the
/// cells of experiments 1–3.
pub struct SoapSimilarity;

impl crate::experiment::Experiment for SoapSimilarity {
    fn key(&self) -> ExperimentKey {
        ExperimentKey::SoapSimilarity
    }

    fn section(&self, results: &[&CellResult]) -> Result<Section> {
        section(results)
    }
}
