//! Training NequIP with mlff-train: learning on real MD17 ethanol frames, memorising a handful
//! of frames, and resuming an interrupted run exactly.

mod common;

use mlff_data::Dataset;
use mlff_nequip::{
    Nequip, NequipConfig, NumFeatures, TrainOptions, apply_training_statistics, train,
};
use mlff_train::TrainConfig;

/// Real MD17 ethanol (third-party: `None`, after a notice, where it is absent).
fn ethanol() -> Option<Dataset> {
    let path = mlff_testkit::third_party("md17_ethanol_first2000.npz")?;
    Some(mlff_data::load(&path).unwrap())
}

fn small_config(layers: usize, features: usize) -> NequipConfig {
    let mut c = NequipConfig::new(vec!["H".into(), "C".into(), "O".into()], 4.0);
    c.num_layers = layers;
    c.l_max = 1;
    c.num_features = NumFeatures::Uniform(features);
    c.radial_mlp_depth = 1;
    c.radial_mlp_width = 16;
    c
}

fn train_config(yaml: &str) -> TrainConfig {
    TrainConfig::from_yaml_str(yaml).unwrap()
}

fn force_std(data: &Dataset, frames: &[usize]) -> f64 {
    let f = data.forces().unwrap();
    let values: Vec<f64> = frames
        .iter()
        .flat_map(|&i| {
            f.index_axis(ndarray::Axis(0), i)
                .iter()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
}

#[test]
fn learns_ethanol_forces_from_200_frames() {
    let Some(data) = ethanol() else {
        return;
    };
    // 200 frames spread over the first 1800, validation in between; the last 10% (frames
    // 1800–1999) is held out as a time-ordered test segment.
    let train_idx: Vec<usize> = (0..200).map(|i| i * 9).collect();
    let val_idx: Vec<usize> = (0..20).map(|i| i * 90 + 4).collect();
    let test_idx: Vec<usize> = (1800..2000).collect();
    let mut config = small_config(2, 8);
    apply_training_statistics(&mut config, &[&data], &train_idx).unwrap();
    let model = Nequip::new(config).unwrap();
    let tc = train_config(
        "max_epochs: 6\nlearning_rate: 0.01\nuse_ema: true\nloss_coeffs: {total_energy: [1, PerAtomMSELoss], forces: 1}\n",
    );
    let trained = train(
        model,
        tc,
        &[&data],
        train_idx,
        val_idx,
        TrainOptions::default(),
    )
    .unwrap();
    let pred = mlff_nequip::predict_dataset(&trained.model, &data, &test_idx, 50, |_| ()).unwrap();
    let reference = data.forces().unwrap();
    let mae = pred
        .forces
        .iter()
        .zip(test_idx.iter().flat_map(|&i| {
            reference
                .index_axis(ndarray::Axis(0), i)
                .iter()
                .copied()
                .collect::<Vec<_>>()
        }))
        .map(|(p, r)| (p - r).abs())
        .sum::<f64>()
        / pred.forces.len() as f64;
    let std = force_std(&data, &test_idx);
    println!("test force MAE {mae:.3} kcal/mol/Å, force std {std:.3}");
    // The force std of this segment is ~20 kcal/mol/Å; 6 epochs of a tiny model reach ~4.
    assert!(mae < 0.3 * std, "test force MAE {mae} vs force std {std}");
}

#[test]
fn memorises_five_frames() {
    let Some(data) = ethanol() else {
        return;
    };
    let frames: Vec<usize> = vec![0, 400, 800, 1200, 1600];
    let mut config = small_config(3, 16);
    config.model_dtype = "float64".into();
    apply_training_statistics(&mut config, &[&data], &frames).unwrap();
    let model = Nequip::new(config).unwrap();
    let tc = train_config(
        "max_epochs: 600\nlearning_rate: 0.01\nbatch_size: 5\nloss_coeffs: {total_energy: [1, PerAtomMSELoss], forces: 1}\n",
    );
    let trained = train(
        model,
        tc,
        &[&data],
        frames.clone(),
        frames.clone(),
        TrainOptions::default(),
    )
    .unwrap();
    let curve = &trained.outcome.state.curve;
    let (start, end) = (
        curve[0].training_loss,
        curve.last().unwrap().validation_loss,
    );
    println!("training loss {start:.3e} -> validation loss on the same frames {end:.3e}");
    assert!(end < 1e-3 * start, "loss {start} -> {end}");
}

#[test]
fn an_interrupted_run_resumes_exactly() {
    let Some(data) = ethanol() else {
        return;
    };
    let train_idx: Vec<usize> = (0..20).map(|i| i * 50).collect();
    let val_idx: Vec<usize> = vec![3, 503, 1003];
    let mut config = small_config(2, 4);
    apply_training_statistics(&mut config, &[&data], &train_idx).unwrap();
    let model = Nequip::new(config).unwrap();
    let yaml = |epochs: usize| {
        format!(
            "max_epochs: {epochs}\nuse_ema: true\nlr_scheduler_name: ReduceLROnPlateau\nlr_scheduler_patience: 0\nlr_scheduler_factor: 0.5\nsave_checkpoint_freq: 1\nloss_coeffs: {{total_energy: [1, PerAtomMSELoss], forces: 10}}\n"
        )
    };
    let straight = train(
        model.clone(),
        train_config(&yaml(4)),
        &[&data],
        train_idx.clone(),
        val_idx.clone(),
        TrainOptions::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    train(
        model.clone(),
        train_config(&yaml(2)),
        &[&data],
        train_idx.clone(),
        val_idx.clone(),
        TrainOptions {
            dir: Some(dir.path()),
            ..TrainOptions::default()
        },
    )
    .unwrap();
    let resumed = train(
        model,
        train_config(&yaml(4)),
        &[&data],
        train_idx,
        val_idx,
        TrainOptions {
            dir: Some(dir.path()),
            resume: true,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    assert_eq!(resumed.outcome.state.epoch, 4);
    assert_eq!(resumed.outcome.state.params, straight.outcome.state.params);
    assert_eq!(resumed.model.params(), straight.model.params());
    assert!(dir.path().join("best_model.json").is_file());
}
