//! The training loss of a batch and its exact gradient with respect to every parameter.
//!
//! The loss itself (nequip's `loss_coeffs`: per-atom energy MSE, force MSE, L1 variants) is
//! `mlff_train::LossFunction`; this module supplies the model's side. The force term needs
//! `∂F/∂θ = −∂²E/∂θ∂r`. Two passes give it: a plain pass for energies and forces (hence the
//! error sums and the cotangents `d_f = ∂L/∂E_f`, `v = ∂L/∂F`), then one forward + reverse
//! pass over dual numbers. The reverse pass is linear in its energy seed, so seeding frame `f`
//! with `1 + ε d_f` while the positions carry tangent `−v` leaves in the tangent of the
//! parameter gradient exactly `∇_θ(Σ_f d_f E_f) − ∇_θ(∇_r E · v)` — the loss gradient, both
//! terms in one pass (design notes §5, design B).

use crate::architecture::Architecture;
use crate::error::{NequipError, Result};
use crate::evaluate::{backward, forward};
use crate::graph::AtomicGraph;
use mlff_e3::{Dual, Scalar};
use mlff_train::{BatchShape, LossFunction, LossParts};

/// Reference labels of a batch.
#[derive(Clone, Copy, Debug)]
pub struct Targets<'a> {
    /// Total energy of each frame.
    pub energies: &'a [f64],
    /// Forces, flat `atoms × 3`.
    pub forces: &'a [f64],
}

/// Energies and forces of a batch computed in `T`, returned in f64.
fn energies_forces<T: Scalar>(
    arch: &Architecture,
    params: &[f64],
    graph: &AtomicGraph,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let p: Vec<T> = params.iter().map(|&v| T::from_f64(v)).collect();
    let pos: Vec<T> = graph.positions().iter().map(|&v| T::from_f64(v)).collect();
    let (e, tape) = forward(arch, &p, graph, &pos)?;
    let ones = vec![T::one(); graph.num_frames()];
    let g = backward(arch, &p, graph, &tape, &ones, false)?;
    Ok((
        e.frames.iter().map(|v| v.value()).collect(),
        g.positions.iter().map(|v| -v.value()).collect(),
    ))
}

fn check_targets(graph: &AtomicGraph, targets: Targets<'_>) -> Result<()> {
    for (what, got, expected) in [
        (
            "target energies",
            targets.energies.len(),
            graph.num_frames(),
        ),
        ("target forces", targets.forces.len(), graph.num_atoms() * 3),
    ] {
        if got != expected {
            return Err(NequipError::Shape {
                what: what.into(),
                expected,
                got,
            });
        }
    }
    Ok(())
}

fn error_sums(
    graph: &AtomicGraph,
    energies: &[f64],
    forces: &[f64],
    targets: Targets<'_>,
) -> LossParts {
    let mut parts = LossParts::default();
    for (f, r) in graph.frame_offsets().windows(2).enumerate() {
        let atoms = r[0] * 3..r[1] * 3;
        parts.add_frame(
            energies[f],
            targets.energies[f],
            r[1] - r[0],
            &forces[atoms.clone()],
            &targets.forces[atoms],
        );
    }
    parts
}

/// Error sums of a batch (no gradient), computed in `T`.
pub fn batch_errors<T: Scalar>(
    arch: &Architecture,
    params: &[f64],
    graph: &AtomicGraph,
    targets: Targets<'_>,
) -> Result<LossParts> {
    check_targets(graph, targets)?;
    let (energies, forces) = energies_forces::<T>(arch, params, graph)?;
    Ok(error_sums(graph, &energies, &forces, targets))
}

/// Error sums of a batch and the exact gradient of `loss` with respect to every parameter
/// (zero for fixed ones), computed in `T` (f32 or f64); the gradient is returned in f64.
pub fn batch_loss_gradient<T: Scalar>(
    arch: &Architecture,
    params: &[f64],
    graph: &AtomicGraph,
    targets: Targets<'_>,
    loss: &LossFunction,
) -> Result<(LossParts, Vec<f64>)> {
    check_targets(graph, targets)?;
    let (energies, forces) = energies_forces::<T>(arch, params, graph)?;
    let parts = error_sums(graph, &energies, &forces, targets);
    if !parts.is_finite() {
        return Ok((parts, vec![f64::NAN; params.len()]));
    }
    let shape = BatchShape {
        n_frames: graph.num_frames(),
        n_atoms: graph.num_atoms(),
    };
    let mut d_forces = vec![0.0; forces.len()];
    let mut d_energy = Vec::with_capacity(graph.num_frames());
    for (f, r) in graph.frame_offsets().windows(2).enumerate() {
        let n = r[1] - r[0];
        d_energy.push(loss.energy_derivative(shape, energies[f], targets.energies[f], n));
        let atoms = r[0] * 3..r[1] * 3;
        loss.force_derivatives(
            shape,
            &forces[atoms.clone()],
            &targets.forces[atoms.clone()],
            &mut d_forces[atoms],
        );
    }

    let dp: Vec<Dual<T>> = params
        .iter()
        .map(|&v| Dual::constant(T::from_f64(v)))
        .collect();
    let dpos: Vec<Dual<T>> = graph
        .positions()
        .iter()
        .zip(&d_forces)
        .map(|(&x, &v)| Dual::new(T::from_f64(x), T::from_f64(-v)))
        .collect();
    let (_, tape) = forward(arch, &dp, graph, &dpos)?;
    let seed: Vec<Dual<T>> = d_energy
        .iter()
        .map(|&d| Dual::new(T::one(), T::from_f64(d)))
        .collect();
    let g = backward(arch, &dp, graph, &tape, &seed, true)?;
    let grad = g
        .params
        .expect("requested")
        .iter()
        .map(|d| d.eps.value())
        .collect();
    Ok((parts, grad))
}
