//! `cargo xtask data info|convert`: look at and convert dataset files.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use mlff_data::{EnergyUnit, Format, LoadOptions, OutputFormat, Summary, XyzOptions};
use std::path::PathBuf;

/// Dataset tools.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Print format, molecule, frames, atoms, elements, energy/force statistics and time order.
    Info {
        /// Files to describe.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// How to read the input.
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Convert between MD17 npz, rMD17 npz and extended XYZ.
    Convert {
        /// Input file (format detected from content).
        input: PathBuf,
        /// Output file.
        output: PathBuf,
        /// Output format (default: from the extension; `rmd17*.npz` → rMD17 layout).
        #[arg(long, value_enum)]
        to: Option<OutputKind>,
        /// Convert energies (and forces) to this unit first.
        #[arg(long, value_enum)]
        energy_unit: Option<UnitArg>,
        /// How to read the input.
        #[command(flatten)]
        read: ReadArgs,
    },
}

/// Options for reading input files.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Override format detection.
    #[arg(long, value_enum)]
    format: Option<InputKind>,
    /// Extended XYZ: the comment-line key holding energies (default: energy, REF_energy, …).
    #[arg(long)]
    energy_key: Option<String>,
    /// Extended XYZ: the per-atom property holding forces (default: forces, REF_forces, …).
    #[arg(long)]
    forces_key: Option<String>,
    /// Extended XYZ: the energy unit when the file does not state one (default kcal/mol).
    #[arg(long, value_enum)]
    xyz_energy_unit: Option<UnitArg>,
}

/// Input formats a user may force.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InputKind {
    /// rMD17 npz.
    Rmd17,
    /// MD17 npz.
    Md17,
    /// Extended XYZ.
    Extxyz,
    /// Plain XYZ.
    Xyz,
}

/// Output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputKind {
    /// MD17-layout npz.
    Md17,
    /// rMD17-layout npz.
    Rmd17,
    /// Extended XYZ.
    Extxyz,
}

/// Energy units on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnitArg {
    /// kcal/mol.
    KcalMol,
    /// eV.
    Ev,
    /// meV.
    Mev,
}

impl From<UnitArg> for EnergyUnit {
    fn from(u: UnitArg) -> Self {
        match u {
            UnitArg::KcalMol => EnergyUnit::KcalPerMol,
            UnitArg::Ev => EnergyUnit::ElectronVolt,
            UnitArg::Mev => EnergyUnit::MilliElectronVolt,
        }
    }
}

impl ReadArgs {
    /// The library's load options.
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            format: self.format.map(|f| match f {
                InputKind::Rmd17 => Format::Rmd17Npz,
                InputKind::Md17 => Format::Md17Npz,
                InputKind::Extxyz => Format::ExtXyz,
                InputKind::Xyz => Format::Xyz,
            }),
            xyz: XyzOptions {
                energy_key: self.energy_key.clone(),
                forces_key: self.forces_key.clone(),
                energy_unit: self.xyz_energy_unit.map(Into::into),
            },
        }
    }
}

/// Runs a `data` subcommand.
pub fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Info { files, json, read } => {
            let opts = read.options();
            for file in files {
                let data = mlff_data::load_with(&file, &opts)
                    .with_context(|| format!("loading {}", file.display()))?;
                let summary = Summary::of(&data);
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({ "file": file, "summary": summary })
                        )?
                    );
                } else {
                    println!("{}\n{summary}", file.display());
                }
            }
            Ok(())
        }
        DataCommand::Convert {
            input,
            output,
            to,
            energy_unit,
            read,
        } => {
            let mut data = mlff_data::load_with(&input, &read.options())
                .with_context(|| format!("loading {}", input.display()))?;
            if let Some(unit) = energy_unit {
                data = data.with_energy_unit(unit.into());
            }
            let format = match to {
                Some(OutputKind::Md17) => OutputFormat::Md17Npz,
                Some(OutputKind::Rmd17) => OutputFormat::Rmd17Npz,
                Some(OutputKind::Extxyz) => OutputFormat::ExtXyz,
                None => OutputFormat::from_path(&output).with_context(|| {
                    format!(
                        "cannot tell the output format from `{}`: use --to md17|rmd17|extxyz",
                        output.display()
                    )
                })?,
            };
            mlff_data::save(&data, &output, format)
                .with_context(|| format!("writing {}", output.display()))?;
            tracing::info!(frames = data.len(), output = %output.display(), "converted");
            Ok(())
        }
    }
}
