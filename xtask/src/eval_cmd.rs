//! `cargo xtask eval`: a NequIP model (our checkpoint or a pip-nequip export) on any dataset
//! file — per-atom energy MAE and force MAE against the file's labels, predictions as npz.

use anyhow::{Context, Result, ensure};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use mlff_bench::device::Device;
use mlff_data::{Dataset, Units};
use mlff_metrics::{AtomicNumbers, Labels, score};
use mlff_nequip::{Checkpoint, DatasetBatches, Nequip, load_nequip_dir};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Options of `eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Our checkpoint (JSON), or a directory with pip nequip's `config.json` + `weights.npz`.
    #[arg(long)]
    pub model: PathBuf,
    /// Frames to evaluate (MD17/rMD17 npz, extended XYZ, …).
    #[arg(long)]
    pub data: PathBuf,
    /// Output npz: `energies (T)`, `forces (T,N,3)` in the data's frame order.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these frames, `START..END` (end exclusive), e.g. a time-holdout segment.
    #[arg(long, value_parser = crate::soap_cmd::parse_range)]
    pub frames: Option<crate::soap_cmd::FrameRange>,
    /// Frames per batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
}

/// A model from a checkpoint file or a nequip export directory, with its training units
/// (`None` when the export does not say).
pub fn load_model(path: &Path) -> Result<(Nequip, Option<Units>)> {
    if path.is_dir() {
        let model = load_nequip_dir(path)
            .with_context(|| format!("loading nequip export {}", path.display()))?;
        return Ok((model, None));
    }
    let ckpt = Checkpoint::load(path)?;
    let model = ckpt
        .model()
        .with_context(|| format!("rebuilding the model of {}", path.display()))?;
    Ok((model, ckpt.units))
}

/// Predictions of `model` for every frame of `data` (in the model's units) on `device`, with
/// a progress bar.
pub fn predict_all(
    model: &Nequip,
    data: &Dataset,
    batch: usize,
    device: Device,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let predictor = device.open()?.predictor(Arc::new(model.clone()))?;
    let bar = ProgressBar::new(data.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("eval {bar:30} {pos}/{len} frames {per_sec} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let indices: Vec<usize> = (0..data.len()).collect();
    let batches = DatasetBatches {
        model,
        data,
        indices: &indices,
        batch_frames: batch,
    };
    let p = batches
        .predict(
            |g| predictor.predict_graph(g),
            |done| bar.set_position(done as u64),
        )
        .with_context(|| format!("predicting on {}", predictor.executor()))?;
    bar.finish_and_clear();
    Ok((p.energies, p.forces))
}

/// Runs `eval`; returns the per-atom energy MAE and force component MAE (model units).
pub fn run(args: &EvalArgs) -> Result<(f64, f64)> {
    let (model, units) = load_model(&args.model)?;
    let raw =
        mlff_data::load(&args.data).with_context(|| format!("loading {}", args.data.display()))?;
    let units = units.unwrap_or(raw.units());
    let raw = match args.frames {
        Some(r) => {
            let r = r
                .resolve(raw.len())
                .with_context(|| format!("--frames for {}", args.data.display()))?;
            raw.select(&r.collect::<Vec<_>>())?.to_dataset()?
        }
        None => raw,
    };
    let data = raw.converted(units);
    let (energies, forces) = predict_all(&model, &data, args.batch, args.device)?;
    let (t, n) = (data.len(), data.n_atoms());
    if let Some(out) = &args.out {
        mlff_data::format::write_npz_arrays(out, |w| {
            w.floats("energies", &[t], energies.iter())?;
            w.floats("forces", &[t, n, 3], forces.iter())?;
            w.string("energy_unit", units.energy.symbol())
        })?;
        tracing::info!(frames = t, out = %out.display(), "predictions written");
    }
    let (Some(ref_e), Some(ref_f)) = (data.energies(), data.forces()) else {
        println!(
            "{}: {t} frames predicted (the file has no labels to compare with)",
            args.data.display()
        );
        return Ok((f64::NAN, f64::NAN));
    };
    ensure!(t > 0, "{} has no frames", args.data.display());
    let predicted = Labels::from_slices(&energies, &forces, n)?;
    let reference = Labels::new(ref_e.view(), ref_f.view());
    let species = match data.species() {
        mlff_data::Species::Fixed(z) => AtomicNumbers::Shared(z.view()),
        mlff_data::Species::PerFrame(z) => AtomicNumbers::PerFrame(z.view()),
    };
    let s = score(&predicted, &reference, &species, units.energy)?;
    let unit = units.energy.symbol();
    println!(
        "{}: {t} frames; energy MAE {:.4} {unit}/atom; force MAE {:.4} {unit}/Å (RMSE {:.4})",
        args.data.display(),
        s.energy.per_atom_mae,
        s.forces.component_mae,
        s.forces.component_rmse
    );
    Ok((s.energy.per_atom_mae, s.forces.component_mae))
}
