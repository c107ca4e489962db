//! Finite-difference checks of the exact derivatives: forces = −∂E/∂r, and the training
//! loss gradient (energy term, force term via the mixed second derivative, both).

mod common;

use common::{batch_graph, random_molecule, rng, small_model};
use mlff_nequip::{Targets, batch_errors, batch_loss_gradient};
use mlff_train::{EnergyTerm, ForceTerm, LossFunction};

#[test]
fn forces_are_minus_the_energy_gradient() {
    let model = small_model(1);
    let mut r = rng(2);
    let mol = random_molecule(&mut r, 7);
    let graph = batch_graph(&model, std::slice::from_ref(&mol));
    let forces = model.predict(&graph).unwrap().forces;
    let h = 1e-5;
    let mut worst: f64 = 0.0;
    let scale = forces.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for i in 0..mol.1.len() {
        for k in 0..3 {
            let energy = |d: f64| {
                let mut m = mol.clone();
                m.1[i][k] += d;
                model.energies_f64(&batch_graph(&model, &[m])).unwrap()[0]
            };
            let fd = -(energy(h) - energy(-h)) / (2.0 * h);
            worst = worst.max((fd - forces[3 * i + k]).abs() / scale);
        }
    }
    assert!(
        worst < 1e-8,
        "force vs finite difference: relative error {worst:e}"
    );
}

fn loss_fn(energy: f64, forces: f64) -> LossFunction {
    LossFunction {
        energy: (energy > 0.0).then_some(EnergyTerm {
            coeff: energy,
            per_atom: true,
            squared: true,
        }),
        forces: (forces > 0.0).then_some(ForceTerm {
            coeff: forces,
            squared: true,
        }),
    }
}

/// Labels near the model's own predictions, so both loss terms have non-trivial gradients.
fn check_loss_gradient(loss: LossFunction) {
    let model = small_model(3);
    let mut r = rng(4);
    let mols = vec![random_molecule(&mut r, 6), random_molecule(&mut r, 5)];
    let graph = batch_graph(&model, &mols);
    let pred = model.predict(&graph).unwrap();
    let energies: Vec<f64> = pred.energies.iter().map(|e| e + 0.3).collect();
    let forces: Vec<f64> = pred
        .forces
        .iter()
        .enumerate()
        .map(|(i, f)| f + 0.1 * ((i % 7) as f64 - 3.0))
        .collect();
    let targets = Targets {
        energies: &energies,
        forces: &forces,
    };
    let arch = model.architecture();
    let params = model.params().to_vec();
    let (parts, grad) = batch_loss_gradient::<f64>(arch, &params, &graph, targets, &loss).unwrap();
    assert_eq!(
        parts,
        batch_errors::<f64>(arch, &params, &graph, targets).unwrap()
    );
    let mask = arch.layout.trainable_mask();
    let scale = grad.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 0.0);
    let h = 1e-5;
    let mut worst: f64 = 0.0;
    let mut checked = 0;
    for seg in arch.layout.segments() {
        let stride = (seg.len() / 6).max(1);
        for i in seg.range().step_by(stride) {
            let at = |d: f64| {
                let mut p = params.clone();
                p[i] += d;
                loss.value(&batch_errors::<f64>(arch, &p, &graph, targets).unwrap())
            };
            let fd = if mask[i] {
                (at(h) - at(-h)) / (2.0 * h)
            } else {
                0.0
            };
            worst = worst.max((fd - grad[i]).abs() / scale);
            checked += 1;
        }
    }
    assert!(checked > 50);
    println!("{loss:?}: worst relative error {worst:e}");
    assert!(
        worst < 1e-6,
        "{loss:?}: loss gradient vs finite difference: relative error {worst:e}"
    );
}

#[test]
fn energy_loss_gradient_is_exact() {
    check_loss_gradient(loss_fn(1.0, 0.0));
}

#[test]
fn force_loss_gradient_is_exact() {
    check_loss_gradient(loss_fn(0.0, 1.0));
}

#[test]
fn combined_loss_gradient_is_exact() {
    check_loss_gradient(loss_fn(1.0, 1000.0));
}
