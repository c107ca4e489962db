//! Measurements of a trained model on a test set: errors (with `mlff-metrics`) and the SOAP
//! similarity of the test frames to the training frames (with `mlff-soap`).

use anyhow::{Result, ensure};
use mlff_data::{Dataset, Species};
use mlff_metrics::{AtomicNumbers, EnergyUnit, Labels, score};
use mlff_soap::{Average, Soap, SoapParams, similarity_to_training};
use ndarray::{Array1, Array2};

use crate::model::FittedModel;
use crate::preset::SoapPlan;
use crate::store::{SimilarityRecord, TestScores};

/// Every element of the rMD17 molecules, so SOAP vectors of all molecules share one layout.
const SOAP_SPECIES: [u32; 4] = [1, 6, 7, 8];

/// Errors of `model` on `data`, and the per-frame force MAE.
pub fn score_model(model: &dyn FittedModel, data: &Dataset) -> Result<(TestScores, Vec<f64>)> {
    let predicted = model.predict(data)?;
    let n = data.n_atoms();
    ensure!(
        predicted.energies.len() == data.len() && predicted.forces.len() == data.len() * n * 3,
        "the model returned {} energies and {} force values for {} frames of {n} atoms",
        predicted.energies.len(),
        predicted.forces.len(),
        data.len()
    );
    let labels = Labels::from_slices(&predicted.energies, &predicted.forces, n)?;
    let reference = Labels::new(
        data.require_energies()?.view(),
        data.require_forces()?.view(),
    );
    let species = match data.species() {
        Species::Fixed(z) => AtomicNumbers::Shared(z.view()),
        Species::PerFrame(z) => AtomicNumbers::PerFrame(z.view()),
    };
    let scores = score(&labels, &reference, &species, EnergyUnit::KcalPerMol)?;
    let per_frame = scores
        .per_frame
        .iter()
        .map(|f| f.force_component_mae)
        .collect();
    Ok((
        TestScores {
            energy_mae_per_atom: scores.energy.per_atom_mae,
            energy_rmse_per_atom: scores.energy.per_atom_rmse,
            force_mae: scores.forces.component_mae,
            force_rmse: scores.forces.component_rmse,
        },
        per_frame,
    ))
}

/// The SOAP calculator of a plan (averaged over atoms: one vector per frame).
pub fn soap_calculator(plan: &SoapPlan) -> Result<Soap> {
    let params = SoapParams::new(
        &SOAP_SPECIES,
        plan.r_cut,
        plan.n_max,
        plan.l_max,
        plan.sigma,
    )
    .with_average(Average::Outer);
    Ok(Soap::new(params)?)
}

/// Averaged SOAP vectors `(frames, features)` of `frames` of `data`.
pub fn soap_rows(soap: &Soap, data: &Dataset, frames: &[usize]) -> Result<Array2<f64>> {
    let mut rows = Array2::zeros((frames.len(), soap.n_features()));
    let owned: Vec<(Array1<u32>, Array2<f64>)> = frames
        .iter()
        .map(|&t| {
            let z = data.species().of_frame(t).mapv(u32::from);
            let p = data.positions().index_axis(ndarray::Axis(0), t).to_owned();
            (z, p)
        })
        .collect();
    let views: Vec<mlff_soap::FrameView<'_>> = owned
        .iter()
        .map(|(z, p)| mlff_soap::FrameView {
            numbers: z.view(),
            positions: p.view(),
            centres: None,
        })
        .collect();
    for (k, d) in soap.compute_frames(&views)?.iter().enumerate() {
        rows.row_mut(k).assign(&d.row(0));
    }
    Ok(rows)
}

/// At most `max` evenly spaced entries of `frames`.
pub fn evenly_spaced(frames: &[usize], max: usize) -> Vec<usize> {
    if frames.len() <= max || max == 0 {
        return frames.to_vec();
    }
    (0..max).map(|k| frames[k * frames.len() / max]).collect()
}

/// Similarity of every test row to the training rows.
pub fn similarity(test: &Array2<f64>, train: &Array2<f64>) -> Result<SimilarityRecord> {
    let sims = similarity_to_training(test.view(), train.view())?;
    let per_frame_max: Vec<f64> = sims.iter().map(|s| s.max).collect();
    let n = sims.len().max(1) as f64;
    Ok(SimilarityRecord {
        mean_max: per_frame_max.iter().sum::<f64>() / n,
        mean_mean: sims.iter().map(|s| s.mean).sum::<f64>() / n,
        per_frame_max,
    })
}
