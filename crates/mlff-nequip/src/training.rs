//! Training a NequIP model on a dataset with `mlff-train`: the objective, the statistics nequip
//! derives from the training set, and the run with checkpoints of the model.

use crate::architecture::Architecture;
use crate::checkpoint::Checkpoint;
use crate::config::{NequipConfig, PerType, Precision};
use crate::dataset::graph_of_frames;
use crate::error::{NequipError, Result};
use crate::loss::{
    LossPasses, Targets, batch_errors, batch_loss_gradient, errors_with, loss_gradient_with,
};
use crate::model::Nequip;
use crate::types::TypeMap;
use mlff_data::Dataset;
use mlff_train::{
    CheckpointKind, DataStats, LossFunction, LossParts, Objective, ObjectiveError, TrainConfig,
    TrainOutcome, TrainState, Trainer,
};
use ndarray::Axis;
use std::path::{Path, PathBuf};

/// Frames per graph when evaluating (validation, test).
const EVAL_BATCH: usize = 32;

/// A model's loss on labelled datasets, for `mlff_train::Trainer`. Example `k` is frame
/// `k` of the datasets concatenated in order, so one objective can mix molecules.
pub struct NequipObjective<'a> {
    arch: &'a Architecture,
    types: &'a TypeMap,
    r_max: f64,
    precision: Precision,
    datasets: Vec<&'a Dataset>,
    examples: Vec<(usize, usize)>,
    /// Where the passes run; `None`: the CPU in the model's precision.
    passes: Option<&'a dyn LossPasses>,
}

impl<'a> NequipObjective<'a> {
    /// The objective of `model`'s architecture on `datasets` (each with energies and forces, in
    /// the model's units).
    pub fn new(model: &'a Nequip, datasets: &[&'a Dataset]) -> Result<Self> {
        let mut examples = Vec::new();
        for (k, data) in datasets.iter().enumerate() {
            data.require_energies()?;
            data.require_forces()?;
            examples.extend((0..data.len()).map(|i| (k, i)));
        }
        Ok(Self {
            arch: model.architecture(),
            types: model.types(),
            r_max: model.config().r_max,
            precision: model.config().precision()?,
            datasets: datasets.to_vec(),
            examples,
            passes: None,
        })
    }

    /// Runs the loss passes on `passes` (e.g. a GPU) instead of the CPU.
    pub fn on(mut self, passes: &'a dyn LossPasses) -> Self {
        self.passes = Some(passes);
        self
    }

    fn frames(&self, indices: &[usize]) -> Vec<(&'a Dataset, usize)> {
        indices
            .iter()
            .map(|&i| {
                let (k, f) = self.examples[i];
                (self.datasets[k], f)
            })
            .collect()
    }

    fn targets(&self, indices: &[usize]) -> (Vec<f64>, Vec<f64>) {
        let mut energies = Vec::with_capacity(indices.len());
        let mut forces = Vec::new();
        for (data, i) in self.frames(indices) {
            energies.push(data.energies().expect("checked in new")[i]);
            let f = data.forces().expect("checked in new");
            forces.extend(f.index_axis(Axis(0), i).iter().copied());
        }
        (energies, forces)
    }

    fn graph(&self, indices: &[usize]) -> Result<crate::graph::AtomicGraph> {
        graph_of_frames(self.types, self.r_max, &self.frames(indices))
    }

    fn batch_gradient(
        &self,
        params: &[f64],
        batch: &[usize],
        loss: &LossFunction,
    ) -> Result<(LossParts, Vec<f64>)> {
        let graph = self.graph(batch)?;
        let (energies, forces) = self.targets(batch);
        let targets = Targets {
            energies: &energies,
            forces: &forces,
        };
        match (self.passes, self.precision) {
            (Some(p), _) => loss_gradient_with(p, params, &graph, targets, loss),
            (None, Precision::F32) => {
                batch_loss_gradient::<f32>(self.arch, params, &graph, targets, loss)
            }
            (None, Precision::F64) => {
                batch_loss_gradient::<f64>(self.arch, params, &graph, targets, loss)
            }
        }
    }

    fn errors(&self, params: &[f64], indices: &[usize]) -> Result<LossParts> {
        let mut total = LossParts::default();
        for chunk in indices.chunks(EVAL_BATCH) {
            let graph = self.graph(chunk)?;
            let (energies, forces) = self.targets(chunk);
            let targets = Targets {
                energies: &energies,
                forces: &forces,
            };
            let parts = match (self.passes, self.precision) {
                (Some(p), _) => errors_with(p, params, &graph, targets)?,
                (None, Precision::F32) => batch_errors::<f32>(self.arch, params, &graph, targets)?,
                (None, Precision::F64) => batch_errors::<f64>(self.arch, params, &graph, targets)?,
            };
            total.merge(&parts);
        }
        Ok(total)
    }
}

impl Objective for NequipObjective<'_> {
    fn n_examples(&self) -> usize {
        self.examples.len()
    }

    fn n_params(&self) -> usize {
        self.arch.layout.len()
    }

    fn loss_and_gradient(
        &self,
        params: &[f64],
        batch: &[usize],
        loss: &LossFunction,
        grad: &mut [f64],
    ) -> std::result::Result<LossParts, ObjectiveError> {
        let (parts, g) = self.batch_gradient(params, batch, loss)?;
        grad.copy_from_slice(&g);
        Ok(parts)
    }

    fn evaluate(
        &self,
        params: &[f64],
        indices: &[usize],
    ) -> std::result::Result<LossParts, ObjectiveError> {
        Ok(self.errors(params, indices)?)
    }
}

/// Fills in what nequip derives from the training data (`avg_num_neighbors`, per-type energy
/// shifts from a least-squares fit on species counts, per-type scales = force RMS) where the
/// configuration leaves them unset; `train` holds example indices over `datasets`
/// concatenated. With several datasets (molecules), each one's statistics are computed on its
/// own training frames and combined weighted by atom counts (shifts per species, squared
/// force RMS, neighbour counts). Returns the statistics of each dataset that has training
/// frames.
pub fn apply_training_statistics(
    config: &mut NequipConfig,
    datasets: &[&Dataset],
    train: &[usize],
) -> Result<Vec<DataStats>> {
    let mut offset = 0;
    let mut all = Vec::new();
    for data in datasets {
        let local: Vec<usize> = train
            .iter()
            .filter(|&&i| i >= offset && i < offset + data.len())
            .map(|&i| i - offset)
            .collect();
        offset += data.len();
        if !local.is_empty() {
            all.push(
                DataStats::compute(data, &local, config.r_max)
                    .map_err(|e| NequipError::Config(format!("training statistics: {e}")))?,
            );
        }
    }
    if all.is_empty() {
        return Err(NequipError::Config("no training frames".into()));
    }
    let types = TypeMap::from_symbols(&config.type_names)?;
    let atoms = |s: &DataStats| s.species_atom_counts.iter().sum::<usize>() as f64;
    let total_atoms: f64 = all.iter().map(atoms).sum();
    if config.avg_num_neighbors.is_none() {
        let avg = all
            .iter()
            .map(|s| s.avg_num_neighbors * atoms(s))
            .sum::<f64>()
            / total_atoms;
        config.avg_num_neighbors = Some(avg.max(1e-3));
    }
    if config.per_type_energy_shifts.is_none() {
        let shifts = types
            .atomic_numbers()
            .iter()
            .map(|&z| {
                let (mut sum, mut count) = (0.0, 0.0);
                for s in &all {
                    if let (Some(shift), Some(k)) =
                        (s.energy_shift_of(z), s.species.iter().position(|&x| x == z))
                    {
                        let n = s.species_atom_counts[k] as f64;
                        sum += shift * n;
                        count += n;
                    }
                }
                if count > 0.0 { sum / count } else { 0.0 }
            })
            .collect();
        config.per_type_energy_shifts = Some(PerType::List(shifts));
    }
    if config.per_type_energy_scales.is_none() {
        let ms = all
            .iter()
            .map(|s| s.forces_rms.unwrap_or(0.0).powi(2) * atoms(s))
            .sum::<f64>()
            / total_atoms;
        let rms = if ms > 0.0 { ms.sqrt() } else { 1.0 };
        config.per_type_energy_scales = Some(PerType::Uniform(rms));
    }
    Ok(all)
}

/// Where a run writes: the trainer's state files plus our model checkpoints.
#[derive(Clone, Debug)]
pub struct RunFiles {
    /// The run directory.
    pub dir: PathBuf,
}

impl RunFiles {
    /// Model with the best validation metric.
    pub fn best_model(&self) -> PathBuf {
        self.dir.join("best_model.json")
    }
    /// Model at the last checkpoint.
    pub fn last_model(&self) -> PathBuf {
        self.dir.join("last_model.json")
    }
    /// The trainer's resumable state.
    pub fn state(&self) -> PathBuf {
        self.dir.join(mlff_train::STATE_FILE)
    }
}

/// A finished run: the best model (by the validation metric) and the trainer's outcome.
pub struct TrainedModel {
    /// The model with the best validation weights (EMA weights when `use_ema`).
    pub model: Nequip,
    /// The trainer's final state and stop reason.
    pub outcome: TrainOutcome,
}

/// How [`train`] runs besides what it trains: where the loss passes run, where checkpoints go,
/// whether to resume from them, whether to show a progress bar.
#[derive(Clone, Copy, Default)]
pub struct TrainOptions<'a> {
    /// The loss passes (e.g. `mlff_nequip_cuda::DevicePasses` on a GPU); `None`: the CPU. The
    /// optimiser, schedules and checkpoints stay on the host either way.
    pub passes: Option<&'a dyn LossPasses>,
    /// Directory for checkpoints, curves and the trainer state (`None`: nothing is written).
    pub dir: Option<&'a Path>,
    /// Continue from the trainer state in `dir` when there is one.
    pub resume: bool,
    /// Show a progress bar.
    pub progress: bool,
}

/// Trains `model` (already carrying its statistics) on examples `train` of `datasets`
/// (concatenated), validating on `val`, as `options` say.
pub fn train(
    model: Nequip,
    config: TrainConfig,
    datasets: &[&Dataset],
    train: Vec<usize>,
    val: Vec<usize>,
    options: TrainOptions<'_>,
) -> Result<TrainedModel> {
    let TrainOptions {
        passes,
        dir,
        resume,
        progress,
    } = options;
    let mut objective = NequipObjective::new(&model, datasets)?;
    if let Some(p) = passes {
        objective = objective.on(p);
    }
    let units = datasets.first().map(|d| d.units());
    let mut best: Option<Vec<f64>> = None;
    let outcome = {
        let mut trainer = Trainer::new(&objective, config, train, val)?.progress(progress);
        if let Some(dir) = dir {
            trainer = trainer.output_dir(dir);
        }
        let files = dir.map(|d| RunFiles {
            dir: d.to_path_buf(),
        });
        let template = &model;
        let best_ref = &mut best;
        trainer = trainer.on_checkpoint(move |event| {
            let mut m = template.clone();
            m.set_params(event.weights)?;
            if matches!(event.kind, CheckpointKind::Best) {
                *best_ref = Some(event.weights.to_vec());
            }
            if let Some(files) = &files {
                let meta =
                    serde_json::json!({"epoch": event.epoch, "kind": format!("{:?}", event.kind)});
                let path = match event.kind {
                    CheckpointKind::Best => files.best_model(),
                    _ => files.last_model(),
                };
                Checkpoint::of(&m, units, meta).save(&path)?;
            }
            Ok(())
        });
        match (dir, resume) {
            (Some(d), true) if d.join(mlff_train::STATE_FILE).is_file() => {
                let state = TrainState::load(&d.join(mlff_train::STATE_FILE))?;
                trainer.resume(state)?
            }
            _ => trainer.run(model.params().to_vec())?,
        }
    };
    let mut final_model = model;
    let weights = match (&best, dir) {
        (Some(w), _) => w.clone(),
        (None, Some(d)) if d.join("best_model.json").is_file() => {
            Checkpoint::load(&d.join("best_model.json"))?.params
        }
        _ => outcome.state.model_weights().to_vec(),
    };
    final_model.set_params(&weights)?;
    Ok(TrainedModel {
        model: final_model,
        outcome,
    })
}
