//! The training loop end to end on real (small) objectives: learning, overfitting, exact resume,
//! NaN handling, early stopping, hooks and output files.

mod common;

use common::{FailsAtStep, LinearRegression, morse_dataset};
use mlff_train::pair_potential::{PairPotential, RadialBasis};
use mlff_train::{
    CheckpointKind, DataStats, LossCoeffs, LossFunction, Metric, Objective, SchedulerName,
    StopReason, TrainConfig, TrainError, TrainState, Trainer,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

const BASIS: RadialBasis = RadialBasis {
    n_basis: 6,
    r_min: 0.6,
    r_max: 3.5,
};

/// A pair potential on `n` generated Morse frames, with shifts from the first 80% of them.
fn morse_problem(n: usize) -> (PairPotential, Vec<usize>, Vec<usize>) {
    let data = morse_dataset(n, 7);
    let n_train = n * 4 / 5;
    let train: Vec<usize> = (0..n_train).collect();
    let val: Vec<usize> = (n_train..n).collect();
    let stats = DataStats::compute(&data, &train, BASIS.r_max).unwrap();
    let model = PairPotential::new(&data, BASIS, |z| stats.energy_shift_of(z)).unwrap();
    (model, train, val)
}

fn loss_of(yaml: &str) -> LossFunction {
    LossFunction::new(&serde_yaml::from_str::<LossCoeffs>(yaml).unwrap()).unwrap()
}

/// The objective's loss gradient (energy and force terms through `LossFunction`'s derivatives)
/// agrees with central differences of its evaluated loss, for energy-only, force-only and
/// combined losses.
#[test]
fn pair_potential_gradient_matches_finite_differences() {
    let (model, _, _) = morse_problem(10);
    let batch = [1usize, 4, 7];
    let params: Vec<f64> = (0..model.n_params())
        .map(|i| 0.3 * ((i * 7 % 5) as f64 - 2.0))
        .collect();
    for yaml in [
        "total_energy: [1, PerAtomMSELoss]",
        "forces: 1000",
        "forces: 10\ntotal_energy: 2",
    ] {
        let loss = loss_of(yaml);
        let value = |p: &[f64]| loss.value(&model.evaluate(p, &batch).unwrap());
        let mut grad = vec![0.0; params.len()];
        let parts = model
            .loss_and_gradient(&params, &batch, &loss, &mut grad)
            .unwrap();
        assert_eq!(loss.value(&parts), value(&params));
        // The loss is quadratic in this model's weights, so central differences are exact up to
        // rounding, which a large step keeps small.
        let h = 1e-2;
        for i in 0..params.len() {
            let mut p = params.clone();
            p[i] += h;
            let up = value(&p);
            p[i] -= 2.0 * h;
            let down = value(&p);
            let fd = (up - down) / (2.0 * h);
            let tol = 1e-6 * fd.abs().max(1e-3);
            assert!(
                (grad[i] - fd).abs() <= tol,
                "{yaml}: param {i}: {} vs {fd}",
                grad[i]
            );
        }
    }
}

/// Training lowers the validation force MAE far below the spread of the forces.
#[test]
fn learns_forces_of_a_morse_potential() {
    let (model, train, val) = morse_problem(200);
    let config = TrainConfig {
        max_epochs: 40,
        learning_rate: 0.05,
        use_ema: true,
        loss_coeffs: serde_yaml::from_str("forces: 1\ntotal_energy: [1, PerAtomMSELoss]").unwrap(),
        ..TrainConfig::default()
    };
    let zero = vec![0.0; model.n_params()];
    let initial = model.evaluate(&zero, &val).unwrap();
    let initial_loss = config.loss().unwrap().value(&initial);
    let f_rms_of_data = initial.metrics().force_rmse.unwrap(); // zero pair terms predict F = 0
    let outcome = Trainer::new(&model, config, train, val)
        .unwrap()
        .run(zero)
        .unwrap();
    assert_eq!(outcome.stop, StopReason::MaxEpochs);
    let last = outcome.state.curve.last().unwrap();
    let f_mae = last.validation.force_mae.unwrap();
    assert!(
        f_mae < 0.1 * f_rms_of_data,
        "force MAE {f_mae} vs data RMS {f_rms_of_data}"
    );
    assert!(
        last.validation_loss < 0.01 * initial_loss,
        "{} vs {initial_loss}",
        last.validation_loss
    );
}

/// A model with more parameters than examples memorises five examples to near-zero loss.
#[test]
fn overfits_five_examples() {
    let problem = LinearRegression::random(5, 12, 3);
    let all: Vec<usize> = (0..5).collect();
    let config = TrainConfig {
        max_epochs: 3000,
        learning_rate: 0.05,
        lr_scheduler_name: SchedulerName::ReduceLROnPlateau,
        lr_scheduler_patience: 20,
        lr_scheduler_factor: 0.5,
        loss_coeffs: serde_yaml::from_str("total_energy: 1").unwrap(),
        early_stopping_lower_bounds: BTreeMap::from([(Metric::TrainingLoss, 1e-14)]),
        ..TrainConfig::default()
    };
    let initial = problem.evaluate(&[0.0; 12], &all).unwrap();
    let loss = LossFunction::new(&config.loss_coeffs).unwrap();
    let outcome = Trainer::new(&problem, config, all.clone(), all.clone())
        .unwrap()
        .run(vec![0.0; 12])
        .unwrap();
    let final_loss = loss.value(&problem.evaluate(&outcome.state.params, &all).unwrap());
    assert!(
        final_loss < 1e-10 * loss.value(&initial),
        "loss {final_loss} after {} epochs ({:?})",
        outcome.state.epoch,
        outcome.stop
    );
}

/// Every setting that carries state across epochs is on: AMSGrad, clipping, EMA with warm-up,
/// a plateau scheduler that fires, early-stopping counters, a partial last batch.
fn stateful_config(max_epochs: usize) -> TrainConfig {
    TrainConfig {
        seed: 11,
        max_epochs,
        batch_size: 7,
        learning_rate: 0.05,
        optimizer_amsgrad: true,
        max_gradient_norm: Some(50.0),
        lr_scheduler_name: SchedulerName::ReduceLROnPlateau,
        lr_scheduler_patience: 0,
        lr_scheduler_factor: 0.7,
        lr_scheduler_threshold: 0.3, // improvements of ~22% per epoch count as a plateau
        use_ema: true,
        early_stopping_patiences: BTreeMap::from([(Metric::ValidationLoss, 100)]),
        loss_coeffs: serde_yaml::from_str("forces: 10\ntotal_energy: [1, PerAtomMSELoss]").unwrap(),
        ..TrainConfig::default()
    }
}

/// Run 8 epochs straight, or 3 epochs, "crash", load the checkpoint from disk, and resume to 8:
/// the two final states agree bit for bit (all but wall-clock times).
#[test]
fn resume_continues_exactly() {
    let (model, train, val) = morse_problem(60);
    let init = vec![0.01; model.n_params()];
    let straight = Trainer::new(&model, stateful_config(8), train.clone(), val.clone())
        .unwrap()
        .run(init.clone())
        .unwrap()
        .state;

    let dir = tempfile::tempdir().unwrap();
    Trainer::new(&model, stateful_config(3), train.clone(), val.clone())
        .unwrap()
        .output_dir(dir.path())
        .run(init)
        .unwrap();
    let saved = TrainState::load(&dir.path().join(mlff_train::STATE_FILE)).unwrap();
    assert_eq!(saved.epoch, 3);
    let resumed = Trainer::new(&model, stateful_config(8), train, val)
        .unwrap()
        .resume(saved)
        .unwrap()
        .state;

    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&resumed.params), bits(&straight.params));
    assert_eq!(
        bits(resumed.model_weights()),
        bits(straight.model_weights())
    );
    assert_eq!(
        bits(&resumed.optimizer.exp_avg_sq),
        bits(&straight.optimizer.exp_avg_sq)
    );
    assert_eq!(
        bits(&resumed.optimizer.max_exp_avg_sq),
        bits(&straight.optimizer.max_exp_avg_sq)
    );
    assert_eq!(resumed.lr.to_bits(), straight.lr.to_bits());
    assert!(
        resumed.lr < 0.05,
        "the scheduler should have reduced the rate: {:?}",
        resumed
            .curve
            .iter()
            .map(|r| (r.validation_loss, r.lr))
            .collect::<Vec<_>>()
    );
    assert_eq!(resumed.step, straight.step);
    assert_eq!(resumed.scheduler, straight.scheduler);
    assert_eq!(resumed.early_stopping, straight.early_stopping);
    assert_eq!(resumed.best, straight.best);
    let without_wall = |s: &TrainState| {
        s.curve
            .iter()
            .map(|r| mlff_train::EpochRecord {
                wall_s: 0.0,
                ..r.clone()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_wall(&resumed), without_wall(&straight));
}

/// Resuming with a different seed or index set is refused.
#[test]
fn resume_refuses_a_different_run() {
    let (model, train, val) = morse_problem(30);
    let state = Trainer::new(&model, stateful_config(1), train.clone(), val.clone())
        .unwrap()
        .run(vec![0.0; model.n_params()])
        .unwrap()
        .state;
    let other_seed = TrainConfig {
        seed: 12,
        ..stateful_config(2)
    };
    let e = Trainer::new(&model, other_seed, train.clone(), val.clone())
        .unwrap()
        .resume(state.clone())
        .unwrap_err();
    assert!(e.to_string().contains("seed"), "{e}");
    let e = Trainer::new(&model, stateful_config(2), train[1..].to_vec(), val)
        .unwrap()
        .resume(state)
        .unwrap_err();
    assert!(e.to_string().contains("training index set"), "{e}");
}

/// A NaN gradient in epoch 3 stops the run with an error naming the epoch, step and last
/// checkpoint, and that checkpoint is the intact state after epoch 2.
#[test]
fn nan_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let (model, train, val) = morse_problem(30); // 24 training frames: 4 steps of 7 per epoch
    let init = vec![0.0; model.n_params()];
    let after_two = Trainer::new(&model, stateful_config(2), train.clone(), val.clone())
        .unwrap()
        .run(init.clone())
        .unwrap()
        .state;
    let failing = FailsAtStep {
        inner: &model,
        bad_step: 10,
        calls: AtomicU64::new(0),
    };
    let dir = tempfile::tempdir().unwrap();
    let err = Trainer::new(&failing, stateful_config(8), train, val)
        .unwrap()
        .output_dir(dir.path())
        .run(init)
        .unwrap_err();
    let message = err.to_string();
    let TrainError::NonFinite {
        epoch,
        step,
        last_checkpoint,
        ref what,
        ..
    } = err
    else {
        panic!("expected NonFinite, got {err}");
    };
    assert_eq!((epoch, step), (3, 9));
    assert!(what.contains("gradient entry 0"), "{what}");
    let path = last_checkpoint.expect("a checkpoint was written");
    assert!(message.contains(&path.display().to_string()), "{message}");
    let on_disk = TrainState::load(&path).unwrap();
    assert_eq!(on_disk.epoch, 2);
    assert_eq!(on_disk.params, after_two.params);
    assert_eq!(on_disk.model_weights(), after_two.model_weights());
}

/// The learning-rate floor stops the run; hooks see best, periodic and final checkpoints; the
/// curve is written as CSV (one row per epoch) and SVG.
#[test]
fn lr_floor_stops_and_outputs_are_written() {
    let (model, train, val) = morse_problem(30);
    let config = TrainConfig {
        max_epochs: 100,
        learning_rate: 1e-3,
        lr_scheduler_name: SchedulerName::ReduceLROnPlateau,
        lr_scheduler_patience: 0,
        lr_scheduler_factor: 0.1,
        lr_scheduler_threshold: 10.0, // no epoch ever counts as an improvement
        lr_scheduler_threshold_mode: mlff_train::ThresholdMode::Abs,
        early_stopping_lower_bounds: BTreeMap::from([(Metric::Lr, 5e-7)]),
        save_checkpoint_freq: 2,
        ..TrainConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut events = Vec::new();
    let outcome = Trainer::new(&model, config, train, val)
        .unwrap()
        .output_dir(dir.path())
        .on_checkpoint(|e| {
            events.push((e.kind, e.epoch));
            Ok(())
        })
        .run(vec![0.0; model.n_params()])
        .unwrap();
    // lr per epoch (the scheduler steps after each): 1e-3, 1e-3 (epoch 1 was an improvement
    // over nothing), 1e-4, 1e-5, 1e-6, 1e-7 — epoch 6 runs below 5e-7 and stops the run.
    assert!(
        matches!(outcome.stop, StopReason::EarlyStopping(ref m) if m.contains("LR")),
        "{:?}",
        outcome.stop
    );
    assert_eq!(outcome.state.epoch, 6);
    let lrs: Vec<f64> = outcome.state.curve.iter().map(|r| r.lr).collect();
    assert_eq!(lrs[..3], [1e-3, 1e-3, 1e-3 * 0.1]);
    let of_kind = |k: CheckpointKind| {
        events
            .iter()
            .filter(|e| e.0 == k)
            .map(|e| e.1)
            .collect::<Vec<_>>()
    };
    assert_eq!(of_kind(CheckpointKind::Best)[0], 1);
    assert_eq!(of_kind(CheckpointKind::Periodic), [2, 4, 6]);
    assert_eq!(of_kind(CheckpointKind::Final), [6]);
    assert_eq!(events.last().unwrap().0, CheckpointKind::Final);
    let csv = std::fs::read_to_string(dir.path().join(mlff_train::CURVE_CSV_FILE)).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 7);
    assert!(lines[0].starts_with("epoch,step,lr"));
    assert!(lines[6].starts_with("6,"));
    let svg = std::fs::read_to_string(dir.path().join(mlff_train::CURVE_SVG_FILE)).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("validation F MAE"));
    assert!(dir.path().join(mlff_train::BEST_STATE_FILE).exists());
}

/// A raised interrupt flag stops at the next epoch boundary with a final checkpoint.
#[test]
fn interrupt_stops_between_epochs() {
    let (model, train, val) = morse_problem(30);
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let outcome = Trainer::new(&model, stateful_config(50), train, val)
        .unwrap()
        .interrupt_flag(flag)
        .on_checkpoint(move |e| {
            if e.epoch == 2 {
                f.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            Ok(())
        })
        .run(vec![0.0; model.n_params()])
        .unwrap();
    assert_eq!(outcome.stop, StopReason::Interrupted);
    assert_eq!(outcome.state.epoch, 2);
}

/// Bad inputs are typed errors.
#[test]
fn bad_inputs_are_rejected() {
    let (model, train, val) = morse_problem(10);
    let c = TrainConfig::default;
    let e = Trainer::new(&model, c(), vec![], val.clone())
        .err()
        .unwrap();
    assert!(e.to_string().contains("training"), "{e}");
    let e = Trainer::new(&model, c(), vec![0, 99], val.clone())
        .err()
        .unwrap();
    assert!(e.to_string().contains("99"), "{e}");
    let e = Trainer::new(&model, c(), vec![0, 0], val.clone())
        .err()
        .unwrap();
    assert!(e.to_string().contains("more than once"), "{e}");
    let mut t = Trainer::new(&model, c(), train, val).unwrap();
    assert!(matches!(
        t.run(vec![0.0; 3]),
        Err(TrainError::ParameterCount { .. })
    ));
    let mut bad = vec![0.0; model.n_params()];
    bad[1] = f64::INFINITY;
    assert!(t.run(bad).is_err());
}
