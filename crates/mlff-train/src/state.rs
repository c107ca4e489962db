//! The complete training state and its checkpoint file.
//!
//! File layout (little-endian): the 16-byte magic `MLFF-TRAIN-STATE`, a `u32` format version, a
//! `u64` byte count and that many bytes of JSON (everything except parameter-sized vectors), a
//! `u64` block count, then per block a `u64` length and that many `f64`s: parameters, Adam's
//! first and second moments, AMSGrad's maxima (empty without AMSGrad), EMA weights (empty without
//! EMA). Vectors are stored as raw bits so a resumed run continues bit-for-bit; JSON floats are
//! written shortest-round-trip and parsed exactly (serde_json `float_roundtrip`).

use crate::config::{Metric, TrainConfig};
use crate::early_stopping::EarlyStopping;
use crate::ema::Ema;
use crate::error::{Result, TrainError};
use crate::loss::ErrorMetrics;
use crate::optimizer::Adam;
use crate::scheduler::ReduceLrOnPlateau;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::Path;

const MAGIC: &[u8; 16] = b"MLFF-TRAIN-STATE";
const FORMAT_VERSION: u32 = 1;

/// One row of the training curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch (1-based).
    pub epoch: usize,
    /// Optimiser steps completed by the end of the epoch.
    pub step: u64,
    /// The learning rate used during the epoch.
    pub lr: f64,
    /// Cumulative wall-clock seconds at the end of the epoch (across resumes).
    pub wall_s: f64,
    /// Loss over the epoch's training batches (each at its step's weights).
    pub training_loss: f64,
    /// Metrics over the epoch's training batches.
    pub training: ErrorMetrics,
    /// Loss on the validation set with the evaluation weights (EMA if used).
    pub validation_loss: f64,
    /// Metrics on the validation set.
    pub validation: ErrorMetrics,
}

impl EpochRecord {
    /// The value of `metric` this epoch (`None` if the data lack what it measures).
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::ValidationLoss => Some(self.validation_loss),
            Metric::TrainingLoss => Some(self.training_loss),
            Metric::ValidationEMae => self.validation.energy_per_atom_mae,
            Metric::ValidationERmse => self.validation.energy_per_atom_rmse,
            Metric::ValidationFMae => self.validation.force_mae,
            Metric::ValidationFRmse => self.validation.force_rmse,
            Metric::Lr => Some(self.lr),
            Metric::Wall => Some(self.wall_s),
        }
    }
}

/// The best epoch so far by `metrics_key`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestEpoch {
    /// The epoch (1-based).
    pub epoch: usize,
    /// Its `metrics_key` value.
    pub metric: f64,
}

/// Everything needed to continue a run exactly where it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// The configuration the run was started (or last resumed) with.
    pub config: TrainConfig,
    /// Training example indices (sorted as given; shuffled per epoch).
    pub train_indices: Vec<usize>,
    /// Validation example indices.
    pub val_indices: Vec<usize>,
    /// Completed epochs.
    pub epoch: usize,
    /// Completed optimiser steps.
    pub step: u64,
    /// The learning rate for the next epoch.
    pub lr: f64,
    /// Adam's state.
    pub optimizer: Adam,
    /// The plateau scheduler's state, if one is configured.
    pub scheduler: Option<ReduceLrOnPlateau>,
    /// The weight average, if `use_ema`.
    pub ema: Option<Ema>,
    /// Early-stopping counters.
    pub early_stopping: EarlyStopping,
    /// Why early stopping fired at the end of the last epoch, if it did.
    pub early_stop_reason: Option<String>,
    /// The best epoch so far.
    pub best: Option<BestEpoch>,
    /// The training curve so far.
    pub curve: Vec<EpochRecord>,
    /// Wall-clock seconds spent so far (across resumes).
    pub elapsed_s: f64,
    /// The current parameters (stored as a binary block).
    #[serde(skip)]
    pub params: Vec<f64>,
}

impl TrainState {
    /// The weights to validate with and to save as the model: the EMA weights when `use_ema`,
    /// else the raw parameters.
    pub fn model_weights(&self) -> &[f64] {
        match &self.ema {
            Some(ema) => &ema.shadow,
            None => &self.params,
        }
    }

    fn blocks(&self) -> [&[f64]; 5] {
        [
            &self.params,
            &self.optimizer.exp_avg,
            &self.optimizer.exp_avg_sq,
            &self.optimizer.max_exp_avg_sq,
            self.ema.as_ref().map_or(&[][..], |e| e.shadow.as_slice()),
        ]
    }

    /// Checks that every vector has the length the configuration implies.
    pub fn check_consistency(&self) -> std::result::Result<(), String> {
        let n = self.params.len();
        let want = |present: bool| if present { n } else { 0 };
        let expected = [
            n,
            n,
            n,
            want(self.optimizer.config.amsgrad),
            want(self.ema.is_some()),
        ];
        let names = [
            "parameters",
            "exp_avg",
            "exp_avg_sq",
            "max_exp_avg_sq",
            "ema",
        ];
        for ((name, block), want) in names.iter().zip(self.blocks()).zip(expected) {
            if block.len() != want {
                return Err(format!(
                    "{name} has {} entries, expected {want}",
                    block.len()
                ));
            }
        }
        if self.curve.len() != self.epoch {
            return Err(format!(
                "curve has {} rows for {} epochs",
                self.curve.len(),
                self.epoch
            ));
        }
        Ok(())
    }

    /// Serialises the state into `out` (the checkpoint layout above).
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        out.write_all(&(json.len() as u64).to_le_bytes())?;
        out.write_all(&json)?;
        let blocks = self.blocks();
        out.write_all(&(blocks.len() as u64).to_le_bytes())?;
        // In pieces: one block of a paper-sized model is ~95 MB.
        let mut buf = Vec::with_capacity(8 * 8192);
        for block in blocks {
            out.write_all(&(block.len() as u64).to_le_bytes())?;
            for piece in block.chunks(8192) {
                buf.clear();
                buf.extend(piece.iter().flat_map(|v| v.to_le_bytes()));
                out.write_all(&buf)?;
            }
        }
        Ok(())
    }

    /// Writes the state to `path` atomically (a reader never sees a partial file).
    pub fn save(&self, path: &Path) -> Result<()> {
        mlff_data::write_atomically(path, |file| {
            let mut w = std::io::BufWriter::new(file);
            self.write_to(&mut w)
                .and_then(|()| w.flush())
                .map_err(|source| mlff_data::DataError::Io {
                    file: path.to_path_buf(),
                    source,
                })
        })?;
        Ok(())
    }

    /// Reads a state written by [`TrainState::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| TrainError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|reason| TrainError::BadCheckpoint {
            file: path.to_path_buf(),
            reason,
        })
    }

    /// Parses a checkpoint held in memory.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut r = bytes;
        let mut magic = [0u8; 16];
        r.read_exact(&mut magic)
            .map_err(|_| "file too short for the header".to_string())?;
        if &magic != MAGIC {
            return Err("wrong magic bytes (not an mlff-train checkpoint)".into());
        }
        let version = u32::from_le_bytes(take(&mut r)?);
        if version != FORMAT_VERSION {
            return Err(format!(
                "format version {version}, this build reads {FORMAT_VERSION}"
            ));
        }
        let json_len = read_len(&mut r)?;
        if json_len > r.len() {
            return Err("truncated metadata".into());
        }
        let (json, rest) = r.split_at(json_len);
        r = rest;
        let mut state: TrainState =
            serde_json::from_slice(json).map_err(|e| format!("metadata: {e}"))?;
        let n_blocks = read_len(&mut r)?;
        if n_blocks != 5 {
            return Err(format!("{n_blocks} vector blocks, expected 5"));
        }
        let mut blocks: Vec<Vec<f64>> = Vec::with_capacity(5);
        for _ in 0..n_blocks {
            let len = read_len(&mut r)?;
            if len.checked_mul(8).is_none_or(|b| b > r.len()) {
                return Err("truncated vector block".into());
            }
            let (data, rest) = r.split_at(len * 8);
            r = rest;
            blocks.push(
                data.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8-byte chunk")))
                    .collect(),
            );
        }
        if !r.is_empty() {
            return Err(format!("{} unexpected trailing bytes", r.len()));
        }
        let mut blocks = blocks.into_iter();
        let mut next = || blocks.next().expect("five blocks");
        state.params = next();
        state.optimizer.exp_avg = next();
        state.optimizer.exp_avg_sq = next();
        state.optimizer.max_exp_avg_sq = next();
        let shadow = next();
        if let Some(ema) = state.ema.as_mut() {
            ema.shadow = shadow;
        } else if !shadow.is_empty() {
            return Err("EMA weights present but no EMA state".into());
        }
        state.check_consistency()?;
        Ok(state)
    }
}

fn take<const N: usize>(r: &mut &[u8]) -> std::result::Result<[u8; N], String> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf)
        .map_err(|_| "truncated header".to_string())?;
    Ok(buf)
}

fn read_len(r: &mut &[u8]) -> std::result::Result<usize, String> {
    usize::try_from(u64::from_le_bytes(take(r)?)).map_err(|e| e.to_string())
}
