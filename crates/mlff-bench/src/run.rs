//! Running a benchmark: check the plan against the data, build the grid, run its cells (in
//! parallel, skipping finished ones, recording failures), and write the report. `run_cell`
//! runs one cell of an existing run (a Slurm array task), `collect` rebuilds the report.

use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::data::{DataCache, DataSource};
use crate::device::{Device, Executor};
use crate::execute::{self, CellProgress, RunContext};
use crate::grid::{self, CellSpec, ExperimentKey};
use crate::model::ModelSpec;
use crate::preset::Plan;
use crate::report;
use crate::slurm;
use crate::store::{Manifest, RunDir};

/// Everything a run needs: its settings, data, model and where to store it.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Name (recorded in the manifest; the run directory's last component by convention).
    pub name: String,
    /// Directory of the run (manifest, cells, figures, report).
    pub dir: PathBuf,
    /// The plan (a preset's, possibly edited).
    pub plan: Plan,
    /// Whether the plan's training sizes were asked for explicitly: sizes the data cannot
    /// supply are then an error, while a preset's are dropped with a notice.
    pub explicit_sizes: bool,
    /// The model.
    pub model: ModelSpec,
    /// Directory of the data (`None`: the embedded default data, generated if missing).
    pub data: Option<PathBuf>,
    /// Frame spacing for files that do not record it, fs.
    pub frame_spacing_fs: Option<f64>,
    /// Cell filters: experiment keys or cell-id prefixes (empty: every cell).
    pub only: Vec<String>,
    /// Cells run at once (0: one per core).
    pub jobs: usize,
    /// Where built-in models run.
    pub device: Device,
}

/// A prepared run: directory, manifest, the selected cells and the loaded data.
pub struct Prepared {
    /// The run directory.
    pub run: RunDir,
    /// What the run records in run.json.
    pub manifest: Manifest,
    /// The cells selected by the request's filters.
    pub selected: Vec<CellSpec>,
    /// The data, loaded once.
    pub cache: DataCache,
}

/// What [`run`] produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The HTML report.
    pub report: PathBuf,
    /// Cells that failed, each with its error (their records are in `cells/<id>.failed.json`).
    pub failures: Vec<String>,
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
    let problems: Vec<String> = crate::experiment::all()
        .iter()
        .flat_map(|e| e.check(plan, frames, explicit_sizes))
        .collect();
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
    format!("mlff-bench {} ({commit})", env!("CARGO_PKG_VERSION"))
}

/// Prepares a run: plan, data checks, grid, manifest; nothing is written.
pub fn prepare(request: &RunRequest) -> Result<Prepared> {
    let args = request;
    let mut plan = request.plan.clone();
    let source = DataSource::new(args.data.clone(), args.frame_spacing_fs);
    let molecules = all_molecules(&plan);
    source.ensure_available(&molecules)?;
    let cache = DataCache::new(source.clone());
    let frames = molecules
        .iter()
        .map(|m| Ok((m.clone(), cache.get(m)?.dataset.len())))
        .collect::<Result<BTreeMap<_, _>>>()?;
    check_plan(&mut plan, &frames, args.explicit_sizes)?;
    let all = grid::build(&plan);
    let selected = grid::filter(all.clone(), &args.only);
    if selected.is_empty() {
        bail!(
            "--only {} selects no cell; `--cells` lists them",
            args.only.join(",")
        );
    }
    let run = RunDir::new(args.dir.clone());
    let manifest = Manifest {
        name: args.name.clone(),
        model: args.model.clone(),
        data: source,
        plan,
        cells: all,
        data_sha256: molecules
            .iter()
            .map(|m| Ok((m.clone(), cache.get(m)?.record.sha256.clone())))
            .collect::<Result<_>>()?,
    };
    if let Ok(existing) = run.manifest() {
        let mut changed = Vec::new();
        if existing.plan != manifest.plan {
            changed.push("the plan".to_string());
        }
        if existing.model != manifest.model {
            changed.push("the model (or its card)".to_string());
        }
        if existing.data != manifest.data {
            changed.push("the data source".to_string());
        }
        // Runs started before fingerprints were recorded have none to compare.
        for (m, sha) in &existing.data_sha256 {
            if manifest.data_sha256.get(m).is_some_and(|now| now != sha) {
                changed.push(format!("the contents of {m}'s data file"));
            }
        }
        if !changed.is_empty() {
            bail!(
                "{} holds a run with different settings ({}); pass --run NAME for a new one",
                run.root().display(),
                changed.join(", ")
            );
        }
    }
    Ok(Prepared {
        run,
        manifest,
        selected,
        cache,
    })
}

/// Calls `f` with the run context of `manifest` (its model's factory on `executor`, the code
/// version).
fn with_context<T>(
    work_root: &Path,
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
        work_root,
    })
}

/// Writes the run's manifest and the Slurm scripts of its cells into `dir` (the scripts pass
/// `--device` on; nothing here needs the device). `repo` is where `cargo xtask` runs.
pub fn emit_slurm(
    request: &RunRequest,
    dir: &Path,
    repo: &Path,
    options: &slurm::SlurmOptions,
) -> Result<slurm::SlurmFiles> {
    let prepared = prepare(request)?;
    prepared.run.save_manifest(&prepared.manifest)?;
    slurm::emit(
        dir,
        repo,
        prepared.run.root(),
        &prepared.manifest.name,
        &prepared.selected,
        options,
    )
}

/// Runs every selected cell that has not finished and writes the report. Failed cells are
/// listed in the outcome (and recorded beside the results); the others' results stand.
pub fn run(request: &RunRequest) -> Result<RunOutcome> {
    // Opened before anything is written, so a missing GPU is reported at once.
    let executor = request.device.open()?;
    let Prepared {
        run,
        manifest,
        selected,
        cache,
    } = prepare(request)?;
    run.save_manifest(&manifest)?;
    let failures = with_context(
        &run.root().join("work"),
        &manifest,
        &cache,
        &executor,
        |context| {
            // A GPU serves one cell at a time unless told otherwise.
            let jobs = match request.device {
                Device::Cpu => request.jobs,
                _ => request.jobs.max(1),
            };
            run_cells(&run, &selected, context, parallelism(jobs))
        },
    )?;
    let results = run.finished_cells(&manifest);
    report::write(&run, &manifest, &results)?;
    Ok(RunOutcome {
        report: run.root().join("report.html"),
        failures,
    })
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
    let mut experiment_bars: BTreeMap<ExperimentKey, ProgressBar> = BTreeMap::new();
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
                    run.save_failure(&id, &format!("{e:#}"))?;
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

/// Runs the cell `id` of the run in `run_dir` (nothing when it has finished); returns whether
/// it ran.
pub fn run_cell(run_dir: &Path, id: &str, device: Device) -> Result<bool> {
    let run = RunDir::new(run_dir.to_path_buf());
    let manifest = run.manifest()?;
    let cell = manifest
        .cells
        .iter()
        .find(|c| c.id() == id)
        .with_context(|| format!("no cell `{id}` in {}", run.root().display()))?;
    if run.finished(id).is_some() {
        return Ok(false);
    }
    let cache = DataCache::new(manifest.data.clone());
    struct LogProgress;
    impl CellProgress for LogProgress {
        fn stage(&self, stage: &str, fraction: f64) {
            tracing::info!("{stage} ({:.0}%)", fraction * 100.0);
        }
    }
    let executor = device.open()?;
    let result = with_context(
        &run.root().join("work"),
        &manifest,
        &cache,
        &executor,
        |context| execute::execute(cell, context, &LogProgress),
    );
    match result {
        Ok(result) => run.save_cell(&result)?,
        Err(e) => {
            run.save_failure(id, &format!("{e:#}"))?;
            return Err(e);
        }
    }
    Ok(true)
}

/// Rebuilds the report of the run in `run_dir` from whatever cells have finished; returns the
/// report's path, the finished and the total number of cells.
pub fn collect(run_dir: &Path) -> Result<(PathBuf, usize, usize)> {
    let run = RunDir::new(run_dir.to_path_buf());
    let manifest = run.manifest()?;
    let results = run.finished_cells(&manifest);
    report::write(&run, &manifest, &results)?;
    Ok((
        run.root().join("report.html"),
        results.len(),
        manifest.cells.len(),
    ))
}
