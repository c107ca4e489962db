//! `cargo xtask reproduce`, `run-cell` and `collect`: command-line arguments mapped onto
//! `mlff-bench`, which runs the study's experiments (see its documentation).

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use std::path::PathBuf;

use mlff_bench::device::Device;
use mlff_bench::preset::{Plan, Preset};
use mlff_bench::{ModelSpec, RunRequest, grid, slurm};

/// `--model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelChoice {
    /// The learned two-body potential of `mlff-baseline` (seconds per cell).
    Baseline,
    /// NequIP (`mlff-nequip`).
    Nequip,
    /// Your model, trained and served by the commands of `--model-card` (its calculator
    /// connects over the i-PI socket, e.g. ASE's `SocketClient`).
    External,
}

/// Options of `reproduce`.
#[derive(Debug, Clone, Args)]
pub struct ReproduceArgs {
    /// Grid sizes and measurement settings.
    #[arg(long, value_enum, default_value = "quick")]
    pub preset: Preset,
    /// The model to train (`baseline`: the two-body floor every MLFF must beat, seconds per cell).
    #[arg(long, value_enum, default_value = "nequip")]
    pub model: ModelChoice,
    /// The model card of `--model external` (YAML, TOML or JSON): a training command, a
    /// serving command and timeouts; see docs/external-models.md.
    #[arg(long)]
    pub model_card: Option<PathBuf>,
    /// Directory of md17_<molecule>.npz / rmd17_<molecule>.npz files (default: the embedded
    /// UFF data in data/generated, generated if missing).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Time between consecutive frames (or units of rMD17's old_indices) in fs, for data whose
    /// files do not record it (e.g. an MD17-layout file saved every k-th 0.5 fs step: 0.5·k);
    /// default: the files' `dt_fs`, else MD17's 0.5 fs.
    #[arg(long, value_parser = positive_fs)]
    pub frame_spacing_fs: Option<f64>,
    /// Cells trained at the same time, each on an equal share of the cores (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// Run name (directory under --results); default `<preset>-<model>`.
    #[arg(long)]
    pub run: Option<String>,
    /// Where runs are stored.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Only these cells: experiment keys (e1 … e5) or cell-id prefixes, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// List the (filtered) grid and exit.
    #[arg(long)]
    pub cells: bool,
    /// Write a Slurm job-array script for the (filtered) cells into this directory and exit.
    #[arg(long)]
    pub emit_slurm: Option<PathBuf>,
    /// CPUs per Slurm array task.
    #[arg(long, default_value_t = 4)]
    pub slurm_cpus: usize,
    /// Time limit per Slurm array task.
    #[arg(long, default_value = "04:00:00")]
    pub slurm_time: String,
    /// A plan as JSON (the format `run.json` records under "plan"), replacing the preset's;
    /// the overrides below still apply.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Molecules of experiments 1 and 2 (overrides the preset).
    #[arg(long, value_delimiter = ',')]
    pub molecules: Vec<String>,
    /// Training sizes of experiment 1 (overrides the preset; sizes the data cannot supply are
    /// an error, while a preset's are dropped with a notice).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<usize>,
    /// Seeds (overrides the preset).
    #[arg(long, value_delimiter = ',')]
    pub seeds: Vec<u64>,
    /// MD steps of the fixed-temperature hold of each stability run (overrides the preset; 0
    /// disables experiment 5).
    #[arg(long)]
    pub md_steps: Option<usize>,
    /// Where NequIP's training passes, test-set predictions and MD run (the optimiser stays on
    /// the host).
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
}

fn positive_fs(text: &str) -> std::result::Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(v) => Err(format!("{v} is not a positive, finite time in fs")),
        Err(e) => Err(format!("`{text}`: {e}")),
    }
}

/// Options of `run-cell`.
#[derive(Debug, Clone, Args)]
pub struct RunCellArgs {
    /// Cell id (see `reproduce --cells`).
    pub id: String,
    /// The run directory (holding run.json).
    #[arg(long, default_value = "results/quick-nequip")]
    pub run_dir: PathBuf,
    /// Where NequIP's training passes, test-set predictions and MD run.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
}

/// Options of `collect`.
#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// The run directory (holding run.json and cells/).
    #[arg(long, default_value = "results/quick-nequip")]
    pub run_dir: PathBuf,
}

impl ReproduceArgs {
    /// The preset's (or `--plan` file's) plan with the command line's overrides.
    pub fn resolved_plan(&self) -> Result<Plan> {
        let mut plan = match &self.plan {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the plan {}", path.display()))?;
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing the plan {}", path.display()))?
            }
            None => self.preset.plan(),
        };
        if !self.molecules.is_empty() {
            plan.sample.molecules = self.molecules.clone();
            plan.time.molecules = self.molecules.clone();
        }
        if !self.sizes.is_empty() {
            plan.sample.sizes = self.sizes.clone();
        }
        if !self.seeds.is_empty() {
            plan.seeds = self.seeds.clone();
        }
        if let Some(steps) = self.md_steps {
            plan.md.steps = steps;
            if steps == 0 {
                plan.md.runs = 0;
            }
        }
        Ok(plan)
    }

    fn run_name(&self, model: &ModelSpec) -> String {
        self.run.clone().unwrap_or_else(|| {
            let preset = serde_json::to_value(self.preset)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{preset}-{}", model.key())
        })
    }

    /// The model these arguments name.
    fn model_spec(&self) -> Result<ModelSpec> {
        Ok(match (self.model, &self.model_card) {
            (ModelChoice::Baseline, None) => ModelSpec::Baseline,
            (ModelChoice::Nequip, None) => ModelSpec::Nequip,
            (ModelChoice::External, Some(card)) => {
                ModelSpec::External(mlff_bench::external::ExternalCard::load(card)?)
            }
            (ModelChoice::External, None) => {
                bail!("--model external needs --model-card CARD (see docs/external-models.md)")
            }
            (other, Some(_)) => bail!(
                "--model-card is for --model external, not --model {}",
                other
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_owned())
            ),
        })
    }

    /// The library's request for these arguments.
    pub fn request(&self) -> Result<RunRequest> {
        let model = self.model_spec()?;
        let name = self.run_name(&model);
        if name.is_empty()
            || std::path::Path::new(&name)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
            || name.contains('/')
        {
            bail!("--run `{name}` must be a plain directory name (it is created under --results)");
        }
        Ok(RunRequest {
            dir: self.results.join(&name),
            name,
            plan: self.resolved_plan()?,
            explicit_sizes: !self.sizes.is_empty(),
            model,
            data: self.data.clone(),
            frame_spacing_fs: self.frame_spacing_fs,
            only: self.only.clone(),
            jobs: self.jobs,
            device: self.device,
        })
    }
}

/// Runs `reproduce`.
pub fn run(args: &ReproduceArgs) -> Result<()> {
    if args.cells {
        let plan = args.resolved_plan()?;
        for cell in grid::filter(grid::build(&plan), &args.only) {
            println!("{}\t{}", cell.id(), serde_json::to_string(&cell)?);
        }
        return Ok(());
    }
    let request = args.request()?;
    if let Some(dir) = &args.emit_slurm {
        let options = slurm::SlurmOptions {
            cpus_per_task: args.slurm_cpus,
            time_limit: args.slurm_time.clone(),
            extra: Vec::new(),
            device: args.device,
        };
        let repo = std::env::current_dir()?;
        let files = mlff_bench::emit_slurm(&request, dir, &repo, &options)?;
        println!("{}", files.array.display());
        println!("{}", files.collect.display());
        println!("submit with: {}", files.submit.display());
        return Ok(());
    }
    let outcome = mlff_bench::run(&request)?;
    println!("{}", outcome.report.display());
    if !outcome.failures.is_empty() {
        bail!(
            "{} cells failed:\n  {}",
            outcome.failures.len(),
            outcome.failures.join("\n  ")
        );
    }
    Ok(())
}

/// Runs `run-cell`: one cell of an existing run (skipped if finished).
pub fn run_cell(args: &RunCellArgs) -> Result<()> {
    if mlff_bench::run_cell(&args.run_dir, &args.id, args.device)? {
        println!("{}", args.id);
    } else {
        println!("{} already finished", args.id);
    }
    Ok(())
}

/// Runs `collect`: the report from whatever cells have finished.
pub fn collect(args: &CollectArgs) -> Result<()> {
    let (report, finished, total) = mlff_bench::collect(&args.run_dir)?;
    println!("{} ({finished} of {total} cells)", report.display());
    Ok(())
}
