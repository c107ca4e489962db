//! The embedded default dataset — a time-ordered MD trajectory per
//! molecule with UFF (or an sGDML model), in MD17 layout and in rMD17 layout (a recorded
//! shuffle with `old_indices`, as the real rMD17 is).
//!
//! Each molecule is one cell: its files and a `<molecule>.gen.json` record of the parameters are
//! written atomically, and a rerun skips molecules whose record matches, so an interrupted run
//! resumes without redoing finished molecules.

use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use mlff_data::{Dataset, DatasetParts, OutputFormat, Provenance, Species, TimeOrder, Units};
use mlff_md::{
    BUILTIN_MOLECULES, Molecule, Potential, SgdmlModel, Thermostat, TrajectoryConfig, UffPotential,
};
use ndarray::{Array1, Array3};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What to generate (the options of `gen-data`).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct GenerateOptions {
    /// Molecules (comma-separated; default: all ten rMD17 molecules). Ignored with an sGDML potential.
    #[cfg_attr(feature = "clap", arg(long, value_delimiter = ','))]
    pub molecules: Vec<String>,
    /// The potential: `uff` or `sgdml:PATH` (an sGDML model file).
    #[cfg_attr(feature = "clap", arg(long, default_value = "uff"))]
    pub potential: String,
    /// Frames to save per molecule.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = DEFAULT_FRAMES))]
    pub frames: usize,
    /// Integration steps between saved frames.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = DEFAULT_SAVE_EVERY))]
    pub save_every: usize,
    /// Equilibration steps before the first saved frame.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = DEFAULT_EQUILIBRATION))]
    pub equilibration: usize,
    /// Temperature in K.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 500.0))]
    pub temperature: f64,
    /// Time step in fs.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.5))]
    pub dt: f64,
    /// Seed of every random choice (velocities, thermostat noise, the rMD17-layout shuffle).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0))]
    pub seed: u64,
    /// Output directory.
    #[cfg_attr(feature = "clap", arg(long, default_value = "data/generated"))]
    pub out: PathBuf,
}

/// Frames of the default data: with [`DEFAULT_SAVE_EVERY`] steps of 0.5 fs between them,
/// 100 ps per molecule — the span of an MD17 trajectory, which rMD17 samples (design notes §13).
pub const DEFAULT_FRAMES: usize = 20_000;
/// Integration steps between saved frames of the default data (5 fs at 0.5 fs steps).
pub const DEFAULT_SAVE_EVERY: usize = 10;
/// Equilibration steps of the default data (2 ps at 0.5 fs) before the first saved frame.
pub const DEFAULT_EQUILIBRATION: usize = 4_000;

impl GenerateOptions {
    /// The embedded default data (UFF, 500 K, 0.5 fs steps, 100 ps) of `molecules` into `out`.
    pub fn default_data(molecules: Vec<String>, out: PathBuf) -> Self {
        Self {
            molecules,
            potential: "uff".into(),
            frames: DEFAULT_FRAMES,
            save_every: DEFAULT_SAVE_EVERY,
            equilibration: DEFAULT_EQUILIBRATION,
            temperature: 500.0,
            dt: 0.5,
            seed: 0,
            out,
        }
    }
}

/// Seed offset of the rMD17-layout shuffle, so it draws a stream independent of the MD noise.
const RMD17_SHUFFLE_STREAM: u64 = 0x726d_6431_3700;

/// Version of the generation procedure: a change here regenerates cached data.
const GENERATOR: &str = "mlffbench-gen-data/1";

/// One molecule to simulate: its name, potential, starting geometry and atomic numbers.
struct Job {
    name: String,
    potential: Box<dyn Potential>,
    start: Vec<mlff_md::Vec3>,
    atomic_numbers: Vec<u8>,
}

/// What was generated, recorded beside the files so reruns can skip finished molecules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    generator: String,
    molecule: String,
    potential: String,
    frames: usize,
    save_every: usize,
    equilibration: usize,
    temperature_k: f64,
    dt_fs: f64,
    seed: u64,
}

/// Runs `gen-data`; returns the MD17-layout files written or found.
pub fn run(args: &GenerateOptions) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let jobs: Vec<Job> = match args.potential.split_once(':') {
        Some(("sgdml", path)) => {
            let model = SgdmlModel::load(Path::new(path))
                .with_context(|| format!("loading sGDML model {path}"))?;
            let start = model.training_geometry(0)?;
            let z = model.atomic_numbers().to_vec();
            let name = Path::new(path)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("sgdml")
                .to_owned();
            vec![Job {
                name,
                potential: Box::new(model),
                start,
                atomic_numbers: z,
            }]
        }
        None if args.potential == "uff" => {
            let names: Vec<String> = if args.molecules.is_empty() {
                BUILTIN_MOLECULES.iter().map(|s| s.to_string()).collect()
            } else {
                args.molecules.clone()
            };
            names
                .into_iter()
                .map(|name| {
                    let molecule = Molecule::builtin(&name).with_context(|| {
                        format!(
                            "unknown molecule `{name}`; known: {}",
                            BUILTIN_MOLECULES.join(", ")
                        )
                    })?;
                    let uff = UffPotential::new(&molecule)?;
                    Ok(Job {
                        name,
                        potential: Box::new(uff),
                        start: molecule.positions(),
                        atomic_numbers: molecule.atomic_numbers(),
                    })
                })
                .collect::<Result<_>>()?
        }
        _ => bail!(
            "unknown potential `{}`: use `uff` or `sgdml:PATH`",
            args.potential
        ),
    };
    let bars = MultiProgress::new();
    jobs.into_par_iter()
        .map(|job| {
            let record = Record {
                generator: GENERATOR.to_owned(),
                molecule: job.name.clone(),
                potential: args.potential.clone(),
                frames: args.frames,
                save_every: args.save_every,
                equilibration: args.equilibration,
                temperature_k: args.temperature,
                dt_fs: args.dt,
                seed: args.seed,
            };
            generate_one(&args.out, &record, &job, &bars)
        })
        .collect()
}

fn record_path(out: &Path, name: &str) -> PathBuf {
    out.join(format!("{name}.gen.json"))
}

/// Generates one molecule unless its record shows it is already done.
fn generate_one(out: &Path, record: &Record, job: &Job, bars: &MultiProgress) -> Result<PathBuf> {
    let name = &record.molecule;
    let md17 = out.join(format!("md17_{name}.npz"));
    let rmd17 = out.join(format!("rmd17_{name}.npz"));
    let done = std::fs::read_to_string(record_path(out, name))
        .ok()
        .and_then(|t| serde_json::from_str::<Record>(&t).ok());
    if done.as_ref() == Some(record) && md17.exists() && rmd17.exists() {
        tracing::info!(molecule = %name, "already generated");
        return Ok(md17);
    }
    let config = TrajectoryConfig {
        temperature_k: record.temperature_k,
        dt_fs: record.dt_fs,
        equilibration_steps: record.equilibration,
        n_frames: record.frames,
        save_every: record.save_every,
        seed: record.seed,
        thermostat: Thermostat::Langevin {
            friction_per_fs: 0.01,
        },
        ..TrajectoryConfig::default()
    };
    let bar = bars.add(ProgressBar::new(100));
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:30}] {percent:>3}% ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(name.clone());
    let traj = mlff_md::generate_trajectory(
        &job.atomic_numbers,
        &job.start,
        job.potential.as_ref(),
        &config,
        &mut |p| bar.set_position((100 * p.steps_done / p.total_steps.max(1)) as u64),
    )
    .with_context(|| format!("generating the {name} trajectory"))?;
    bar.finish_and_clear();
    let (t, n) = (traj.n_frames(), traj.n_atoms());
    let data = Dataset::new(DatasetParts {
        species: Species::Fixed(Array1::from(traj.atomic_numbers.clone())),
        positions: Array3::from_shape_vec((t, n, 3), traj.positions)?,
        energies: Some(Array1::from(traj.energies)),
        forces: Some(Array3::from_shape_vec((t, n, 3), traj.forces)?),
        time_order: TimeOrder::Sequential,
        units: Units::KCAL_MOL_ANGSTROM,
        provenance: Provenance {
            molecule: Some(name.clone()),
            theory: Some(match record.potential.as_str() {
                "uff" => "UFF (RDKit parameters), classical".to_owned(),
                other => format!("sGDML model {other}"),
            }),
            time_step_fs: Some(traj.dt_fs),
            ..Provenance::default()
        },
    })?;
    mlff_data::save(&data, &md17, OutputFormat::Md17Npz)?;
    let mut order: Vec<usize> = (0..t).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(
        record.seed ^ RMD17_SHUFFLE_STREAM,
    ));
    let shuffled = data.select(&order)?.to_dataset()?;
    mlff_data::save(&shuffled, &rmd17, OutputFormat::Rmd17Npz)?;
    let json = serde_json::to_string_pretty(record)?;
    let path = record_path(out, name);
    mlff_data::write_atomically(&path, |f| {
        use std::io::Write;
        f.write_all(json.as_bytes())
            .map_err(|source| mlff_data::DataError::Io {
                file: path.clone(),
                source,
            })
    })?;
    tracing::info!(molecule = %name, frames = t, "generated");
    Ok(md17)
}
