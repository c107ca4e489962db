//! `cargo xtask potential`: evaluate a reference potential (UFF or sGDML), or an external model
//! through its card's serving command, on every frame of a dataset file and write predictions
//! in the format `score` reads.

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use mlff_md::{Molecule, Potential, SgdmlModel, UffPotential};
use std::path::{Path, PathBuf};

/// Options of `potential`.
#[derive(Debug, Args)]
pub struct PotentialArgs {
    /// `uff:MOLECULE` (one of the ten built-in molecules) or `sgdml:PATH`.
    #[arg(
        long,
        required_unless_present = "model_card",
        conflicts_with = "model_card"
    )]
    pub potential: Option<String>,
    /// Or an external model.
    #[command(flatten)]
    pub served: ServedModelArgs,
    /// The frames to evaluate (any dataset format).
    #[arg(long)]
    pub data: PathBuf,
    /// Output npz: `energies (T)` in kcal/mol, `forces (T,N,3)` in kcal/mol/Å.
    #[arg(long)]
    pub out: PathBuf,
}

/// An external model already trained, evaluated through its card's serving command (`potential`
/// and `score`).
#[derive(Debug, Args)]
pub struct ServedModelArgs {
    /// An external model's card: its serving command evaluates the frames over the i-PI socket
    /// (docs/external-models.md).
    #[arg(long, requires = "model_dir")]
    pub model_card: Option<PathBuf>,
    /// The trained model's directory (the card's `{model_dir}`).
    #[arg(long, requires = "model_card")]
    pub model_dir: Option<PathBuf>,
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

/// Predictions of the external model of `card` trained into `model_dir` on every frame of
/// `data`, in `data`'s units.
pub fn external_predictions(
    card: &Path,
    model_dir: &Path,
    data: &mlff_data::Dataset,
) -> Result<mlff_bench::Predictions> {
    let card = mlff_bench::external::ExternalCard::load(card)?;
    ensure!(
        model_dir.is_dir(),
        "--model-dir {} is not a directory",
        model_dir.display()
    );
    let work = tempfile::tempdir()?;
    let model = mlff_bench::external::served(card, &std::fs::canonicalize(model_dir)?, work.path());
    let predictions = model.predict(data)?;
    drop(model); // stops the servers before their folder goes
    Ok(predictions)
}

/// Runs `potential`.
pub fn run(args: &PotentialArgs) -> Result<()> {
    let data =
        mlff_data::load(&args.data).with_context(|| format!("loading {}", args.data.display()))?;
    if let (Some(card), Some(model_dir)) = (&args.served.model_card, &args.served.model_dir) {
        let data = data.converted(mlff_data::Units::KCAL_MOL_ANGSTROM);
        let p = external_predictions(card, model_dir, &data)?;
        let (t, n) = (data.len(), data.n_atoms());
        mlff_data::format::write_npz_arrays(&args.out, |w| {
            w.floats("energies", &[t], p.energies.iter())?;
            w.floats("forces", &[t, n, 3], p.forces.iter())?;
            w.string("energy_unit", "kcal/mol")?;
            w.string("potential", &format!("external:{}", card.display()))
        })?;
        tracing::info!(frames = t, out = %args.out.display(), "predictions written");
        return Ok(());
    }
    let spec = args.potential.as_deref().unwrap_or_default();
    let potential = parse_potential(spec)?;
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
        w.string("potential", spec)
    })?;
    tracing::info!(frames = t, out = %args.out.display(), "predictions written");
    Ok(())
}
