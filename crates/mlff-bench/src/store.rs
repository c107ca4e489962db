//! Results on disk: `results/<run>/run.json` (the plan and grid), one JSON and CSV per cell
//! under `cells/`, written atomically so an interrupted run loses at most the cell in progress.

use anyhow::{Context, Result};
use mlff_metrics::Estimate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::data::{DataRecord, DataSource};
use crate::grid::CellSpec;
use crate::model::ModelSpec;
use crate::preset::Plan;

/// Errors of one test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestScores {
    /// Per-atom energy MAE, kcal/mol.
    pub energy_mae_per_atom: f64,
    /// Per-atom energy RMSE, kcal/mol.
    pub energy_rmse_per_atom: f64,
    /// Force-component MAE, kcal/mol/Å.
    pub force_mae: f64,
    /// Force-component RMSE, kcal/mol/Å.
    pub force_rmse: f64,
}

/// SOAP similarity of a test set to the training set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityRecord {
    /// Mean over test frames of the largest cosine similarity to a training frame.
    pub mean_max: f64,
    /// Mean over test frames of the mean cosine similarity to the training frames.
    pub mean_mean: f64,
    /// Per test frame: largest similarity to a training frame.
    pub per_frame_max: Vec<f64>,
}

/// One test set's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// `iid`, `time-holdout` or `cross`.
    pub kind: String,
    /// Molecule tested.
    pub molecule: String,
    /// Test frames.
    pub frames: usize,
    /// Errors, unless the model could not evaluate the molecule.
    pub scores: Option<TestScores>,
    /// Why there are no scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Per-frame force-component MAE, kcal/mol/Å.
    #[serde(default)]
    pub per_frame_force_mae: Vec<f64>,
    /// SOAP similarity to the training frames.
    pub similarity: Option<SimilarityRecord>,
}

/// Where a training window lies relative to the test segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowRecord {
    /// First time position (inclusive).
    pub start: usize,
    /// Last time position (exclusive).
    pub end: usize,
    /// Frames between the window's end and the test segment.
    pub frames_to_test: usize,
    /// The same as simulated time, fs (when the data knows its time step).
    pub time_to_test_fs: Option<f64>,
}

/// The heating ramp of one MD run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RampRecord {
    /// Target temperature at the collapse, K (`None`: survived to the maximum).
    pub collapse_k: Option<f64>,
    /// Target temperature where the run ended (collapse or maximum), K.
    pub end_target_k: f64,
    /// Kinetic temperature averaged over the last 50 fs before the end, K.
    pub end_kinetic_k: f64,
    /// Simulated time at the end, hold included, ps.
    pub end_ps: f64,
    /// What collapsed (a bond and its length, or the failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

impl RampRecord {
    /// The collapse temperature, a survivor counting as the maximum it reached (a lower bound).
    pub fn ranked_k(&self) -> f64 {
        self.collapse_k.unwrap_or(self.end_target_k)
    }
}

/// The NVE run of one MD run (from the state at the end of the hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NveRecord {
    /// Total-energy drift (least-squares slope), eV per atom per ps (`None`: too few samples).
    pub drift_ev_per_atom_ps: Option<f64>,
    /// Largest |E(t) − E(0)| per atom, eV.
    pub max_deviation_ev_per_atom: f64,
    /// Mean kinetic temperature, K.
    pub mean_temperature_k: f64,
    /// Simulated time, ps.
    pub time_ps: f64,
    /// Why it ended early (a broken bond or a failure), if it blew up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blew_up: Option<String>,
}

/// One MD run with the trained model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdRun {
    /// Starting frame (dataset index).
    pub start_frame: usize,
    /// Simulated time before the collapse during the hold at the fixed temperature (the whole
    /// hold if none), ps.
    pub stability_ps: f64,
    /// Whether it collapsed during the hold.
    pub collapsed: bool,
    /// h(r) MAE against the reference trajectory over the stable frames of the hold.
    pub hr_mae: Option<f64>,
    /// Why the run stopped, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The heating ramp (absent in records from before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<RampRecord>,
    /// The NVE run (absent in records from before it, or when the hold collapsed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nve: Option<NveRecord>,
}

/// Experiment 5's measurement of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MdRecord {
    /// The runs.
    pub runs: Vec<MdRun>,
    /// Mean stability time during the hold, ps.
    pub mean_stability_ps: f64,
    /// Length of the hold, ps.
    pub max_time_ps: f64,
    /// Mean h(r) MAE over runs that have one.
    pub mean_hr_mae: Option<f64>,
    /// Highest temperature of the ramp, K (absent without a ramp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_temperature_k: Option<f64>,
    /// Mean collapse temperature over runs (survivors at the maximum) with its 95 % Student-t
    /// interval, K (needs ≥ 2 runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collapse_temperature_k: Option<Estimate>,
    /// Mean |NVE drift| over runs that did not blow up with its 95 % interval, eV/atom/ps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nve_abs_drift_ev_per_atom_ps: Option<Estimate>,
}

/// Wall-clock seconds of each stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Loading and splitting.
    pub data_s: f64,
    /// Training.
    pub train_s: f64,
    /// Predicting and scoring.
    pub test_s: f64,
    /// SOAP similarity.
    pub soap_s: f64,
    /// MD stability.
    pub md_s: f64,
    /// Everything.
    pub total_s: f64,
}

/// Everything one cell produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// Cell id.
    pub id: String,
    /// What it trained and tested.
    pub spec: CellSpec,
    /// Model name.
    pub model: String,
    /// Model hyper-parameters.
    pub hyper_parameters: serde_json::Value,
    /// What training reported.
    pub training: serde_json::Value,
    /// Training frames (all molecules).
    pub train_frames: usize,
    /// Validation frames (all molecules).
    pub validation_frames: usize,
    /// The splits, as `mlff-splits` JSON (each regenerates from its request).
    pub splits: Vec<serde_json::Value>,
    /// Training window (experiment 2).
    pub window: Option<WindowRecord>,
    /// Test outcomes.
    pub tests: Vec<TestResult>,
    /// MD stability (experiment 5).
    pub md: Option<MdRecord>,
    /// Data used.
    pub data: Vec<DataRecord>,
    /// `git describe` of the code and the runner's version.
    pub code_version: String,
    /// Timings.
    pub timings: Timings,
}

impl CellResult {
    /// The first test of kind `kind` on `molecule` that has scores.
    pub fn scores(&self, kind: &str, molecule: &str) -> Option<&TestScores> {
        self.tests
            .iter()
            .find(|t| t.kind == kind && t.molecule == molecule)
            .and_then(|t| t.scores.as_ref())
    }
}

/// What defines a run, written once to `run.json`; `run-cell` and `collect` read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Run name (the directory under `results/`).
    pub name: String,
    /// Model.
    pub model: ModelSpec,
    /// Data.
    pub data: DataSource,
    /// Settings.
    pub plan: Plan,
    /// Every cell.
    pub cells: Vec<CellSpec>,
    /// SHA-256 of each molecule's data file when the run started: a rerun on changed files
    /// (regenerated, replaced) is refused instead of mixing results of two datasets.
    #[serde(default)]
    pub data_sha256: BTreeMap<String, String>,
}

/// A run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run directory at `root`.
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Its path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn cell_path(&self, id: &str, extension: &str) -> PathBuf {
        self.root.join("cells").join(format!("{id}.{extension}"))
    }

    /// The finished result of cell `id`, if there is a readable one.
    pub fn finished(&self, id: &str) -> Option<CellResult> {
        let text = std::fs::read_to_string(self.cell_path(id, "json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes a cell's JSON and CSV atomically (and drops the record of an earlier failure).
    pub fn save_cell(&self, result: &CellResult) -> Result<()> {
        let json = serde_json::to_string_pretty(result)?;
        write_text(&self.cell_path(&result.id, "json"), &json)?;
        write_text(&self.cell_path(&result.id, "csv"), &cell_csv(result))?;
        let failed = self.cell_path(&result.id, "failed.json");
        if failed.exists() {
            std::fs::remove_file(&failed)
                .with_context(|| format!("removing {}", failed.display()))?;
        }
        Ok(())
    }

    /// Records that cell `id` failed with `error` (`cells/<id>.failed.json`; the cell has no
    /// result, so a rerun tries it again).
    pub fn save_failure(&self, id: &str, error: &str) -> Result<()> {
        let failure = CellFailure {
            id: id.to_owned(),
            error: error.to_owned(),
            unix_time_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        write_text(
            &self.cell_path(id, "failed.json"),
            &serde_json::to_string_pretty(&failure)?,
        )
    }

    /// The failure records of the manifest's cells that have no result.
    pub fn failures(&self, manifest: &Manifest) -> Vec<CellFailure> {
        manifest
            .cells
            .iter()
            .map(|c| c.id())
            .filter(|id| self.finished(id).is_none())
            .filter_map(|id| {
                let text = std::fs::read_to_string(self.cell_path(&id, "failed.json")).ok()?;
                serde_json::from_str(&text).ok()
            })
            .collect()
    }

    /// Every finished cell of the manifest, in grid order.
    pub fn finished_cells(&self, manifest: &Manifest) -> Vec<CellResult> {
        manifest
            .cells
            .iter()
            .filter_map(|c| self.finished(&c.id()))
            .collect()
    }

    /// Writes the manifest.
    pub fn save_manifest(&self, manifest: &Manifest) -> Result<()> {
        write_text(
            &self.root.join("run.json"),
            &serde_json::to_string_pretty(manifest)?,
        )
    }

    /// Reads the manifest.
    pub fn manifest(&self) -> Result<Manifest> {
        let path = self.root.join("run.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (start the run with `cargo xtask reproduce` first)",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Why a cell has no result: its error, with the log tails of external commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellFailure {
    /// Cell id.
    pub id: String,
    /// The error and its causes.
    pub error: String,
    /// When it failed (seconds since 1970).
    pub unix_time_s: u64,
}

/// Writes `text` to `path` atomically, creating the directory.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write_bytes(path, text.as_bytes())
}

/// Writes `bytes` to `path` atomically, creating the directory.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    mlff_data::write_atomically(path, |file| {
        file.write_all(bytes)
            .map_err(|source| mlff_data::DataError::Io {
                file: path.to_path_buf(),
                source,
            })
    })
    .with_context(|| format!("writing {}", path.display()))
}

fn cell_csv(result: &CellResult) -> String {
    let mut csv = String::from(
        "cell,test,molecule,frames,energy_mae_per_atom,force_mae,force_rmse,mean_max_similarity,error\n",
    );
    for t in &result.tests {
        let s = t.scores.as_ref();
        let value = |f: fn(&TestScores) -> f64| s.map(|s| f(s).to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            result.id,
            t.kind,
            t.molecule,
            t.frames,
            value(|s| s.energy_mae_per_atom),
            value(|s| s.force_mae),
            value(|s| s.force_rmse),
            t.similarity
                .as_ref()
                .map(|s| s.mean_max.to_string())
                .unwrap_or_default(),
            t.error.as_deref().unwrap_or("").replace([',', '\n'], ";"),
        ));
    }
    csv
}
