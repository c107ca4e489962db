//! Experiment 2 — time-domain sensitivity: fixed-size training windows at several positions
//! before the time-holdout segment, plus an i.i.d. training set of the same size for contrast;
//! error against the window's distance to the test segment.

use anyhow::{Result, bail};
use mlff_data::Dataset;
use mlff_metrics::{
    DEFAULT_LEVEL, PermutationOptions, TrendStatistic, paired_ratio, permutation_trend,
    ratio_of_paired_means,
};
use mlff_splits::{SlidingWindowParams, SplitIndices, SplitRequest, Strategy, WindowPlacement};

use crate::cell_splits::{self, CellSplits, TIME_HOLDOUT, TestSet};
use crate::grid::{CellSpec, ExperimentKey};
use crate::plots::{BarredSeries, Series, line_chart};
use crate::preset::Plan;
use crate::report::{Section, Table, fmt};
use crate::stats::{self, Effect, Replicate, mean, replicate};
use crate::store::{CellResult, WindowRecord};

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

/// A window cell's outcome: position, seed, distance to the test segment, errors.
struct WindowCell<'a> {
    index: usize,
    seed: u64,
    window: &'a WindowRecord,
    test: Replicate<'a>,
}

/// How distance to the test segment is measured: simulated time when every window knows it.
#[derive(Clone, Copy, PartialEq)]
enum Distance {
    Picoseconds,
    Frames,
}

impl Distance {
    fn of(windows: &[WindowCell<'_>]) -> Self {
        if !windows.is_empty() && windows.iter().all(|w| w.window.time_to_test_fs.is_some()) {
            Distance::Picoseconds
        } else {
            Distance::Frames
        }
    }

    fn measure(self, w: &WindowRecord) -> f64 {
        match (self, w.time_to_test_fs) {
            (Distance::Picoseconds, Some(fs)) => fs / 1000.0,
            _ => w.frames_to_test as f64,
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Distance::Picoseconds => "ps",
            Distance::Frames => "frames",
        }
    }
}

/// The report section.
pub fn section(results: &[&CellResult]) -> Result<Section> {
    let mut section = Section::new(ExperimentKey::TimeDomain);
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
    let (mut trends, mut contrasts) = (Vec::new(), Vec::new());
    let mut units = Vec::new();
    for molecule in molecules {
        let windows: Vec<WindowCell<'_>> = results
            .iter()
            .filter_map(|r| match &r.spec {
                CellSpec::Window {
                    molecule: m,
                    index,
                    seed,
                } if m == molecule => Some(WindowCell {
                    index: *index,
                    seed: *seed,
                    window: r.window.as_ref()?,
                    test: replicate(r, TIME_HOLDOUT, molecule)?,
                }),
                _ => None,
            })
            .collect();
        let iid: Vec<(u64, Replicate<'_>)> = results
            .iter()
            .filter_map(|r| match &r.spec {
                CellSpec::WindowIid { molecule: m, seed } if m == molecule => {
                    Some((*seed, replicate(r, TIME_HOLDOUT, molecule)?))
                }
                _ => None,
            })
            .collect();
        let distance = Distance::of(&windows);
        units.push(distance.unit());
        let mut positions: Vec<usize> = windows.iter().map(|w| w.index).collect();
        positions.sort_unstable();
        positions.dedup();
        let mut points = Vec::new();
        let mut bars = Vec::new();
        for index in positions {
            let cells: Vec<&WindowCell<'_>> = windows.iter().filter(|w| w.index == index).collect();
            let reps: Vec<Replicate<'_>> = cells.iter().map(|w| w.test).collect();
            let d = mean(
                &cells
                    .iter()
                    .map(|w| distance.measure(w.window))
                    .collect::<Vec<_>>(),
            );
            let maes: Vec<f64> = reps.iter().map(|r| r.mae).collect();
            let estimate = stats::mae(&reps);
            let w = cells[0].window;
            rows.push(vec![
                molecule.to_string(),
                format!("window {index}"),
                format!("[{}, {})", w.start, w.end),
                fmt(d),
                reps.len().to_string(),
                stats::text(estimate.as_ref(), mean(&maes)),
                stats::basis(&reps),
            ]);
            points.push((d, estimate.map_or(mean(&maes), |e| e.value)));
            bars.push(stats::bar(estimate.as_ref()));
        }
        if !iid.is_empty() {
            let reps: Vec<Replicate<'_>> = iid.iter().map(|(_, r)| *r).collect();
            rows.push(vec![
                molecule.to_string(),
                "i.i.d. contrast".into(),
                "random, before the test segment".into(),
                "—".into(),
                reps.len().to_string(),
                stats::text(
                    stats::mae(&reps).as_ref(),
                    mean(&reps.iter().map(|r| r.mae).collect::<Vec<_>>()),
                ),
                stats::basis(&reps),
            ]);
            if let Some(text) = contrast_sentence(molecule, &windows, &iid) {
                contrasts.push(text);
            }
        }
        if let Some(text) = trend_sentence(molecule, &windows, distance) {
            trends.push(text);
        }
        series.push(BarredSeries {
            series: Series {
                label: format!("{molecule} windows (mean over seeds, 95% CI)"),
                points,
            },
            bars,
        });
    }
    units.dedup();
    let unit = units.join("/");
    let distance_header = format!("distance to test ({unit})");
    let header = [
        "molecule",
        "training set",
        "window (time positions)",
        distance_header.as_str(),
        "seeds",
        "force MAE time holdout [95% CI]",
        "intervals over",
    ];
    section.table = Table::new(&header, rows);
    if !trends.is_empty() {
        section.findings.push(format!(
            "Distance of the training window to the test segment: {}",
            trends.join(" ")
        ));
    }
    section.findings.extend(contrasts);
    if series.iter().any(|s| !s.series.points.is_empty()) {
        section.figures.push(line_chart(
            "e2_window_distance",
            "Time-holdout force MAE vs the window's distance to the test segment",
            &format!("distance between window end and test segment ({unit})"),
            "force MAE (kcal/mol/Å)",
            &series,
            false,
        )?);
    }
    Ok(section)
}

/// The distance trend over every window cell: a permutation test of Spearman's ρ and the OLS
/// slope with its interval; "generalise worse" only when both are significant.
fn trend_sentence(
    molecule: &str,
    windows: &[WindowCell<'_>],
    distance: Distance,
) -> Option<String> {
    let x: Vec<f64> = windows.iter().map(|w| distance.measure(w.window)).collect();
    let y: Vec<f64> = windows.iter().map(|w| w.test.mae).collect();
    let unit = distance.unit();
    let test = match permutation_trend(
        &x,
        &y,
        TrendStatistic::Spearman,
        &PermutationOptions {
            seed: stats::SEED,
            ..PermutationOptions::default()
        },
    ) {
        Ok(test) => test,
        Err(e) => return (windows.len() >= 2).then(|| format!("{molecule}: no trend test ({e}).")),
    };
    let detail = format!(
        "slope {} kcal/mol/Å per {unit} ({} CI), Spearman ρ = {:.2}, permutation p = {}, {} cells",
        test.slope,
        stats::level(&test.slope),
        test.observed,
        stats::p_value(test.p_value),
        test.slope.n
    );
    let significant = test.significant(1.0 - test.slope.level) && test.slope.excludes(0.0);
    Some(match (significant, test.slope.value > 0.0) {
        (true, true) => {
            format!("{molecule}: windows far from the test segment generalise worse ({detail}).")
        }
        (true, false) => format!(
            "{molecule}: windows far from the test segment generalise better here ({detail})."
        ),
        // The two tests disagree: say so rather than let "p = 0.006" stand beside "none found".
        (false, _) if test.significant(1.0 - test.slope.level) || test.slope.excludes(0.0) => {
            format!(
                "{molecule}: the evidence on the distance to the test segment is mixed — the \
                 permutation test of the trend and the slope's interval disagree — so no \
                 dependence is claimed ({detail})."
            )
        }
        (false, _) => format!(
            "{molecule}: no significant dependence of the error on the distance to the test \
             segment was found ({detail})."
        ),
    })
}

/// Mean window error / i.i.d. error: per seed when there are ≥ 2 seeds with both, else a
/// bootstrap over each test set's frames.
fn contrast_sentence(
    molecule: &str,
    windows: &[WindowCell<'_>],
    iid: &[(u64, Replicate<'_>)],
) -> Option<String> {
    let per_seed: Vec<(f64, f64)> = iid
        .iter()
        .filter_map(|(seed, r)| {
            let maes: Vec<f64> = windows
                .iter()
                .filter(|w| w.seed == *seed)
                .map(|w| w.test.mae)
                .collect();
            (!maes.is_empty()).then(|| (mean(&maes), r.mae))
        })
        .collect();
    let (ratio, how) = if per_seed.len() >= 2 {
        let (w, i): (Vec<f64>, Vec<f64>) = per_seed.iter().copied().unzip();
        let r = paired_ratio(&w, &i, DEFAULT_LEVEL).ok()?;
        (
            r,
            format!("geometric mean over {} seeds, t-interval", per_seed.len()),
        )
    } else {
        // One seed: every model was tested on the same frames, so resample frames jointly.
        let (_, iid_rep) = iid.first()?;
        let frames = iid_rep.per_frame.len();
        if windows.is_empty() || windows.iter().any(|w| w.test.per_frame.len() != frames) {
            return None;
        }
        let window_mean: Vec<f64> = (0..frames)
            .map(|f| {
                mean(
                    &windows
                        .iter()
                        .map(|w| w.test.per_frame[f])
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let r = ratio_of_paired_means(&window_mean, iid_rep.per_frame, &stats::bootstrap()).ok()?;
        (
            r,
            format!("one seed, bootstrap over {frames} shared test frames"),
        )
    };
    let verdict = match stats::effect(&ratio, 1.0) {
        Effect::Above => {
            "contiguous windows generalise worse than a random sample of the pre-test trajectory"
        }
        Effect::Below => {
            "contiguous windows generalise better than a random sample of the pre-test trajectory"
        }
        Effect::None => {
            "no significant difference between windows and a random training set was found"
        }
    };
    Some(format!(
        "{molecule}: the mean window force MAE is {ratio}× that of a random training set of the \
         same size ({how}, {} interval): {verdict}.",
        stats::level(&ratio)
    ))
}

/// Experiment 2: training windows at several distances from the test segment.
pub struct TimeDomain;

impl crate::experiment::Experiment for TimeDomain {
    fn key(&self) -> ExperimentKey {
        ExperimentKey::TimeDomain
    }

    fn cells(&self, plan: &Plan) -> Vec<CellSpec> {
        cells(plan)
    }

    fn check(
        &self,
        plan: &mut Plan,
        frames: &std::collections::BTreeMap<String, usize>,
        _explicit: bool,
    ) -> Vec<String> {
        plan.time
            .molecules
            .iter()
            .filter_map(|m| {
                check(plan, frames.get(m).copied().unwrap_or(0))
                    .err()
                    .map(|e| format!("{m}: {e}"))
            })
            .collect()
    }

    fn splits(
        &self,
        cell: &CellSpec,
        data: &crate::data::DataCache,
        plan: &Plan,
    ) -> Result<CellSplits> {
        match cell {
            CellSpec::Window {
                molecule,
                index,
                seed,
            } => window_splits(molecule, *index, *seed, &data.get(molecule)?.dataset, plan),
            CellSpec::WindowIid { molecule, seed } => {
                iid_splits(molecule, *seed, &data.get(molecule)?.dataset, plan)
            }
            other => anyhow::bail!("cell {} is not one of experiment 2's", other.id()),
        }
    }

    fn section(&self, results: &[&CellResult]) -> Result<Section> {
        section(results)
    }
}
