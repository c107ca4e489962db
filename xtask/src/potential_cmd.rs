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

/// Builds the potential named on the command line, with the atomic numbers it was built for.
pub fn parse_potential(spec: &str) -> Result<(Box<dyn Potential>, Vec<u8>)> {
    Ok(match spec.split_once(':') {
        Some(("uff", molecule)) => {
            let molecule = Molecule::builtin(molecule)?;
            let z = molecule.atomic_numbers();
            (Box::new(UffPotential::new(&molecule)?), z)
        }
        Some(("sgdml", path)) => {
            let model = SgdmlModel::load(Path::new(path))
                .with_context(|| format!("loading sGDML model {path}"))?;
            let z = model.atomic_numbers().to_vec();
            (Box::new(model), z)
        }
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
    let data = mlff_data::load(&args.data)
        .with_context(|| format!("loading {}", args.data.display()))?
        .converted(mlff_data::Units::KCAL_MOL_ANGSTROM);
    let (energies, forces, label) = match (&args.served.model_card, &args.served.model_dir) {
        (Some(card), Some(model_dir)) => {
            let p = external_predictions(card, model_dir, &data)?;
            (p.energies, p.forces, format!("external:{}", card.display()))
        }
        _ => {
            let spec = args.potential.as_deref().unwrap_or_default();
            let (potential, z) = parse_potential(spec)?;
            check_species(&data, &z, spec, &args.data)?;
            let flat: Vec<f64> = data.positions().iter().copied().collect();
            let eval = mlff_md::evaluate_frames(potential.as_ref(), &flat)?;
            (eval.energies, eval.forces, spec.to_owned())
        }
    };
    let (t, n) = (data.len(), data.n_atoms());
    // A geometry the potential cannot describe (overlapping atoms, coordinates far out) gives
    // NaN or infinity: refused rather than written as predictions.
    if let Some(frame) = (0..t).find(|&f| {
        !energies[f].is_finite()
            || !forces[f * n * 3..(f + 1) * n * 3]
                .iter()
                .all(|v| v.is_finite())
    }) {
        bail!(
            "{label} gives a non-finite energy or force on frame {frame} of {} (overlapping \
             atoms or coordinates out of range?); nothing written",
            args.data.display()
        );
    }
    mlff_data::format::write_npz_arrays(&args.out, |w| {
        w.floats("energies", &[t], energies.iter())?;
        w.floats("forces", &[t, n, 3], forces.iter())?;
        w.string("energy_unit", "kcal/mol")?;
        w.string("potential", &label)
    })?;
    tracing::info!(frames = t, out = %args.out.display(), "predictions written");
    Ok(())
}

/// Refuses frames whose atoms are not, in order, those the potential was built for.
fn check_species(data: &mlff_data::Dataset, z: &[u8], spec: &str, file: &Path) -> Result<()> {
    ensure!(
        data.n_atoms() == z.len(),
        "{} has {} atoms per frame but the potential {spec} is for {} atoms",
        file.display(),
        data.n_atoms(),
        z.len()
    );
    for frame in 0..data.len() {
        let got = data.species().of_frame(frame);
        if let Some(atom) = (0..z.len()).find(|&a| got[a] != z[a]) {
            bail!(
                "{}: atom {atom} of frame {frame} is Z={}, but the potential {spec} has Z={} \
                 there (same atoms in another order, or another molecule)",
                file.display(),
                got[atom],
                z[atom]
            );
        }
        if matches!(data.species(), mlff_data::Species::Fixed(_)) {
            break; // one row serves every frame
        }
    }
    Ok(())
}
