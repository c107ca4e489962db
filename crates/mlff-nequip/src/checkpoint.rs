//! Our checkpoint format: hyper-parameters, parameter layout and values, statistics, version.
//!
//! JSON, because a researcher can read it and every f64 round-trips exactly through
//! serde_json's shortest representation; written atomically.

use crate::config::NequipConfig;
use crate::error::{NequipError, Result};
use crate::model::Nequip;
use crate::params::ParamSegment;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Identifies the file type.
pub const CHECKPOINT_FORMAT: &str = "mlffbench-nequip-checkpoint";
/// Current format version.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Everything needed to rebuild a model exactly, plus free-form metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// Format version.
    pub version: u32,
    /// Version of the crate that wrote it.
    pub mlffbench_version: String,
    /// Hyper-parameters (type map, per-type scale/shift and avg_num_neighbors included).
    pub config: NequipConfig,
    /// Energy and length units of the data the model was trained on (`None`: unknown, taken to
    /// be the evaluated data's).
    #[serde(default)]
    pub units: Option<mlff_data::Units>,
    /// Names and shapes of the parameter tensors, to detect a mismatched architecture.
    pub layout: Vec<ParamSegment>,
    /// Parameter values in layout order.
    pub params: Vec<f64>,
    /// Training statistics and provenance (data hash, split, epochs …), if any.
    #[serde(default)]
    pub metadata: serde_json::Value,
}

impl Checkpoint {
    /// A checkpoint of `model` trained in `units`, with `metadata`.
    pub fn of(
        model: &Nequip,
        units: Option<mlff_data::Units>,
        metadata: serde_json::Value,
    ) -> Self {
        Self {
            format: CHECKPOINT_FORMAT.into(),
            version: CHECKPOINT_VERSION,
            mlffbench_version: env!("CARGO_PKG_VERSION").into(),
            config: model.config().clone(),
            units,
            layout: model.architecture().layout.segments().to_vec(),
            params: model.params().to_vec(),
            metadata,
        }
    }

    /// Rebuilds the model, checking the layout against the configuration.
    pub fn model(&self) -> Result<Nequip> {
        let model = Nequip::with_params(self.config.clone(), self.params.clone())?;
        if model.architecture().layout.segments() != self.layout.as_slice() {
            return Err(NequipError::Weights(
                "checkpoint layout does not match its configuration".into(),
            ));
        }
        Ok(model)
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let fail = |reason: String| NequipError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        // Streamed: the text of a paper-sized model is ~230 MB, which a buffer built first
        // (and grown by doubling) would add to the training run's peak memory.
        mlff_data::write_atomically(path, |file| {
            let mut w = std::io::BufWriter::new(file);
            serde_json::to_writer(&mut w, self)
                .map_err(std::io::Error::from)
                .and_then(|()| std::io::Write::flush(&mut w))
                .map_err(|source| mlff_data::DataError::Io {
                    file: path.to_path_buf(),
                    source,
                })
        })
        .map_err(|e| fail(e.to_string()))
    }

    /// Reads a checkpoint, refusing other formats and newer versions.
    pub fn load(path: &Path) -> Result<Self> {
        let fail = |reason: String| NequipError::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let ckpt: Checkpoint = serde_json::from_slice(&bytes).map_err(|e| fail(e.to_string()))?;
        if ckpt.format != CHECKPOINT_FORMAT {
            return Err(fail(format!(
                "not a NequIP checkpoint (format {:?})",
                ckpt.format
            )));
        }
        if ckpt.version > CHECKPOINT_VERSION {
            return Err(fail(format!(
                "written by a newer version (format {} > {CHECKPOINT_VERSION})",
                ckpt.version
            )));
        }
        Ok(ckpt)
    }
}
