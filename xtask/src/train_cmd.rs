//! `cargo xtask train`: NequIP trained on a dataset file with nequip's hyper-parameter names.

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use mlff_bench::device::Device;
use mlff_nequip::{
    Checkpoint, Nequip, NequipConfig, RunFiles, TrainOptions, apply_training_statistics, train,
};
use mlff_train::TrainConfig;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::path::{Path, PathBuf};

/// Options of `train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// One YAML/TOML file with the model's and the trainer's keys (nequip names: `r_max`,
    /// `num_layers`, `l_max`, `num_features`, …, `learning_rate`, `batch_size`, `max_epochs`,
    /// `loss_coeffs`, `use_ema`, …). `type_names` defaults to the data's elements.
    #[arg(long)]
    pub config: PathBuf,
    /// Labelled frames (MD17/rMD17 npz, extended XYZ, …).
    #[arg(long)]
    pub data: PathBuf,
    /// Training frame indices, comma-separated.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["split", "n_train"])]
    pub train_idx: Vec<usize>,
    /// Validation frame indices with `--train-idx`.
    #[arg(long, value_delimiter = ',')]
    pub val_idx: Vec<usize>,
    /// A split JSON from `cargo xtask split create` (its first run's train/validation frames).
    #[arg(long, conflicts_with = "n_train")]
    pub split: Option<PathBuf>,
    /// Random training set of this many frames (with `--n-val`, seeded by the config's `seed`).
    #[arg(long)]
    pub n_train: Option<usize>,
    /// Random validation set size with `--n-train`.
    #[arg(long, default_value_t = 50)]
    pub n_val: usize,
    /// Run directory: checkpoints, `best_model.json`, training curve (CSV + SVG).
    #[arg(long, default_value = "results/train")]
    pub out: PathBuf,
    /// Continue an interrupted run in `--out` exactly where it stopped.
    #[arg(long)]
    pub resume: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Where the loss passes run (the optimiser stays on the host).
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
}

/// The config file as a JSON value (YAML, TOML or JSON by extension).
fn read_config(path: &Path) -> Result<(String, serde_json::Value)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let parse_error = || format!("parsing {}", path.display());
    let value: serde_json::Value = match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => toml::from_str(&text).with_context(parse_error)?,
        Some("json") => serde_json::from_str(&text).with_context(parse_error)?,
        _ => serde_yaml::from_str(&text).with_context(parse_error)?,
    };
    // nequip configurations are mappings of hyper-parameter names; anything else (a list, a
    // scalar, an empty file) is refused here rather than indexed into later.
    let kind = match &value {
        serde_json::Value::Object(_) => return Ok((text, value)),
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Null => "empty",
        _ => "a single value",
    };
    bail!(
        "{}: the configuration is {kind}; it must be a mapping of nequip hyper-parameter names \
         to values (e.g. `r_max: 4.0`)",
        path.display()
    )
}

fn indices(
    args: &TrainArgs,
    data: &mlff_data::Dataset,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let n_frames = data.len();
    if let Some(split) = &args.split {
        let split = crate::split_cmd::read_checked_split(split, data)?;
        let run = split
            .runs()
            .into_iter()
            .next()
            .context("the split has no runs")?;
        let pick = |sets: &[mlff_splits::LabelledFrames]| -> Vec<usize> {
            sets.iter().flat_map(|s| s.frames.iter().copied()).collect()
        };
        return Ok((pick(&run.train), pick(&run.validation)));
    }
    if let Some(n) = args.n_train {
        ensure!(
            n + args.n_val <= n_frames,
            "{n} + {} frames requested, the data has {n_frames}",
            args.n_val
        );
        let mut all: Vec<usize> = (0..n_frames).collect();
        all.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        return Ok((all[..n].to_vec(), all[n..n + args.n_val].to_vec()));
    }
    if args.train_idx.is_empty() {
        bail!("give the training frames: --train-idx, --split or --n-train");
    }
    let frames = |f: &[usize]| mlff_splits::LabelledFrames {
        dataset: mlff_splits::SINGLE_DATASET.into(),
        frames: f.to_vec(),
    };
    mlff_splits::SplitRun {
        name: "--train-idx/--val-idx".into(),
        train: vec![frames(&args.train_idx)],
        validation: vec![frames(&args.val_idx)],
        test: frames(&[]),
    }
    .check(&|_| Some(n_frames))
    .with_context(|| format!("{} has {n_frames} frames", args.data.display()))?;
    Ok((args.train_idx.clone(), args.val_idx.clone()))
}

/// Keys of nequip configurations that name data, logging or run bookkeeping which `train`
/// takes from its command line instead (`--data`, `--n-train`, `--out`, …): accepted, unused.
const NEQUIP_KEYS_NOT_USED: [&str; 31] = [
    "root",
    "run_name",
    "append",
    "allow_tf32",
    "default_dtype",
    "dataset",
    "dataset_url",
    "dataset_file_name",
    "dataset_seed",
    "key_mapping",
    "npz_fixed_field_keys",
    "chemical_symbol_to_type",
    "chemical_symbols",
    "ase_args",
    "validation_dataset",
    "validation_dataset_file_name",
    "wandb",
    "wandb_project",
    "wandb_resume",
    "verbose",
    "log_batch_freq",
    "log_epoch_freq",
    "save_ema_checkpoint_freq",
    "n_train",
    "n_val",
    "train_val_split",
    "shuffle",
    "report_init_validation",
    "metrics_components",
    "compile_model",
    "dataset_statistics_stride",
];

/// Refuses keys of a flat configuration that neither the model nor the trainer reads (nor
/// nequip's data and logging keys above): a misspelt `learnig_rate` would otherwise train with
/// the default. The error names the file, the line and the closest known key.
fn check_keys(path: &Path, text: &str, value: &serde_json::Value) -> Result<()> {
    let Some(map) = value.as_object() else {
        return Ok(());
    };
    // nequip ≥ 0.7's nested files (`training_module: model: …`) are read by path, not checked.
    if map.contains_key("training_module") || map.get("model").is_some_and(|m| m.is_object()) {
        return Ok(());
    }
    let mut known: Vec<String> = NEQUIP_KEYS_NOT_USED.iter().map(|k| k.to_string()).collect();
    // Every key the model and the trainer read: their serialised defaults.
    let model = NequipConfig::from_value(serde_json::json!({ "type_names": ["H"], "r_max": 4.0 }))?;
    for section in [
        serde_json::to_value(model)?,
        serde_json::to_value(TrainConfig::default())?,
    ] {
        known.extend(
            section
                .as_object()
                .into_iter()
                .flat_map(|m| m.keys().cloned()),
        );
    }
    let unknown: Vec<String> = map
        .keys()
        .filter(|k| !known.contains(k))
        .map(|key| {
            let line = text
                .lines()
                .position(|l| {
                    let l = l.trim_start().trim_start_matches(['"', '\'']);
                    l.strip_prefix(key.as_str()).is_some_and(|rest| {
                        rest.trim_start_matches(['"', '\''])
                            .trim_start()
                            .starts_with(['=', ':'])
                    })
                })
                .map_or_else(String::new, |n| format!(":{}", n + 1));
            let close = known
                .iter()
                .map(|k| (strsim::levenshtein(k, key), k))
                .min()
                .filter(|(d, _)| *d <= 3)
                .map_or_else(String::new, |(_, k)| format!(" (did you mean `{k}`?)"));
            format!("{}{line}: unknown key `{key}`{close}", path.display())
        })
        .collect();
    if !unknown.is_empty() {
        bail!(
            "{}\n(keys are nequip's hyper-parameter names: the model's are mlff-nequip's `NequipConfig` \
             fields, the trainer's mlff-train's `TrainConfig` fields)",
            unknown.join("\n")
        );
    }
    Ok(())
}

/// What a run in `--out` was started with, recorded so that `--resume` can refuse other settings.
const SETTINGS_FILE: &str = "settings.json";

/// The settings a run was started with: the configuration (as read, with `type_names` filled
/// in), the data file's SHA-256 and the frames.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RunSettings {
    config: serde_json::Value,
    data_sha256: String,
    train: Vec<usize>,
    validation: Vec<usize>,
}

impl RunSettings {
    /// Compares with the settings recorded in `file`; every difference in one error.
    fn check_resume(&self, file: &Path) -> Result<()> {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let old: RunSettings =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", file.display()))?;
        let mut differences = Vec::new();
        let empty = serde_json::Map::new();
        let (a, b) = (
            old.config.as_object().unwrap_or(&empty),
            self.config.as_object().unwrap_or(&empty),
        );
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for key in keys {
            if a.get(key) != b.get(key) {
                let show = |v: Option<&serde_json::Value>| {
                    v.map_or_else(|| "absent".to_string(), |v| v.to_string())
                };
                differences.push(format!(
                    "config `{key}`: {} then, {} now",
                    show(a.get(key)),
                    show(b.get(key))
                ));
            }
        }
        if old.data_sha256 != self.data_sha256 {
            differences.push("the data file's contents (SHA-256 differs)".into());
        }
        if old.train != self.train {
            differences.push("the training frames".into());
        }
        if old.validation != self.validation {
            differences.push("the validation frames".into());
        }
        if !differences.is_empty() {
            bail!(
                "--resume: the run in {} was started with other settings:\n  - {}\nresume with \
                 the same ones, or start a new run in another --out",
                file.parent().unwrap_or(file).display(),
                differences.join("\n  - ")
            );
        }
        Ok(())
    }
}

/// SHA-256 of a file's bytes, hex.
fn sha256_of(path: &Path) -> Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    let mut file =
        std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex::encode(hasher.finalize()))
}

/// Runs `train`; returns the best model's checkpoint path.
pub fn run(args: &TrainArgs) -> Result<PathBuf> {
    let executor = args.device.open()?;
    let (text, mut value) = read_config(&args.config)?;
    check_keys(&args.config, &text, &value)?;
    // Parsed from the file's own text, so errors point at its lines (JSON is valid YAML).
    let train_config: TrainConfig = match args.config.extension().and_then(|e| e.to_str()) {
        Some("toml") => TrainConfig::from_toml_str(&text),
        _ => TrainConfig::from_yaml_str(&text),
    }
    .with_context(|| format!("training keys of {}", args.config.display()))?;
    let data =
        mlff_data::load(&args.data).with_context(|| format!("loading {}", args.data.display()))?;
    if value.get("type_names").is_none() {
        let names: Vec<String> = data
            .species()
            .elements()
            .iter()
            .filter_map(|&z| mlff_data::elements::symbol(z).map(str::to_string))
            .collect();
        value["type_names"] = serde_json::json!(names);
    }
    let mut model_config = NequipConfig::from_value(value.clone())
        .with_context(|| format!("model keys of {}", args.config.display()))?;
    let (train_idx, val_idx) = indices(args, &data, train_config.seed)?;
    ensure!(
        !train_idx.is_empty() && !val_idx.is_empty(),
        "empty training or validation set"
    );
    let settings = RunSettings {
        config: value.clone(),
        data_sha256: sha256_of(&args.data)?,
        train: train_idx.clone(),
        validation: val_idx.clone(),
    };
    let settings_file = args.out.join(SETTINGS_FILE);
    if args.resume && settings_file.is_file() {
        settings.check_resume(&settings_file)?;
    }
    // Everything that can be checked is checked (and the model built) before the first write.
    let model_file = args.out.join("initial_model.json");
    let (model, initial) = if args.resume && model_file.is_file() {
        (Checkpoint::load(&model_file)?.model()?, None)
    } else {
        let stats = apply_training_statistics(&mut model_config, &[&data], &train_idx)?;
        tracing::info!(
            avg_num_neighbors = stats[0].avg_num_neighbors,
            forces_rms = ?stats[0].forces_rms,
            "statistics of {} training frames",
            train_idx.len()
        );
        let model = Nequip::new(model_config)?;
        let meta = serde_json::json!({"data": args.data.display().to_string(), "stats": stats});
        let checkpoint = Checkpoint::of(&model, Some(data.units()), meta);
        (model, Some(checkpoint))
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating the output directory {}", args.out.display()))?;
    crate::score_cmd::write_json(&settings_file, &serde_json::to_value(&settings)?)?;
    if let Some(checkpoint) = initial {
        checkpoint.save(&model_file)?;
    }
    let files = RunFiles {
        dir: args.out.clone(),
    };
    tracing::info!(
        parameters = model.params().len(),
        train = train_idx.len(),
        val = val_idx.len(),
        passes = executor.describe(),
        "training"
    );
    let passes = executor.loss_passes(&model);
    let options = TrainOptions {
        passes: passes.as_deref(),
        dir: Some(&args.out),
        resume: args.resume,
        progress: !args.quiet,
    };
    let trained = train(model, train_config, &[&data], train_idx, val_idx, options)?;
    let best = trained.outcome.state.best.as_ref();
    println!(
        "stopped after {} epochs ({:?}); best validation {} at epoch {}; model: {}",
        trained.outcome.state.epoch,
        trained.outcome.stop,
        best.map_or(f64::NAN, |b| b.metric),
        best.map_or(0, |b| b.epoch),
        files.best_model().display()
    );
    Ok(files.best_model())
}
