//! Experiment 2 — time-domain sensitivity: fixed-size training windows at several positions
//! before the time-holdout segment, plus an i.i.d. training set of the same size for contrast;
//! error against the window's distance to the test segment.

use anyhow::{Result, bail};
use mlff_data::Dataset;
use mlff_metrics::spearman;
use mlff_splits::{SlidingWindowParams, SplitIndices, SplitRequest, Strategy, WindowPlacement};

use super::cell_splits::{self, CellSplits, TIME_HOLDOUT, TestSet};
use super::exp_sample::mean;
use super::grid::{CellSpec, Experiment};
use super::plots::{Series, line_chart};
use super::preset::Plan;
use super::report::{Section, Table, fmt};
use super::store::{CellResult, WindowRecord};

/// The cells: molecule × (window position, or the i.i.d. contrast) × seed.
pub fn cells(plan: &Plan) -> Vec<CellSpec> {
    let mut cells = Vec::new();
    for molecule in &plan.time.molecules {
        for &seed in &plan.seeds {
            for index in 0..plan.time.positions {
                cells.push(CellSpec::Window {
                    molecule: molecule.clone(),
                    index,
                    seed,
                });
            }
            cells.push(CellSpec::WindowIid {
                molecule: molecule.clone(),
                seed,
            });
        }
    }
    cells
}

/// Whether the windows fit the data.
pub fn check(plan: &Plan, frames: usize) -> std::result::Result<(), String> {
    let pool = cell_splits::pool_size(frames, plan);
    let window = plan.time.window + plan.validation_frames(plan.time.window);
    if plan.time.positions == 0 {
        return Err("time-domain experiment needs at least one window position".into());
    }
    if window > pool {
        return Err(format!(
            "training window of {window} frames (validation included) is longer than the \
             {pool} frames before the time-holdout segment"
        ));
    }
    Ok(())
}

/// The frames of window `index`.
pub fn window_splits(
    molecule: &str,
    index: usize,
    seed: u64,
    data: &Dataset,
    plan: &Plan,
) -> Result<CellSplits> {
    let n_val = plan.validation_frames(plan.time.window);
    let request = SplitRequest::new(
        Strategy::SlidingWindows(SlidingWindowParams {
            segment: cell_splits::segment(data, plan)?,
            window: plan.time.window + n_val,
            placement: WindowPlacement::Positions(plan.time.positions),
        }),
        seed,
    )
    .with_validation(cell_splits::validation(n_val));
    let split = request.generate()?;
    let SplitIndices::Windows { test, windows, .. } = &split.indices else {
        bail!("sliding windows produced an unexpected split layout");
    };
    let Some(w) = windows.get(index) else {
        bail!("window {index} does not exist ({} windows)", windows.len());
    };
    let name = molecule.to_string();
    Ok(CellSplits {
        train: vec![(name.clone(), w.train.clone())],
        validation: vec![(name.clone(), w.validation.clone())],
        tests: vec![TestSet {
            kind: TIME_HOLDOUT,
            molecule: name,
            frames: test.clone(),
        }],
        window: Some(WindowRecord {
            start: w.start,
            end: w.end,
            frames_to_test: w.frames_to_test,
            time_to_test_fs: w.time_to_test_fs,
        }),
        splits: vec![split.clone()],
    })
}

/// The i.i.d. contrast: a random training set of the window's size.
pub fn iid_splits(molecule: &str, seed: u64, data: &Dataset, plan: &Plan) -> Result<CellSplits> {
    let n_test = plan.time.window.min(plan.sample.iid_test);
    cell_splits::iid_with_holdout(molecule, data, plan, plan.time.window, n_test, seed)
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(Experiment::TimeDomain);
    let mut molecules: Vec<&str> = results
        .iter()
        .filter_map(|r| match &r.spec {
            CellSpec::Window { molecule, .. } | CellSpec::WindowIid { molecule, .. } => {
                Some(molecule.as_str())
            }
            _ => None,
        })
        .collect();
    molecules.sort_unstable();
    molecules.dedup();
    let mut rows = Vec::new();
    let mut series = Vec::new();
    for molecule in molecules {
        let windows: Vec<(&CellResult, &WindowRecord, f64)> = results
            .iter()
            .filter(|r| matches!(&r.spec, CellSpec::Window { molecule: m, .. } if m == molecule))
            .filter_map(|r| {
                let mae = r.scores(TIME_HOLDOUT, molecule)?.force_mae;
                Some((*r, r.window.as_ref()?, mae))
            })
            .collect();
        for (r, w, mae) in &windows {
            rows.push(vec![
                molecule.to_string(),
                r.id.clone(),
                format!("[{}, {})", w.start, w.end),
                w.frames_to_test.to_string(),
                w.time_to_test_fs
                    .map(|t| format!("{:.2}", t / 1000.0))
                    .unwrap_or_else(|| "n/a".into()),
                fmt(*mae),
            ]);
        }
        let iid: Vec<f64> = results
            .iter()
            .filter(|r| matches!(&r.spec, CellSpec::WindowIid { molecule: m, .. } if m == molecule))
            .filter_map(|r| r.scores(TIME_HOLDOUT, molecule).map(|s| s.force_mae))
            .collect();
        if !iid.is_empty() {
            rows.push(vec![
                molecule.to_string(),
                "i.i.d. contrast".into(),
                "random, before the test segment".into(),
                "—".into(),
                "—".into(),
                fmt(mean(&iid)),
            ]);
        }
        let points: Vec<(f64, f64)> = windows
            .iter()
            .map(|(_, w, mae)| (w.frames_to_test as f64, *mae))
            .collect();
        window_findings(&mut section, molecule, &points, &iid);
        series.push(Series {
            label: format!("{molecule} windows"),
            points,
        });
    }
    let header = [
        "molecule",
        "cell",
        "window (time positions)",
        "frames to test",
        "time to test (ps)",
        "force MAE time holdout",
    ];
    section.table = Table::new(&header, rows);
    if series.iter().any(|s| !s.points.is_empty()) {
        section.figures.push(line_chart(
            "e2_window_distance",
            "Time-holdout force MAE vs the window's distance to the test segment",
            "frames between window end and test segment",
            "force MAE (kcal/mol/Å)",
            &series,
            false,
        )?);
    }
    Ok(section)
}

fn window_findings(section: &mut Section, molecule: &str, points: &[(f64, f64)], iid: &[f64]) {
    if points.len() >= 2 {
        let nearest = points
            .iter()
            .cloned()
            .fold((f64::INFINITY, 0.0), |a, p| if p.0 < a.0 { p } else { a });
        let farthest =
            points.iter().cloned().fold(
                (f64::NEG_INFINITY, 0.0),
                |a, p| if p.0 > a.0 { p } else { a },
            );
        let (x, y): (Vec<f64>, Vec<f64>) = points.iter().cloned().unzip();
        let rho = spearman(&x, &y)
            .map(|c| format!("Spearman ρ = {:.2}", c.coefficient))
            .unwrap_or_else(|_| "ρ undefined".into());
        section.findings.push(format!(
            "{molecule}: the window nearest the test segment gives force MAE {} and the farthest {} \
             ({rho} between distance and error){}.",
            fmt(nearest.1),
            fmt(farthest.1),
            if farthest.1 > nearest.1 {
                "; windows far from the test segment generalise worse"
            } else {
                "; here distance did not increase the error"
            }
        ));
    }
    if !iid.is_empty() && !points.is_empty() {
        let best = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        section.findings.push(format!(
            "{molecule}: a random training set of the same size, spread over the whole pre-test \
             trajectory, reaches {} on the time-holdout test (best window {}).",
            fmt(mean(iid)),
            fmt(best)
        ));
    }
}
