//! Where a run's molecules come from, loading them (kcal/mol, Å), and what is recorded about
//! them (file, SHA-256, level of theory) so every result names its data.

use anyhow::{Context, Result, bail, ensure};
use mlff_data::{Dataset, Units};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The directory `cargo xtask gen-data` writes the embedded default data to.
pub const GENERATED_DIR: &str = "data/generated";

/// Where the molecules' trajectories are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// Directory searched for `md17_<m>.npz`, `rmd17_<m>.npz` or `rmd17/npz_data/rmd17_<m>.npz`.
    pub dir: PathBuf,
    /// Whether it is the embedded default (generated on demand when files are missing).
    pub generated: bool,
    /// Time between consecutive time indices, fs, overriding what the files record (`None`:
    /// the file's `dt_fs`, else MD17's 0.5 fs step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_spacing_fs: Option<f64>,
}

/// What a result records about one molecule's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// Molecule name.
    pub molecule: String,
    /// The file.
    pub file: PathBuf,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Frames in the file.
    pub frames: usize,
    /// Atoms per frame.
    pub atoms: usize,
    /// Level of theory from the file's provenance (or what the collection is known to use).
    pub theory: String,
    /// Time between consecutive time indices (frames of a time-ordered file, or units of
    /// rMD17's `old_indices`), fs, as the time axes use it.
    #[serde(default)]
    pub frame_spacing_fs: Option<f64>,
    /// Where that spacing comes from.
    #[serde(default)]
    pub frame_spacing_source: String,
}

/// A loaded molecule: its dataset (kcal/mol, Å) and record.
pub struct MoleculeData {
    /// The frames.
    pub dataset: Dataset,
    /// Provenance.
    pub record: DataRecord,
}

impl DataSource {
    /// `--data DIR`, or the embedded default; `frame_spacing_fs` overrides the files' spacing.
    pub fn new(dir: Option<PathBuf>, frame_spacing_fs: Option<f64>) -> Self {
        let (dir, generated) = match dir {
            Some(dir) => (dir, false),
            None => (PathBuf::from(GENERATED_DIR), true),
        };
        Self {
            dir,
            generated,
            frame_spacing_fs,
        }
    }

    /// The file holding `molecule`, if any.
    pub fn file_of(&self, molecule: &str) -> Option<PathBuf> {
        [
            format!("md17_{molecule}.npz"),
            format!("rmd17_{molecule}.npz"),
            format!("rmd17/npz_data/rmd17_{molecule}.npz"),
        ]
        .into_iter()
        .map(|name| self.dir.join(name))
        .find(|path| path.is_file())
    }

    /// Checks that every molecule is available (generating the embedded default's missing
    /// ones with `gen-data`), before any training starts.
    pub fn ensure_available(&self, molecules: &[String]) -> Result<()> {
        for m in molecules {
            ensure!(
                mlff_md::BUILTIN_MOLECULES.contains(&m.as_str()),
                "unknown molecule `{m}`; known: {}",
                mlff_md::BUILTIN_MOLECULES.join(", ")
            );
        }
        if !self.generated {
            ensure!(
                self.dir.is_dir(),
                "data directory {} does not exist (--data expects a directory of \
                 md17_<molecule>.npz or rmd17_<molecule>.npz files, e.g. from \
                 `cargo xtask fetch-data`)",
                self.dir.display()
            );
        }
        if self.generated {
            // gen-data skips molecules whose recorded settings match and regenerates the rest,
            // so files from older defaults (or an interrupted generation) are replaced here.
            let args = crate::generate::GenerateOptions::default_data(
                molecules.to_vec(),
                self.dir.clone(),
            );
            crate::generate::run(&args).context("generating the default data (gen-data)")?;
            return Ok(());
        }
        let missing: Vec<String> = molecules
            .iter()
            .filter(|m| self.file_of(m).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() {
            bail!(
                "no file for {} in {} (looked for md17_<m>.npz, rmd17_<m>.npz, \
                 rmd17/npz_data/rmd17_<m>.npz)",
                missing.join(", "),
                self.dir.display()
            );
        }
        Ok(())
    }

    /// Loads `molecule` in kcal/mol and Å.
    pub fn load(&self, molecule: &str) -> Result<MoleculeData> {
        let file = self
            .file_of(molecule)
            .with_context(|| format!("no data file for {molecule} in {}", self.dir.display()))?;
        let mut dataset = mlff_data::load(&file)
            .with_context(|| format!("loading {}", file.display()))?
            .converted(Units::KCAL_MOL_ANGSTROM);
        let (spacing, frame_spacing_source) = match self.frame_spacing_fs {
            Some(dt) => (Some(dt), "given with --frame-spacing-fs".to_string()),
            None => frame_spacing(&file, &dataset)?,
        };
        dataset.provenance_mut().time_step_fs = spacing;
        ensure!(
            dataset.energies().is_some() && dataset.forces().is_some(),
            "{} has no energies or forces; training needs both",
            file.display()
        );
        let theory = dataset.provenance().theory.clone().unwrap_or_else(|| {
            if file_name(&file).starts_with("rmd17") {
                "PBE/def2-SVP (rMD17, ORCA)".into()
            } else {
                "unknown (not recorded in the file)".into()
            }
        });
        let record = DataRecord {
            molecule: molecule.to_string(),
            sha256: sha256_of(&file)?,
            frames: dataset.len(),
            atoms: dataset.n_atoms(),
            file,
            theory,
            frame_spacing_fs: dataset.provenance().time_step_fs,
            frame_spacing_source,
        };
        Ok(MoleculeData { dataset, record })
    }
}

/// Relative distance from MD17's 0.5 fs within which an estimate confirms that convention.
const MD17_SPACING_TOLERANCE: f64 = 0.25;

/// The frame spacing of a loaded file (fs per time index) and where it comes from, in words
/// for the report: the file's `dt_fs`; MD17's 0.5 fs per `old_indices` unit for rMD17;
/// otherwise what the frames' own dynamics say (`mlff_md::estimate_frame_spacing`), since a
/// file saved every k-th step that records nothing would put every time axis off by k×.
fn frame_spacing(file: &Path, dataset: &Dataset) -> Result<(Option<f64>, String)> {
    let is_npz = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npz"));
    let has_key = if is_npz {
        mlff_data::format::NpzReader::open(file)?
            .names()
            .iter()
            .any(|n| n == "dt_fs")
    } else {
        true
    };
    let read = dataset.provenance().time_step_fs;
    if let (true, Some(dt)) = (has_key, read) {
        return Ok((Some(dt), "recorded in the file (dt_fs)".into()));
    }
    if is_npz && matches!(dataset.time_order(), mlff_data::TimeOrder::Indexed(_)) {
        return Ok((read, "MD17's 0.5 fs step per unit of old_indices".into()));
    }
    let md17 = mlff_data::format::npz::MD17_TIME_STEP_FS;
    Ok(match mlff_md::estimate_frame_spacing(dataset) {
        Some(e) if (e.fs / md17 - 1.0).abs() <= MD17_SPACING_TOLERANCE => (
            Some(md17),
            format!(
                "MD17's 0.5 fs step: the file records none, and the frames' dynamics agree \
                 (estimated {:.2} fs)",
                e.fs
            ),
        ),
        Some(e) => {
            // The fit reads a few per cent low (faster motions), never much high: round up to
            // the next multiple of 0.5 fs above 97 % of it.
            let dt = ((0.97 * e.fs / md17).ceil() * md17).max(md17);
            let caveat = if e.fs > mlff_md::RELIABLE_UP_TO_FS {
                "; frames this far apart make it a lower bound"
            } else {
                ""
            };
            (
                Some(dt),
                format!(
                    "estimated from the frames' dynamics ({:.2} fs, R² {:.2}, rounded up to a \
                     multiple of 0.5 fs{caveat}): the file records none; --frame-spacing-fs \
                     overrides",
                    e.fs, e.r_squared
                ),
            )
        }
        None => (
            read,
            match read {
                Some(_) => "MD17's 0.5 fs step assumed: the file records none and its dynamics \
                            do not say (set --frame-spacing-fs if it was saved every k-th step)"
                    .into(),
                None => "unknown: the file records none (set --frame-spacing-fs)".into(),
            },
        ),
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn sha256_of(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Loaded molecules shared by the cells of one process (each file is read and hashed once).
#[derive(Clone)]
pub struct DataCache {
    source: DataSource,
    loaded: Arc<Mutex<BTreeMap<String, Arc<MoleculeData>>>>,
}

impl DataCache {
    /// An empty cache over `source`.
    pub fn new(source: DataSource) -> Self {
        Self {
            source,
            loaded: Arc::default(),
        }
    }

    /// The source.
    pub fn source(&self) -> &DataSource {
        &self.source
    }

    /// `molecule`, loading it on first use.
    pub fn get(&self, molecule: &str) -> Result<Arc<MoleculeData>> {
        let mut loaded = self
            .loaded
            .lock()
            .map_err(|_| anyhow::anyhow!("data cache poisoned"))?;
        if let Some(data) = loaded.get(molecule) {
            return Ok(data.clone());
        }
        let data = Arc::new(self.source.load(molecule)?);
        loaded.insert(molecule.to_string(), data.clone());
        Ok(data)
    }
}

/// The dataset's time order in `mlff-splits` terms; `None` when the file does not know it.
pub fn time_order_of(data: &mlff_data::Dataset) -> Result<Option<mlff_splits::TimeOrder>> {
    let order = match data.time_order() {
        mlff_data::TimeOrder::Sequential => mlff_splits::TimeOrder::file_order(data.len()),
        mlff_data::TimeOrder::Indexed(steps) => mlff_splits::TimeOrder::from_md_steps(steps)?,
        mlff_data::TimeOrder::Unknown => return Ok(None),
    };
    Ok(Some(match data.provenance().time_step_fs {
        Some(dt) if dt.is_finite() => order.with_timestep_fs(dt)?,
        _ => order,
    }))
}
