//! `cargo xtask score`: score any model's predictions on a split's test sets with
//! `mlff-metrics`, print a Markdown table and write the scores as JSON.
//!
//! Predictions file (npz, as the `mlff-metrics` README documents): `energies (T)` and
//! `forces (T, N, 3)`, float64 or float32, optional 0-d string `unit` (or `energy_unit`, as
//! `cargo xtask potential` writes) = `kcal/mol` (default), `eV` or `meV`; forces in that unit
//! per Å. Frame `t` is the run's `t`-th test frame in ascending index order — or, when T equals
//! the dataset's frame count, frame `t` of the dataset (predictions on every frame).

use crate::data_cmd::UnitArg;
use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use mlff_data::format::npz::NpzReader;
use mlff_data::{Dataset, LengthUnit, Species};
use mlff_metrics::{AtomicNumbers, EnergyUnit, Labels, ScoreRow, Scores, SummaryTable, score};
use mlff_splits::{SINGLE_DATASET, SplitRun};
use ndarray::{Array1, Array3, ArrayD, Axis, IxDyn};
use std::path::{Path, PathBuf};

/// Options of `score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The labelled dataset the split was made of.
    #[arg(long)]
    pub data: PathBuf,
    /// The split (`cargo xtask split create …`).
    #[arg(long)]
    pub split: PathBuf,
    /// Predictions npz, one per run of the split in run order (repeat or comma-separate);
    /// a single file for a single-run split or for the run chosen with `--run`.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "model_card",
        conflicts_with = "model_card"
    )]
    pub pred: Vec<PathBuf>,
    /// Instead of predictions files: an external model whose serving command evaluates every
    /// run's test frames.
    #[command(flatten)]
    pub served: crate::potential_cmd::ServedModelArgs,
    /// With one predictions file for a multi-run split: the run's number (0-based, in
    /// `split show` order).
    #[arg(long)]
    pub run: Option<usize>,
    /// Unit of the reported errors (forces: per Å).
    #[arg(long, value_enum, default_value = "kcal-mol")]
    pub unit: UnitArg,
    /// Write all scores (with per-element and per-frame errors) as JSON here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Predictions of one model: energies `(T)`, forces `(T, N, 3)` and their unit.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// Total energies.
    pub energies: Array1<f64>,
    /// Forces.
    pub forces: Array3<f64>,
    /// Unit of energies (forces: per Å).
    pub unit: EnergyUnit,
}

/// The metrics unit for a command-line unit.
pub fn metrics_unit(unit: UnitArg) -> EnergyUnit {
    match unit {
        UnitArg::KcalMol => EnergyUnit::KcalPerMol,
        UnitArg::Ev => EnergyUnit::ElectronVolt,
        UnitArg::Mev => EnergyUnit::MilliElectronVolt,
    }
}

fn data_unit(unit: EnergyUnit) -> mlff_data::EnergyUnit {
    match unit {
        EnergyUnit::KcalPerMol => mlff_data::EnergyUnit::KcalPerMol,
        EnergyUnit::ElectronVolt => mlff_data::EnergyUnit::ElectronVolt,
        EnergyUnit::MilliElectronVolt => mlff_data::EnergyUnit::MilliElectronVolt,
    }
}

/// Float array `key` of `npz` as a C-order array (any float width, order or endianness:
/// `mlff_data`'s reader handles numpy's variants).
fn read_floats(npz: &mut NpzReader, key: &str) -> Result<Option<ArrayD<f64>>> {
    let Some(array) = npz.floats(key)? else {
        return Ok(None);
    };
    Ok(Some(ArrayD::from_shape_vec(
        IxDyn(&array.shape),
        array.values,
    )?))
}

/// Reads a predictions npz (see the module docs).
pub fn read_predictions(path: &Path) -> Result<Predictions> {
    let inner = || -> Result<Predictions> {
        let mut archive = NpzReader::open(path)?;
        let energies = read_floats(&mut archive, "energies")?
            .context("no `energies` array (expected energies (T) and forces (T, N, 3))")?;
        let forces = read_floats(&mut archive, "forces")?
            .context("no `forces` array (expected energies (T) and forces (T, N, 3))")?;
        let unit = match archive.string("unit")? {
            Some(u) => Some(u),
            None => archive.string("energy_unit")?,
        };
        let unit = match unit {
            Some(u) => u.parse::<EnergyUnit>()?,
            None => EnergyUnit::KcalPerMol,
        };
        ensure!(
            energies.ndim() == 1,
            "`energies` has shape {:?}; expected (T,)",
            energies.shape()
        );
        ensure!(
            forces.ndim() == 3 && forces.shape()[2] == 3 && forces.shape()[0] == energies.len(),
            "`forces` has shape {:?}; expected (T, N, 3) with T = {} (from `energies`)",
            forces.shape(),
            energies.len()
        );
        Ok(Predictions {
            energies: energies.into_dimensionality()?,
            forces: forces.into_dimensionality()?,
            unit,
        })
    };
    inner().with_context(|| format!("reading predictions {}", path.display()))
}

/// Scores `pred` on the test frames of `run` (reference labels from `data`).
pub fn score_run(data: &Dataset, run: &SplitRun, pred: &Predictions) -> Result<Scores> {
    ensure!(
        run.test.dataset == SINGLE_DATASET,
        "run `{}` tests on dataset `{}`: cross-dataset splits are scored one dataset at a time",
        run.name,
        run.test.dataset
    );
    let test = &run.test.frames;
    let t = pred.energies.len();
    // Predictions on every frame of the dataset are accepted too (what `potential` writes).
    let (pe, pf) = if t == test.len() {
        (pred.energies.clone(), pred.forces.clone())
    } else if t == data.len() {
        (
            pred.energies.select(Axis(0), test),
            pred.forces.select(Axis(0), test),
        )
    } else {
        bail!(
            "predictions hold {t} frames; run `{}` has {} test frames (and the dataset {} frames)",
            run.name,
            test.len(),
            data.len()
        );
    };
    ensure!(
        pf.shape()[1] == data.n_atoms(),
        "predicted forces have {} atoms per frame; the dataset has {}",
        pf.shape()[1],
        data.n_atoms()
    );
    let reference = data
        .with_length_unit(LengthUnit::Angstrom)
        .with_energy_unit(data_unit(pred.unit));
    let re = reference.require_energies()?.select(Axis(0), test);
    let rf = reference.require_forces()?.select(Axis(0), test);
    let per_frame_z;
    let z = match reference.species() {
        Species::Fixed(z) => AtomicNumbers::Shared(z.view()),
        Species::PerFrame(z) => {
            per_frame_z = z.select(Axis(0), test);
            AtomicNumbers::PerFrame(per_frame_z.view())
        }
    };
    Ok(score(
        &Labels::new(pe.view(), pf.view()),
        &Labels::new(re.view(), rf.view()),
        &z,
        pred.unit,
    )?)
}

/// Pairs predictions files with the split's runs.
fn runs_to_score(args: &ScoreArgs, runs: Vec<SplitRun>) -> Result<Vec<(SplitRun, PathBuf)>> {
    let names = || {
        runs.iter()
            .enumerate()
            .map(|(i, r)| format!("{i}: {}", r.name))
            .collect::<Vec<_>>()
            .join("; ")
    };
    match (args.run, args.pred.as_slice()) {
        (Some(i), [pred]) => {
            let run = runs.get(i).cloned().with_context(|| {
                format!("--run {i}: the split has {} runs ({})", runs.len(), names())
            })?;
            Ok(vec![(run, pred.clone())])
        }
        (Some(_), _) => bail!("--run takes exactly one --pred file"),
        (None, preds) if preds.len() == runs.len() => {
            Ok(runs.into_iter().zip(preds.iter().cloned()).collect())
        }
        (None, preds) => bail!(
            "{} predictions files for a split with {} runs ({}): give one per run, or one with --run",
            preds.len(),
            runs.len(),
            names()
        ),
    }
}

/// Runs `score`.
pub fn run(args: &ScoreArgs) -> Result<()> {
    let data =
        mlff_data::load(&args.data).with_context(|| format!("loading {}", args.data.display()))?;
    let split = crate::split_cmd::read_checked_split(&args.split, &data)?;
    let unit = metrics_unit(args.unit);
    let mut scored = Vec::new();
    let runs = match (&args.served.model_card, &args.served.model_dir) {
        (Some(card), Some(_)) => split
            .runs()
            .into_iter()
            .map(|run| (run, card.clone()))
            .collect(),
        _ => runs_to_score(args, split.runs())?,
    };
    for (run, pred_path) in runs {
        let pred = match (&args.served.model_card, &args.served.model_dir) {
            (Some(card), Some(model_dir)) => served_predictions(card, model_dir, &data, &run)?,
            _ => read_predictions(&pred_path)?,
        };
        let scores = score_run(&data, &run, &pred)
            .with_context(|| format!("scoring {} on run `{}`", pred_path.display(), run.name))?
            .in_unit(unit);
        tracing::info!(run = %run.name, frames = scores.n_frames, "scored");
        scored.push((run.name, pred_path, scores));
    }
    let rows: Vec<ScoreRow<'_>> = scored
        .iter()
        .map(|(name, _, scores)| ScoreRow {
            label: name,
            scores,
            intervals: None,
        })
        .collect();
    println!("{}", SummaryTable::from_scores(unit, &rows).to_markdown());
    if let Some(out) = &args.out {
        let json = serde_json::json!({
            "data": args.data,
            "split": args.split,
            "unit": unit,
            "runs": scored.iter().map(|(name, pred, scores)| serde_json::json!({
                "run": name, "predictions": pred, "scores": scores,
            })).collect::<Vec<_>>(),
        });
        write_json(out, &json)?;
        tracing::info!(out = %out.display(), "scores written");
    }
    Ok(())
}

/// The external model's predictions on the test frames of `run` (ascending index order, as a
/// predictions file lists them).
fn served_predictions(
    card: &Path,
    model_dir: &Path,
    data: &Dataset,
    run: &SplitRun,
) -> Result<Predictions> {
    let mut frames = run.test.frames.clone();
    frames.sort_unstable();
    let subset = data
        .select(&frames)?
        .to_dataset()?
        .converted(mlff_data::Units::KCAL_MOL_ANGSTROM);
    let p = crate::potential_cmd::external_predictions(card, model_dir, &subset)?;
    let (t, n) = (subset.len(), subset.n_atoms());
    Ok(Predictions {
        energies: Array1::from(p.energies),
        forces: Array3::from_shape_vec((t, n, 3), p.forces)?,
        unit: EnergyUnit::KcalPerMol,
    })
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    mlff_data::write_atomically(path, |file| {
        serde_json::to_writer_pretty(&mut *file, value).map_err(|e| mlff_data::DataError::Io {
            file: path.to_path_buf(),
            source: e.into(),
        })
    })
    .with_context(|| format!("writing {}", path.display()))
}
