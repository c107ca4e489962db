//! `cargo xtask reproduce`: the study's five experiments as grids of independent cells, each
//! cell's result a JSON file written atomically (reruns skip finished cells), then figures,
//! `report.md` and a self-contained `report.html`. `run-cell ID` runs one cell of an existing
//! run (what a Slurm array task does) and `collect` rebuilds the report from finished cells.
//!
//! Experiments 1–3 train models; 4 (SOAP similarity) and 5 (MD stability) are measurements
//! taken in those cells for every trained model — experiment 5 with the single-molecule models
//! of 1–2 — and analysed across all of them.

pub mod baseline_model;
pub mod cell_splits;
pub mod data;
pub mod execute;
pub mod exp_cross;
pub mod exp_md;
pub mod exp_sample;
pub mod exp_soap;
pub mod exp_time;
pub mod grid;
pub mod measure;
pub mod model;
pub mod nequip_model;
pub mod plots;
pub mod preset;
pub mod report;
pub mod slurm;
pub mod stats;
pub mod store;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::device::{Device, Executor};
use data::{DataCache, DataSource};
use execute::{CellProgress, RunContext};
use grid::{CellSpec, Experiment};
use model::ModelKind;
use preset::{Plan, Preset};
use store::{Manifest, RunDir};

/// Options of `reproduce`.
#[derive(Debug, Clone, Args)]
pub struct ReproduceArgs {
    /// Grid sizes and measurement settings.
    #[arg(long, value_enum, default_value = "quick")]
    pub preset: Preset,
    /// The model to train (`baseline`: the two-body floor every MLFF must beat, seconds per cell).
    #[arg(long, value_enum, default_value = "nequip")]
    pub model: ModelKind,
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

    fn run_name(&self) -> String {
        self.run.clone().unwrap_or_else(|| {
            let model = serde_json::to_value(self.model)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let preset = serde_json::to_value(self.preset)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{preset}-{model}")
        })
    }
}

fn all_molecules(plan: &Plan) -> Vec<String> {
    let mut all: Vec<String> = plan
        .sample
        .molecules
        .iter()
        .chain(&plan.time.molecules)
        .chain(&plan.cross.molecules)
        .chain(&plan.cross.ladder)
        .chain(std::iter::once(&plan.cross.ladder_target))
        .cloned()
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Checks the plan against the data before anything trains: every problem in one message.
/// Sizes of a preset that the data cannot supply are dropped with a notice instead.
fn check_plan(
    plan: &mut Plan,
    frames: &BTreeMap<String, usize>,
    explicit_sizes: bool,
) -> Result<()> {
    let mut problems = Vec::new();
    let mut kept = Vec::new();
    for &size in &plan.sample.sizes {
        let failures: Vec<String> = plan
            .sample
            .molecules
            .iter()
            .filter_map(|m| {
                exp_sample::check_size(plan, size, frames[m])
                    .err()
                    .map(|e| format!("{m}: {e}"))
            })
            .collect();
        match (failures.is_empty(), explicit_sizes) {
            (true, _) => kept.push(size),
            (false, true) => problems.extend(failures),
            (false, false) => tracing::warn!("preset size {size} dropped: {}", failures.join("; ")),
        }
    }
    plan.sample.sizes = kept;
    for m in &plan.time.molecules {
        if let Err(e) = exp_time::check(plan, frames[m]) {
            problems.push(format!("{m}: {e}"));
        }
    }
    if let Err(e) = exp_cross::check(plan, frames) {
        problems.push(e);
    }
    if !problems.is_empty() {
        bail!(
            "the configuration does not fit the data:\n  - {}",
            problems.join("\n  - ")
        );
    }
    Ok(())
}

fn code_version() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit =
        git(&["describe", "--always", "--dirty"]).unwrap_or_else(|| "unknown commit".into());
    format!("xtask {} ({commit})", env!("CARGO_PKG_VERSION"))
}

/// Prepares a run: plan, data checks, grid, manifest. Returns the manifest and the selected cells.
pub fn prepare(args: &ReproduceArgs) -> Result<(RunDir, Manifest, Vec<CellSpec>, DataCache)> {
    let mut plan = args.resolved_plan()?;
    let source = DataSource::new(args.data.clone(), args.frame_spacing_fs);
    let molecules = all_molecules(&plan);
    source.ensure_available(&molecules)?;
    let cache = DataCache::new(source.clone());
    let frames = molecules
        .iter()
        .map(|m| Ok((m.clone(), cache.get(m)?.dataset.len())))
        .collect::<Result<BTreeMap<_, _>>>()?;
    check_plan(&mut plan, &frames, !args.sizes.is_empty())?;
    let all = grid::build(&plan);
    let selected = grid::filter(all.clone(), &args.only);
    if selected.is_empty() {
        bail!(
            "--only {} selects no cell; `--cells` lists them",
            args.only.join(",")
        );
    }
    let name = args.run_name();
    let run = RunDir::new(args.results.join(&name));
    let manifest = Manifest {
        name,
        model: args.model,
        data: source,
        plan,
        cells: all,
    };
    if let Ok(existing) = run.manifest()
        && (existing.plan != manifest.plan
            || existing.model != manifest.model
            || existing.data != manifest.data)
    {
        bail!(
            "{} holds a run with different settings; pass --run NAME for a new one",
            run.root().display()
        );
    }
    Ok((run, manifest, selected, cache))
}

/// Calls `f` with the run context of `manifest` (its model's factory on `executor`, the code
/// version).
fn with_context<T>(
    manifest: &Manifest,
    cache: &DataCache,
    executor: &Executor,
    f: impl FnOnce(&RunContext<'_>) -> Result<T>,
) -> Result<T> {
    let factory = manifest.model.factory(manifest.plan.preset, executor)?;
    let version = code_version();
    f(&RunContext {
        plan: &manifest.plan,
        data: cache,
        factory: factory.as_ref(),
        code_version: &version,
    })
}

/// Writes the run's manifest and the Slurm scripts of its cells into `dir` (the scripts pass
/// `--device` on; nothing here needs the device).
fn emit_slurm(args: &ReproduceArgs, dir: &Path) -> Result<()> {
    let (run, manifest, selected, _) = prepare(args)?;
    run.save_manifest(&manifest)?;
    let options = slurm::SlurmOptions {
        cpus_per_task: args.slurm_cpus,
        time_limit: args.slurm_time.clone(),
        extra: Vec::new(),
        device: args.device,
    };
    let repo = std::env::current_dir()?;
    let files = slurm::emit(dir, &repo, run.root(), &manifest.name, &selected, &options)?;
    println!("{}", files.array.display());
    println!("{}", files.collect.display());
    println!("submit with: {}", files.submit.display());
    Ok(())
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
    if let Some(dir) = &args.emit_slurm {
        return emit_slurm(args, dir);
    }
    // Opened before anything is written, so a missing GPU is reported at once.
    let executor = args.device.open()?;
    let (run, manifest, selected, cache) = prepare(args)?;
    run.save_manifest(&manifest)?;
    let failures = with_context(&manifest, &cache, &executor, |context| {
        // A GPU serves one cell at a time unless told otherwise.
        let jobs = match args.device {
            Device::Cpu => args.jobs,
            _ => args.jobs.max(1),
        };
        run_cells(&run, &selected, context, parallelism(jobs))
    })?;
    let results = run.finished_cells(&manifest);
    report::write(&run, &manifest, &results)?;
    println!("{}", run.root().join("report.html").display());
    if !failures.is_empty() {
        bail!(
            "{} cells failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    Ok(())
}

/// Progress of one cell on an indicatif bar.
struct BarProgress<'a>(&'a ProgressBar);

impl CellProgress for BarProgress<'_> {
    fn stage(&self, stage: &str, fraction: f64) {
        self.0.set_message(stage.to_string());
        self.0.set_position((fraction * 100.0).round() as u64);
    }
}

/// Cells run at once and rayon threads per cell for `jobs` (0: one cell per core).
fn parallelism(jobs: usize) -> (usize, usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = if jobs == 0 { cores } else { jobs };
    (jobs, (cores / jobs).max(1))
}

/// Runs `cells` (skipping finished ones), `jobs` at a time, each on its own rayon pool of
/// `threads` threads: independent cells keep every core busy where one small model would not.
/// Results do not depend on either number (the kernels' work split is fixed).
fn run_cells(
    run: &RunDir,
    cells: &[CellSpec],
    context: &RunContext<'_>,
    (jobs, threads): (usize, usize),
) -> Result<Vec<String>> {
    let bars = MultiProgress::new();
    let experiment_style =
        ProgressStyle::with_template("{prefix:>34} [{bar:30}] {pos}/{len} cells, ETA {eta}")?
            .progress_chars("=> ");
    let mut experiment_bars: BTreeMap<Experiment, ProgressBar> = BTreeMap::new();
    for cell in cells {
        let e = cell.experiment();
        experiment_bars
            .entry(e)
            .or_insert_with(|| {
                bars.add(
                    ProgressBar::new(0)
                        .with_style(experiment_style.clone())
                        .with_prefix(e.title()),
                )
            })
            .inc_length(1);
    }
    let cell_style =
        ProgressStyle::with_template("{prefix:>34} [{bar:30}] {percent}% {msg}, ETA {eta}")?
            .progress_chars("=> ");
    let queue = std::sync::Mutex::new(cells.iter());
    let failures = std::sync::Mutex::new(Vec::new());
    let worker = || -> Result<()> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()?;
        let cell_bar = bars.add(ProgressBar::new(100).with_style(cell_style.clone()));
        loop {
            let next = queue
                .lock()
                .map_err(|_| anyhow::anyhow!("cell queue poisoned"))?
                .next();
            let Some(cell) = next else { break };
            let id = cell.id();
            let bar = &experiment_bars[&cell.experiment()];
            if run.finished(&id).is_some() {
                bar.inc(1);
                continue;
            }
            cell_bar.reset();
            cell_bar.set_prefix(id.clone());
            match pool.install(|| execute::execute(cell, context, &BarProgress(&cell_bar))) {
                Ok(result) => run.save_cell(&result)?,
                Err(e) => {
                    bars.suspend(|| tracing::error!("cell {id} failed: {e:#}"));
                    failures
                        .lock()
                        .map_err(|_| anyhow::anyhow!("failure list poisoned"))?
                        .push(format!("{id}: {e:#}"));
                }
            }
            bar.inc(1);
        }
        cell_bar.finish_and_clear();
        Ok(())
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..jobs.min(cells.len()).max(1))
            .map(|_| scope.spawn(worker))
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join()
                .map_err(|_| anyhow::anyhow!("a cell worker panicked"))?
        })
    })?;
    experiment_bars.values().for_each(ProgressBar::finish);
    failures
        .into_inner()
        .map_err(|_| anyhow::anyhow!("failure list poisoned"))
}

/// Runs `run-cell`: one cell of an existing run (skipped if finished).
pub fn run_cell(args: &RunCellArgs) -> Result<()> {
    let run = RunDir::new(args.run_dir.clone());
    let manifest = run.manifest()?;
    let cell = manifest
        .cells
        .iter()
        .find(|c| c.id() == args.id)
        .with_context(|| format!("no cell `{}` in {}", args.id, run.root().display()))?;
    if run.finished(&args.id).is_some() {
        println!("{} already finished", args.id);
        return Ok(());
    }
    let cache = DataCache::new(manifest.data.clone());
    struct LogProgress;
    impl CellProgress for LogProgress {
        fn stage(&self, stage: &str, fraction: f64) {
            tracing::info!("{stage} ({:.0}%)", fraction * 100.0);
        }
    }
    let executor = args.device.open()?;
    let result = with_context(&manifest, &cache, &executor, |context| {
        execute::execute(cell, context, &LogProgress)
    })?;
    run.save_cell(&result)?;
    println!("{}", args.id);
    Ok(())
}

/// Runs `collect`: the report from whatever cells have finished.
pub fn collect(args: &CollectArgs) -> Result<()> {
    let run = RunDir::new(args.run_dir.clone());
    let manifest = run.manifest()?;
    let results = run.finished_cells(&manifest);
    report::write(&run, &manifest, &results)?;
    println!(
        "{} ({} of {} cells)",
        run.root().join("report.html").display(),
        results.len(),
        manifest.cells.len()
    );
    Ok(())
}
