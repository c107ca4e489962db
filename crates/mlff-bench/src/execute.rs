//! Running one cell: split, train, test, SOAP similarity, MD stability — timed and recorded.

use anyhow::{Context, Result};
use mlff_data::Dataset;
use std::time::Instant;

use crate::cell_splits::{CellSplits, TIME_HOLDOUT};
use crate::data::DataCache;
use crate::exp_md;
use crate::grid::{CellSpec, ExperimentKey};
use crate::measure;
use crate::model::{FittedModel, ModelFactory, TrainingContext};
use crate::preset::Plan;
use crate::store::{CellResult, TestResult, Timings};

/// What every cell of a run shares.
pub struct RunContext<'a> {
    /// Settings.
    pub plan: &'a Plan,
    /// Loaded molecules.
    pub data: &'a DataCache,
    /// The model.
    pub factory: &'a dyn ModelFactory,
    /// Version of the code.
    pub code_version: &'a str,
    /// Where cells keep their models' files (`<run>/work`; one directory per cell).
    pub work_root: &'a std::path::Path,
}

/// Stages of a cell, for its progress bar.
pub trait CellProgress: Sync {
    /// Entering `stage`; `fraction` of the cell done.
    fn stage(&self, stage: &str, fraction: f64);
}

fn cell_splits(cell: &CellSpec, context: &RunContext<'_>) -> Result<CellSplits> {
    crate::experiment::of(cell.experiment()).splits(cell, context.data, context.plan)
}

fn subsets(sets: &[(String, Vec<usize>)], context: &RunContext<'_>) -> Result<Vec<Dataset>> {
    sets.iter()
        .filter(|(_, frames)| !frames.is_empty())
        .map(|(m, frames)| Ok(context.data.get(m)?.dataset.select(frames)?.to_dataset()?))
        .collect()
}

fn seconds(since: Instant) -> f64 {
    since.elapsed().as_secs_f64()
}

/// Runs `cell` to completion.
pub fn execute(
    cell: &CellSpec,
    context: &RunContext<'_>,
    progress: &dyn CellProgress,
) -> Result<CellResult> {
    let start = Instant::now();
    let mut timings = Timings::default();
    progress.stage("split", 0.0);
    let splits =
        cell_splits(cell, context).with_context(|| format!("splitting for cell {}", cell.id()))?;
    let train = subsets(&splits.train, context)?;
    let validation = subsets(&splits.validation, context)?;
    timings.data_s = seconds(start);

    progress.stage("train", 0.05);
    let t = Instant::now();
    let report = |f: f64| progress.stage("train", 0.05 + 0.6 * f.clamp(0.0, 1.0));
    let id = cell.id();
    let workdir = context.work_root.join(&id);
    // A rerun trains afresh: nothing of an interrupted attempt is reused.
    if workdir.exists() {
        std::fs::remove_dir_all(&workdir)
            .with_context(|| format!("clearing {}", workdir.display()))?;
    }
    std::fs::create_dir_all(&workdir).with_context(|| format!("creating {}", workdir.display()))?;
    let training = TrainingContext {
        seed: cell.seed(),
        progress: &report,
        cell: &id,
        workdir: &workdir,
        train_frames: &splits.train,
        validation_frames: &splits.validation,
    };
    let model = context
        .factory
        .train(&train, &validation, &training)
        .with_context(|| format!("training cell {}", cell.id()))?;
    timings.train_s = seconds(t);

    progress.stage("test", 0.65);
    let mut tests = test_all(model.as_ref(), &splits, context, &mut timings)?;
    progress.stage("md", 0.8);
    let md = md_stability(cell, model.as_ref(), &splits, context, &mut timings)?;
    tests
        .iter_mut()
        .for_each(|t| t.per_frame_force_mae.shrink_to_fit());
    timings.total_s = seconds(start);
    progress.stage("done", 1.0);
    Ok(CellResult {
        id: cell.id(),
        spec: cell.clone(),
        model: context.factory.name(),
        hyper_parameters: model.hyper_parameters(),
        training: model.training_summary(),
        train_frames: splits.train.iter().map(|(_, f)| f.len()).sum(),
        validation_frames: splits.validation.iter().map(|(_, f)| f.len()).sum(),
        splits: splits
            .splits
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?,
        window: splits.window.clone(),
        tests,
        md,
        data: cell
            .molecules()
            .iter()
            .map(|m| Ok(context.data.get(m)?.record.clone()))
            .collect::<Result<_>>()?,
        code_version: context.code_version.to_string(),
        timings,
    })
}

/// Scores and SOAP similarity of every test set.
fn test_all(
    model: &dyn FittedModel,
    splits: &CellSplits,
    context: &RunContext<'_>,
    timings: &mut Timings,
) -> Result<Vec<TestResult>> {
    let t = Instant::now();
    let soap = measure::soap_calculator(&context.plan.soap)?;
    let mut train_rows = Vec::new();
    let per_molecule = (context.plan.soap.max_train_frames / splits.train.len().max(1)).max(1);
    for (m, frames) in &splits.train {
        let frames = measure::evenly_spaced(frames, per_molecule);
        train_rows.push(measure::soap_rows(
            &soap,
            &context.data.get(m)?.dataset,
            &frames,
        )?);
    }
    let views: Vec<_> = train_rows.iter().map(|r| r.view()).collect();
    let train_soap = ndarray::concatenate(ndarray::Axis(0), &views)?;
    timings.soap_s += seconds(t);
    let mut results = Vec::new();
    for test in &splits.tests {
        let data = &context.data.get(&test.molecule)?.dataset;
        let subset = data.select(&test.frames)?.to_dataset()?;
        let t = Instant::now();
        let (scores, per_frame, error) = match measure::score_model(model, &subset) {
            Ok((s, f)) => (Some(s), f, None),
            // A model that cannot evaluate a molecule (e.g. an element pair it never saw) is a
            // result of the cross-dataset experiment, not a failure of the cell.
            Err(e) if test.kind == crate::cell_splits::CROSS => {
                (None, Vec::new(), Some(format!("{e:#}")))
            }
            Err(e) => return Err(e),
        };
        timings.test_s += seconds(t);
        let t = Instant::now();
        let rows = measure::soap_rows(&soap, data, &test.frames)?;
        let similarity = Some(measure::similarity(&rows, &train_soap)?);
        timings.soap_s += seconds(t);
        results.push(TestResult {
            kind: test.kind.to_string(),
            molecule: test.molecule.clone(),
            frames: test.frames.len(),
            scores,
            error,
            per_frame_force_mae: per_frame,
            similarity,
        });
    }
    Ok(results)
}

/// Experiment 5's measurement, for single-molecule cells of experiments 1–2.
fn md_stability(
    cell: &CellSpec,
    model: &dyn FittedModel,
    splits: &CellSplits,
    context: &RunContext<'_>,
    timings: &mut Timings,
) -> Result<Option<crate::store::MdRecord>> {
    let plan = &context.plan.md;
    if plan.runs == 0 || !cell.experiment().measures(ExperimentKey::MdStability) {
        return Ok(None);
    }
    let Some(test) = splits.tests.iter().find(|t| t.kind == TIME_HOLDOUT) else {
        return Ok(None);
    };
    let t = Instant::now();
    let data = &context.data.get(&test.molecule)?.dataset;
    let record = exp_md::measure(model, data, &test.frames, plan, cell.seed())
        .with_context(|| format!("MD stability of cell {}", cell.id()))?;
    timings.md_s = seconds(t);
    Ok(Some(record))
}
