//! The training loop: seeded per-epoch shuffles, mini-batch Adam steps with optional clipping
//! and EMA, validation on the evaluation weights, the plateau scheduler, best-model tracking,
//! checkpoints, early stopping, the curve on disk, a progress bar and tracing logs.
//!
//! Order of operations per epoch (nequip's): train over the shuffled batches (clip → Adam → EMA
//! per step); validate with the EMA weights; record the epoch (its `LR` is the rate used during
//! the epoch); step the scheduler on `metrics_key`; save the best model if `metrics_key`
//! improved; write the periodic checkpoint; evaluate early stopping. Stop conditions (early
//! stopping, `max_epochs`, wall time, an interrupt) are checked between epochs, so every
//! checkpoint lies on an epoch boundary and resuming from it is exact.

use crate::config::{Metric, SchedulerName, TrainConfig};
use crate::curve::{CurveCsv, plot_curve};
use crate::early_stopping::EarlyStopping;
use crate::ema::Ema;
use crate::error::{ObjectiveError, Result, TrainError};
use crate::loss::{LossFunction, LossParts};
use crate::objective::Objective;
use crate::optimizer::{Adam, clip_gradient_norm};
use crate::scheduler::ReduceLrOnPlateau;
use crate::state::{BestEpoch, EpochRecord, TrainState};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Logs a training event at info level when the run shows its own progress bar, at debug
/// level when it is embedded in a larger job (a benchmark grid with bars of its own).
macro_rules! progress_event {
    ($shown:expr, $($event:tt)+) => {
        if $shown {
            tracing::info!($($event)+)
        } else {
            tracing::debug!($($event)+)
        }
    };
}

/// The latest full training state in the output directory.
pub const STATE_FILE: &str = "state.ckpt";
/// The full training state at the best epoch.
pub const BEST_STATE_FILE: &str = "best.ckpt";
/// The training curve as CSV.
pub const CURVE_CSV_FILE: &str = "curve.csv";
/// The training curve as SVG.
pub const CURVE_SVG_FILE: &str = "curve.svg";

/// Why a checkpoint is being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointKind {
    /// `metrics_key` reached a new best.
    Best,
    /// Every `save_checkpoint_freq` epochs.
    Periodic,
    /// The run ended (any [`StopReason`]).
    Final,
}

/// What the checkpoint hook receives: enough to write the caller's own model file.
pub struct CheckpointEvent<'s> {
    /// Why now.
    pub kind: CheckpointKind,
    /// Completed epochs.
    pub epoch: usize,
    /// The model weights to save (EMA weights when `use_ema`).
    pub weights: &'s [f64],
    /// The full state (metrics, curve, configuration).
    pub state: &'s TrainState,
    /// The output directory, if one was set.
    pub dir: Option<&'s Path>,
}

/// Why a run ended normally.
#[derive(Debug, Clone, PartialEq)]
pub enum StopReason {
    /// `max_epochs` epochs completed.
    MaxEpochs,
    /// An early-stopping condition fired (the message says which).
    EarlyStopping(String),
    /// `max_wall_time_s` elapsed.
    WallTime,
    /// The interrupt flag was raised.
    Interrupted,
}

/// The end of a run: the final state and why it stopped.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// The state after the last completed epoch.
    pub state: TrainState,
    /// Why training stopped.
    pub stop: StopReason,
}

type Hook<'a> = Box<dyn FnMut(&CheckpointEvent<'_>) -> Result<(), ObjectiveError> + 'a>;

/// Trains an [`Objective`] on fixed training and validation indices.
pub struct Trainer<'a, O: Objective + ?Sized> {
    objective: &'a O,
    config: TrainConfig,
    loss: LossFunction,
    train: Vec<usize>,
    val: Vec<usize>,
    dir: Option<PathBuf>,
    show_progress: bool,
    hook: Option<Hook<'a>>,
    interrupt: Option<Arc<AtomicBool>>,
}

impl<'a, O: Objective + ?Sized> Trainer<'a, O> {
    /// Validates the configuration and the indices (non-empty, in range, no repeats).
    pub fn new(
        objective: &'a O,
        config: TrainConfig,
        train: Vec<usize>,
        val: Vec<usize>,
    ) -> Result<Self> {
        config.validate()?;
        let n = objective.n_examples();
        check_indices("training", &train, n)?;
        check_indices("validation", &val, n)?;
        if train.iter().any(|i| val.contains(i)) {
            tracing::warn!("training and validation sets overlap");
        }
        Ok(Trainer {
            objective,
            loss: config.loss()?,
            config,
            train,
            val,
            dir: None,
            show_progress: false,
            hook: None,
            interrupt: None,
        })
    }

    /// Writes checkpoints and the curve into `dir` (created if missing).
    pub fn output_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Shows a progress bar on stderr (hidden by default).
    pub fn progress(mut self, show: bool) -> Self {
        self.show_progress = show;
        self
    }

    /// Calls `hook` at every best, periodic and final checkpoint (e.g. to save the model file).
    pub fn on_checkpoint(
        mut self,
        hook: impl FnMut(&CheckpointEvent<'_>) -> Result<(), ObjectiveError> + 'a,
    ) -> Self {
        self.hook = Some(Box::new(hook));
        self
    }

    /// Stops cleanly (with a final checkpoint) at the next epoch boundary once `flag` is set.
    pub fn interrupt_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.interrupt = Some(flag);
        self
    }

    /// The loss the objective is trained on.
    pub fn loss(&self) -> &LossFunction {
        &self.loss
    }

    /// The state before the first epoch, starting from `params`.
    pub fn initial_state(&self, params: Vec<f64>) -> Result<TrainState> {
        let n = self.objective.n_params();
        if params.len() != n {
            return Err(TrainError::ParameterCount {
                what: "initial parameter vector",
                expected: n,
                got: params.len(),
            });
        }
        if let Some(i) = params.iter().position(|p| !p.is_finite()) {
            return Err(TrainError::config(
                "initial parameters",
                format!("entry {i} is {}", params[i]),
            ));
        }
        let c = &self.config;
        Ok(TrainState {
            config: c.clone(),
            train_indices: self.train.clone(),
            val_indices: self.val.clone(),
            epoch: 0,
            step: 0,
            lr: c.learning_rate,
            optimizer: Adam::new(n, c.adam())?,
            scheduler: match c.lr_scheduler_name {
                SchedulerName::None => None,
                SchedulerName::ReduceLROnPlateau => Some(ReduceLrOnPlateau::new(c.plateau())?),
            },
            ema: if c.use_ema {
                Some(Ema::new(&params, c.ema_decay, c.ema_use_num_updates)?)
            } else {
                None
            },
            early_stopping: EarlyStopping::default(),
            early_stop_reason: None,
            best: None,
            curve: Vec::new(),
            elapsed_s: 0.0,
            params,
        })
    }

    /// Trains from `params` until a stop condition.
    pub fn run(&mut self, params: Vec<f64>) -> Result<TrainOutcome> {
        let state = self.initial_state(params)?;
        self.train_from(state)
    }

    /// Continues `state` (e.g. [`TrainState::load`]ed) under this trainer's configuration. The
    /// seed, batch size, AMSGrad, EMA and scheduler choice and the indices must match the
    /// state's; limits (`max_epochs`, wall time, patiences, …) may change.
    pub fn resume(&mut self, mut state: TrainState) -> Result<TrainOutcome> {
        self.check_resumable(&state)?;
        state.optimizer.config = self.config.adam();
        if let Some(s) = state.scheduler.as_mut() {
            s.config = self.config.plateau();
        }
        if let Some(e) = state.ema.as_mut() {
            e.decay = self.config.ema_decay;
            e.use_num_updates = self.config.ema_use_num_updates;
        }
        state.config = self.config.clone();
        self.train_from(state)
    }

    fn check_resumable(&self, state: &TrainState) -> Result<()> {
        state
            .check_consistency()
            .map_err(TrainError::ResumeMismatch)?;
        let (old, new) = (&state.config, &self.config);
        let mismatch = |what: &str| {
            Err(TrainError::ResumeMismatch(format!(
                "{what} differs from the checkpoint's"
            )))
        };
        if state.params.len() != self.objective.n_params() {
            return Err(TrainError::ParameterCount {
                what: "checkpoint parameter vector",
                expected: self.objective.n_params(),
                got: state.params.len(),
            });
        }
        if state.train_indices != self.train {
            return mismatch("the training index set");
        }
        if state.val_indices != self.val {
            return mismatch("the validation index set");
        }
        if old.seed != new.seed {
            return mismatch("seed");
        }
        if old.batch_size != new.batch_size {
            return mismatch("batch_size");
        }
        if old.optimizer_amsgrad != new.optimizer_amsgrad {
            return mismatch("optimizer_amsgrad");
        }
        if old.use_ema != new.use_ema {
            return mismatch("use_ema");
        }
        if old.lr_scheduler_name != new.lr_scheduler_name {
            return mismatch("lr_scheduler_name");
        }
        Ok(())
    }

    fn path(&self, file: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(file))
    }

    fn train_from(&mut self, mut st: TrainState) -> Result<TrainOutcome> {
        if let Some(dir) = &self.dir {
            std::fs::create_dir_all(dir).map_err(|source| TrainError::Io {
                file: dir.clone(),
                source,
            })?;
        }
        let mut csv = match self.path(CURVE_CSV_FILE) {
            Some(p) => Some(CurveCsv::create(&p, &st.curve)?),
            None => None,
        };
        // A checkpoint before the first epoch of this session, so a failure always leaves one.
        let mut last_checkpoint = self.save_state(&st, STATE_FILE)?;
        let progress = self.progress_bar(st.epoch);
        let (started, elapsed_before) = (Instant::now(), st.elapsed_s);
        let mut grad = vec![0.0; st.params.len()];
        let stop = loop {
            if let Some(reason) =
                self.stop_reason(&st, elapsed_before + started.elapsed().as_secs_f64())
            {
                break reason;
            }
            let epoch = st.epoch + 1;
            let train_parts = self.train_epoch(&mut st, &mut grad, &last_checkpoint, &progress)?;
            let val_parts = self
                .objective
                .evaluate(st.model_weights(), &st.val_indices)
                .map_err(|source| TrainError::Objective {
                    epoch,
                    phase: "validation".into(),
                    source,
                })?;
            let validation_loss = self.loss.value(&val_parts);
            if !(validation_loss.is_finite() && val_parts.is_finite()) {
                return Err(TrainError::NonFinite {
                    what: format!("validation loss ({validation_loss})"),
                    epoch,
                    step: st.step,
                    batch: Vec::new(),
                    last_checkpoint,
                });
            }
            st.epoch = epoch;
            st.elapsed_s = elapsed_before + started.elapsed().as_secs_f64();
            let record = EpochRecord {
                epoch,
                step: st.step,
                lr: st.lr,
                wall_s: st.elapsed_s,
                training_loss: self.loss.value(&train_parts),
                training: train_parts.metrics(),
                validation_loss,
                validation: val_parts.metrics(),
            };
            st.curve.push(record.clone());
            self.end_of_epoch(&mut st, &record)?;
            if let Some(path) = self.path(STATE_FILE)
                && self.config.save_checkpoint_freq > 0
                && epoch.is_multiple_of(self.config.save_checkpoint_freq)
            {
                st.save(&path)?;
                last_checkpoint = Some(path);
                self.plot(&st)?;
                self.call_hook(CheckpointKind::Periodic, &st)?;
            }
            if let Some(csv) = csv.as_mut() {
                csv.append(&record)?;
            }
            report(&progress, &record);
        };
        progress.finish_and_clear();
        progress_event!(
            self.show_progress,
            epochs = st.epoch,
            ?stop,
            "training stopped"
        );
        self.save_state(&st, STATE_FILE)?;
        self.plot(&st)?;
        self.call_hook(CheckpointKind::Final, &st)?;
        Ok(TrainOutcome { state: st, stop })
    }

    fn stop_reason(&self, st: &TrainState, elapsed_s: f64) -> Option<StopReason> {
        if let Some(r) = &st.early_stop_reason {
            return Some(StopReason::EarlyStopping(r.clone()));
        }
        if st.epoch >= self.config.max_epochs {
            return Some(StopReason::MaxEpochs);
        }
        if self.config.max_wall_time_s.is_some_and(|w| elapsed_s >= w) {
            return Some(StopReason::WallTime);
        }
        if self
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::SeqCst))
        {
            return Some(StopReason::Interrupted);
        }
        None
    }

    /// One pass over the shuffled training indices; returns the summed errors of its batches.
    fn train_epoch(
        &self,
        st: &mut TrainState,
        grad: &mut [f64],
        last_checkpoint: &Option<PathBuf>,
        progress: &ProgressBar,
    ) -> Result<LossParts> {
        let epoch = st.epoch + 1;
        let order = epoch_order(&st.train_indices, self.config.seed, epoch);
        let mut parts = LossParts::default();
        for batch in order.chunks(self.config.batch_size) {
            grad.fill(0.0);
            let p = self
                .objective
                .loss_and_gradient(&st.params, batch, &self.loss, grad)
                .map_err(|source| TrainError::Objective {
                    epoch,
                    phase: format!("training step {}", st.step + 1),
                    source,
                })?;
            let loss = self.loss.value(&p);
            let bad = if !(loss.is_finite() && p.is_finite()) {
                Some(format!("training loss ({loss})"))
            } else {
                grad.iter()
                    .position(|g| !g.is_finite())
                    .map(|i| format!("gradient entry {i} ({})", grad[i]))
            };
            if let Some(what) = bad {
                return Err(TrainError::NonFinite {
                    what,
                    epoch,
                    step: st.step,
                    batch: batch.to_vec(),
                    last_checkpoint: last_checkpoint.clone(),
                });
            }
            if let Some(max_norm) = self.config.max_gradient_norm {
                clip_gradient_norm(grad, max_norm);
            }
            st.optimizer.step(&mut st.params, grad, st.lr)?;
            if let Some(ema) = st.ema.as_mut() {
                ema.update(&st.params);
            }
            st.step += 1;
            parts.merge(&p);
            progress.tick();
        }
        Ok(parts)
    }

    /// Scheduler, best model and early stopping after an epoch's record is in the curve.
    fn end_of_epoch(&mut self, st: &mut TrainState, record: &EpochRecord) -> Result<()> {
        let key = self.config.metrics_key;
        let metric = metric_value(record, key, "metrics_key")?;
        if let Some(s) = st.scheduler.as_mut() {
            let new_lr = s.step(metric, st.lr);
            if new_lr != st.lr {
                progress_event!(
                    self.show_progress,
                    epoch = record.epoch,
                    from = st.lr,
                    to = new_lr,
                    "learning rate reduced"
                );
            }
            st.lr = new_lr;
        }
        if st.best.is_none_or(|b| metric < b.metric) {
            st.best = Some(BestEpoch {
                epoch: record.epoch,
                metric,
            });
            self.save_state(st, BEST_STATE_FILE)?;
            self.call_hook(CheckpointKind::Best, st)?;
        }
        let conditions = self.config.early_stopping();
        st.early_stop_reason = st
            .early_stopping
            .check(&conditions, |m| metric_value(record, m, "early_stopping"))?;
        progress_event!(
            self.show_progress,
            epoch = record.epoch,
            training_loss = record.training_loss,
            validation_loss = record.validation_loss,
            validation_e_mae = record.validation.energy_per_atom_mae,
            validation_f_mae = record.validation.force_mae,
            lr = record.lr,
            "epoch done"
        );
        Ok(())
    }

    /// Saves `st` as `file` in the output directory; returns the path (None without a directory).
    fn save_state(&self, st: &TrainState, file: &str) -> Result<Option<PathBuf>> {
        let Some(path) = self.path(file) else {
            return Ok(None);
        };
        st.save(&path)?;
        Ok(Some(path))
    }

    fn plot(&self, st: &TrainState) -> Result<()> {
        match self.path(CURVE_SVG_FILE) {
            Some(p) if !st.curve.is_empty() => plot_curve(&p, &st.curve),
            _ => Ok(()),
        }
    }

    fn call_hook(&mut self, kind: CheckpointKind, st: &TrainState) -> Result<()> {
        let Some(hook) = self.hook.as_mut() else {
            return Ok(());
        };
        let event = CheckpointEvent {
            kind,
            epoch: st.epoch,
            weights: st.model_weights(),
            state: st,
            dir: self.dir.as_deref(),
        };
        hook(&event).map_err(|source| TrainError::Hook {
            epoch: st.epoch,
            source,
        })
    }

    fn progress_bar(&self, done: usize) -> ProgressBar {
        if !self.show_progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(self.config.max_epochs as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} epoch {pos}/{len} [{elapsed_precise}] {wide_bar} ETA {eta} {msg}",
            )
            .expect("static template is valid"),
        );
        bar.set_position(done as u64);
        bar
    }
}

/// The order of the training indices in `epoch` (1-based): a ChaCha8 shuffle on stream `epoch`
/// of the seed, so any epoch's order is known without replaying earlier ones.
pub fn epoch_order(train: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(epoch as u64);
    let mut order = train.to_vec();
    order.shuffle(&mut rng);
    order
}

fn metric_value(record: &EpochRecord, metric: Metric, field: &'static str) -> Result<f64> {
    record.metric(metric).ok_or(TrainError::MissingMetric {
        metric: metric.name().to_string(),
        field,
        epoch: record.epoch,
        reason: "the data have no labels of that kind",
    })
}

fn report(progress: &ProgressBar, r: &EpochRecord) {
    let f_mae = r
        .validation
        .force_mae
        .map_or("-".to_string(), |v| format!("{v:.4}"));
    progress.set_position(r.epoch as u64);
    progress.set_message(format!(
        "loss {:.3e} val {:.3e} val F MAE {f_mae} lr {:.1e}",
        r.training_loss, r.validation_loss, r.lr
    ));
}

fn check_indices(set: &'static str, indices: &[usize], n_examples: usize) -> Result<()> {
    let err = |reason: String| Err(TrainError::InvalidSplit { set, reason });
    if indices.is_empty() {
        return err("the set is empty".into());
    }
    if let Some(&i) = indices.iter().find(|&&i| i >= n_examples) {
        return err(format!(
            "index {i} is out of range (the objective has {n_examples} examples)"
        ));
    }
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return err(format!("index {} appears more than once", w[0]));
    }
    Ok(())
}
