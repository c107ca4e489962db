//! `cargo xtask potential`: evaluate a reference potential (UFF or sGDML) on every frame of a
//! dataset file and write predictions in the format `score` reads.

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use mlff_md::{Molecule, Potential, SgdmlModel, UffPotential};
use std::path::{Path, PathBuf};

/// Options of `potential`.
#[derive(Debug, Args)]
pub struct PotentialArgs {
    /// `uff:MOLECULE` (one of the ten built-in molecules) or `sgdml:PATH`.
    #[arg(long)]
    pub potential: String,
    /// The frames to evaluate (any dataset format).
    #[arg(long)]
    pub data: PathBuf,
    /// Output npz: `energies (T)` in kcal/mol, `forces (T,N,3)` in kcal/mol/Å.
    #[arg(long)]
    pub out: PathBuf,
}

/// Builds the potential named on the command line.
pub fn parse_potential(spec: &str) -> Result<Box<dyn Potential>> {
    Ok(match spec.split_once(':') {
        Some(("uff", molecule)) => Box::new(UffPotential::new(&Molecule::builtin(molecule)?)?),
        Some(("sgdml", path)) => Box::new(
            SgdmlModel::load(Path::new(path))
                .with_context(|| format!("loading sGDML model {path}"))?,
        ),
        _ => bail!("unknown potential `{spec}`: use `uff:MOLECULE` or `sgdml:PATH`"),
    })
}

/// Runs `potential`.
pub fn run(args: &PotentialArgs) -> Result<()> {
    let potential = parse_potential(&args.potential)?;
    let data =
        mlff_data::load(&args.data).with_context(|| format!("loading {}", args.data.display()))?;
    ensure!(
        data.n_atoms() == potential.n_atoms(),
        "{} has {} atoms per frame but the potential is for {} atoms",
        args.data.display(),
        data.n_atoms(),
        potential.n_atoms()
    );
    let positions = data.with_length_unit(mlff_data::LengthUnit::Angstrom);
    let flat: Vec<f64> = positions.positions().iter().copied().collect();
    let eval = mlff_md::evaluate_frames(potential.as_ref(), &flat)?;
    let (t, n) = (data.len(), data.n_atoms());
    mlff_data::format::write_npz_arrays(&args.out, |w| {
        w.floats("energies", &[t], eval.energies.iter())?;
        w.floats("forces", &[t, n, 3], eval.forces.iter())?;
        w.string("energy_unit", "kcal/mol")?;
        w.string("potential", &args.potential)
    })?;
    tracing::info!(frames = t, out = %args.out.display(), "predictions written");
    Ok(())
}
