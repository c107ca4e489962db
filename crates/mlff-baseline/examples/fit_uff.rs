//! Fits the pair baseline to a short UFF trajectory of ethanol generated on the spot, then
//! reports training and time-holdout force errors (no files needed).
//!
//! `cargo run -p mlff-baseline --example fit_uff`

use mlff_baseline::{PairConfig, fit};

#[path = "../tests/common/mod.rs"]
mod common;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = common::uff_trajectory("ethanol", 600, 5);
    let train = data.select(&(0..500).collect::<Vec<_>>())?.to_dataset()?;
    let test = data.select(&(500..600).collect::<Vec<_>>())?.to_dataset()?;
    let model = fit(PairConfig::default(), &[&train])?;
    for (name, set) in [("train", &train), ("time-holdout test", &test)] {
        let pred = model.predict(set)?;
        let reference = set.forces().ok_or("no forces")?;
        let mae = pred
            .forces
            .iter()
            .zip(reference.iter())
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / pred.forces.len() as f64;
        println!(
            "{name}: force MAE {mae:.3} kcal/mol/Å over {} frames",
            set.len()
        );
    }
    println!(
        "{} coefficients, elements {:?}",
        model.n_parameters(),
        model.elements()
    );
    Ok(())
}
