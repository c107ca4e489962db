//! The command line: one subcommand per task, each delegating to a module.

use crate::{
    data_cmd, eval_cmd, fetch, potential_cmd, reproduce_cmd as reproduce, score_cmd, soap_cmd,
    split_cmd, train_cmd,
};
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// The mlffbench runner: data tools, experiments and reports.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about, propagate_version = true)]
pub struct Cli {
    /// Log verbosity (`RUST_LOG` syntax also works through the environment), e.g. `debug`.
    #[arg(long, global = true, default_value = "info")]
    pub log: String,
    /// The task.
    #[command(subcommand)]
    pub command: Command,
}

/// Every task the runner knows.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Inspect and convert dataset files (rMD17/MD17 npz, extended XYZ, XYZ).
    #[command(subcommand)]
    Data(data_cmd::DataCommand),
    /// Download the real rMD17 or MD17 data (resumable, checksum-verified).
    FetchData {
        /// Which collection.
        #[arg(value_enum)]
        collection: fetch::Collection,
        /// Where to put the files.
        #[arg(long, default_value = "data/downloads")]
        dest: PathBuf,
        /// Only these molecules (comma-separated); all by default.
        #[arg(long, value_delimiter = ',')]
        molecules: Vec<String>,
        /// rMD17 only: fetch the whole archive (with the published index files) and unpack it.
        #[arg(long)]
        archive: bool,
    },
    /// Generate the embedded default data: UFF (or sGDML) MD trajectories, MD17 and rMD17 layouts.
    GenData(mlff_bench::generate::GenerateOptions),
    /// Evaluate UFF or an sGDML model on every frame of a file (predictions npz).
    Potential(potential_cmd::PotentialArgs),
    /// Train/validation/test splits: `split create --data FILE --strategy … --out split.json`
    /// writes one; `split show split.json` summarises and verifies it.
    #[command(subcommand)]
    Split(split_cmd::SplitCommand),
    /// Score any model's predictions (npz) on a split's test sets; Markdown table + JSON.
    ///
    /// Predictions npz: `energies (T)` and `forces (T, N, 3)` (float64 or float32), optional
    /// 0-d string `unit` (or `energy_unit`) = kcal/mol (default), eV or meV; forces in that unit
    /// per Å. Frame t is the run's t-th test frame in ascending index order, or frame t of the
    /// dataset when T equals its frame count (as `potential` writes). One file per run of the
    /// split, or one file and `--run N`.
    Score(score_cmd::ScoreArgs),
    /// SOAP descriptors (DScribe conventions) of a dataset's frames, written to npz.
    ///
    /// Frames are computed `--chunk-frames` at a time (in parallel) and each chunk is appended
    /// to the npz's `soap` array with npyz's streaming writer, so memory holds one chunk of
    /// descriptors. The file also holds `frames`, `params_json` and each parameter.
    Soap(soap_cmd::SoapArgs),
    /// SOAP similarity of every test frame to a training set (max and mean), plus a summary.
    Similarity(soap_cmd::SimilarityArgs),
    /// Evaluate a NequIP model (our checkpoint, or a pip nequip `config.json` + `weights.npz`
    /// directory) on a dataset file: per-atom energy MAE, force MAE, predictions npz.
    Eval(eval_cmd::EvalArgs),
    /// Train NequIP on a dataset file (nequip-style YAML/TOML config); checkpoints, curves,
    /// `--resume` continues an interrupted run exactly.
    Train(train_cmd::TrainArgs),
    /// Reproduce the study: experiments 1–5 as resumable cells, then report.md/report.html.
    Reproduce(reproduce::ReproduceArgs),
    /// Run one cell of an existing run (what a Slurm array task does).
    RunCell(reproduce::RunCellArgs),
    /// Merge the finished cells of a run into its report.
    Collect(reproduce::CollectArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Data(cmd) => data_cmd::run(cmd),
        Command::FetchData {
            collection,
            dest,
            molecules,
            archive,
        } => {
            for source in fetch::catalog(collection, &molecules, archive)? {
                let path = fetch::fetch(&source, &dest, true)?;
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::GenData(args) => {
            for path in mlff_bench::generate::run(&args)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::Potential(args) => potential_cmd::run(&args),
        Command::Split(cmd) => split_cmd::run(&cmd),
        Command::Score(args) => score_cmd::run(&args),
        Command::Soap(args) => soap_cmd::run_soap(&args),
        Command::Similarity(args) => soap_cmd::run_similarity(&args),
        Command::Eval(args) => eval_cmd::run(&args).map(|_| ()),
        Command::Train(args) => train_cmd::run(&args).map(|_| ()),
        Command::Reproduce(args) => reproduce::run(&args),
        Command::RunCell(args) => reproduce::run_cell(&args),
        Command::Collect(args) => reproduce::collect(&args),
    }
}
