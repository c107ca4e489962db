//! Scores synthetic predictions for an aspirin-sized test set (21 atoms), prints a Markdown
//! summary in meV with bootstrap intervals, per-element errors, a learning-curve fit and a
//! correlation — everything `mlff-metrics` offers, without any data files.
//!
//! Run: `cargo run -p mlff-metrics --example score_report`

use mlff_metrics::*;
use ndarray::{Array1, Array3};

/// Reference labels plus errors of size `noise` (kcal/mol, kcal/mol/Å), deterministic.
fn synthetic(frames: usize, atoms: usize, noise: f64) -> [(Array1<f64>, Array3<f64>); 2] {
    let wave = |i: usize, k: f64| ((i as f64) * k).sin();
    let re = Array1::from_shape_fn(frames, |t| -406_000.0 + 5.0 * wave(t, 0.37));
    let rf = Array3::from_shape_fn((frames, atoms, 3), |(t, a, c)| {
        30.0 * wave(t * 63 + a * 3 + c, 0.618)
    });
    let pe = &re + &Array1::from_shape_fn(frames, |t| noise * atoms as f64 * wave(t, 1.7));
    let pf = &rf
        + &Array3::from_shape_fn((frames, atoms, 3), |(t, a, c)| {
            noise * 3.0 * wave(t * 63 + a * 3 + c, 2.3)
        });
    [(re, rf), (pe, pf)]
}

fn main() -> Result<(), MetricsError> {
    let z: Array1<u8> = [
        6u8, 6, 6, 6, 6, 6, 6, 6, 6, 8, 8, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1,
    ]
    .into_iter()
    .collect();
    let species = AtomicNumbers::Shared(z.view());
    let options = BootstrapOptions::default();

    // Three "models" of decreasing error, as if trained on more data.
    let sizes = [250.0, 1000.0, 4000.0];
    let mut all = Vec::new();
    for (size, noise) in sizes.iter().zip([0.41, 0.19, 0.105]) {
        let [(re, rf), (pe, pf)] = synthetic(2000, 21, noise);
        let scores = score(
            &Labels::new(pe.view(), pf.view()),
            &Labels::new(re.view(), rf.view()),
            &species,
            EnergyUnit::KcalPerMol,
        )?;
        let intervals = scores.bootstrap(&options)?;
        all.push((format!("n_train = {size}"), scores, intervals));
    }
    let rows: Vec<ScoreRow<'_>> = all
        .iter()
        .map(|(label, scores, intervals)| ScoreRow {
            label,
            scores,
            intervals: Some(intervals),
        })
        .collect();
    println!(
        "{}",
        SummaryTable::from_scores(EnergyUnit::MilliElectronVolt, &rows).to_markdown()
    );

    let best = all[2].1.in_unit(EnergyUnit::MilliElectronVolt);
    for element in &best.per_element {
        println!(
            "Z = {:>2}: force MAE {} meV/Å over {} atoms",
            element.atomic_number,
            significant(element.component_mae),
            element.atoms
        );
    }

    let errors: Vec<f64> = all.iter().map(|(_, s, _)| s.forces.component_mae).collect();
    let fit = fit_power_law(&sizes, &errors)?;
    let (lo, hi) = fit.slope_interval(0.95)?;
    println!(
        "\nlearning curve: force MAE ∝ n^{:.3} ± {:.3} (95% CI [{lo:.3}, {hi:.3}])",
        fit.slope, fit.slope_stderr
    );

    let energy: Vec<f64> = best
        .per_frame
        .iter()
        .map(|f| f.energy_error_per_atom.abs())
        .collect();
    let force: Vec<f64> = best
        .per_frame
        .iter()
        .map(|f| f.force_component_mae)
        .collect();
    let rho = spearman(&energy, &force)?;
    println!(
        "per-frame |ΔE|/N vs force MAE: Spearman ρ = {:.3} (p = {:.2e})",
        rho.coefficient, rho.p_value
    );
    Ok(())
}
