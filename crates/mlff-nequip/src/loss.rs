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
use mlff_e3::parallel::on_worker;
use mlff_e3::{Dual, Scalar};
use mlff_train::{BatchShape, LossFunction, LossParts};
use rayon::prelude::*;

/// Reference labels of a batch.
#[derive(Clone, Copy, Debug)]
pub struct Targets<'a> {
    /// Total energy of each frame.
    pub energies: &'a [f64],
    /// Forces, flat `atoms × 3`.
    pub forces: &'a [f64],
}

/// The two passes the loss gradient needs, on some executor (the CPU in `T` here; a GPU in
/// `mlff-nequip-cuda`). Parameters are passed per call: training changes them every step.
pub trait LossPasses: Send + Sync {
    /// Energies (per frame) and forces (`atoms × 3`) of a batch, in f64.
    fn energies_forces(&self, params: &[f64], graph: &AtomicGraph) -> Result<(Vec<f64>, Vec<f64>)>;
    /// The tangent of the parameter gradient of one dual pass in which the positions carry
    /// `position_tangent` and frame `f`'s energy is seeded with `1 + ε energy_tangent[f]`: the
    /// loss gradient `∇_θ(Σ_f d_f E_f) − ∇_θ(∇_r E · v)` for `energy_tangent = d`,
    /// `position_tangent = −v` (zero for fixed parameters).
    fn seeded_gradient(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
        position_tangent: &[f64],
        energy_tangent: &[f64],
    ) -> Result<Vec<f64>>;
}

/// The dual pass's inputs: positions `x + ε position_tangent` and per-frame energy seeds
/// `1 + ε energy_tangent`.
pub fn seeded_duals<T: Scalar>(
    graph: &AtomicGraph,
    position_tangent: &[f64],
    energy_tangent: &[f64],
) -> (Vec<Dual<T>>, Vec<Dual<T>>) {
    let dual = |x: T, v: f64| Dual::new(x, T::from_f64(v));
    let positions = graph.positions().iter().map(|&x| T::from_f64(x));
    (
        positions
            .zip(position_tangent)
            .map(|(x, &v)| dual(x, v))
            .collect(),
        energy_tangent.iter().map(|&d| dual(T::one(), d)).collect(),
    )
}

/// [`LossPasses`] on the CPU in the scalar type `T` (f32 or f64).
#[derive(Clone, Copy, Debug)]
pub struct CpuPasses<'a, T> {
    /// The model's operations.
    pub arch: &'a Architecture,
    _scalar: std::marker::PhantomData<T>,
}

impl<'a, T> CpuPasses<'a, T> {
    /// The passes of `arch` in `T`.
    pub fn new(arch: &'a Architecture) -> Self {
        Self {
            arch,
            _scalar: std::marker::PhantomData,
        }
    }
}

impl<T: Scalar> LossPasses for CpuPasses<'_, T> {
    fn energies_forces(&self, params: &[f64], graph: &AtomicGraph) -> Result<(Vec<f64>, Vec<f64>)> {
        on_worker(|| self.energies_forces_on_worker(params, graph))
    }

    fn seeded_gradient(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
        position_tangent: &[f64],
        energy_tangent: &[f64],
    ) -> Result<Vec<f64>> {
        on_worker(|| {
            self.seeded_gradient_on_worker(params, graph, position_tangent, energy_tangent)
        })
    }
}

impl<T: Scalar> CpuPasses<'_, T> {
    fn energies_forces_on_worker(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let p: Vec<T> = params.par_iter().map(|&v| T::from_f64(v)).collect();
        let pos: Vec<T> = graph.positions().iter().map(|&v| T::from_f64(v)).collect();
        let (e, tape) = forward(self.arch, &p, graph, &pos)?;
        let ones = vec![T::one(); graph.num_frames()];
        let g = backward(self.arch, &p, graph, &tape, &ones, false)?;
        Ok((
            e.frames.iter().map(|v| v.value()).collect(),
            g.positions.iter().map(|v| -v.value()).collect(),
        ))
    }

    fn seeded_gradient_on_worker(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
        position_tangent: &[f64],
        energy_tangent: &[f64],
    ) -> Result<Vec<f64>> {
        let dp: Vec<Dual<T>> = params
            .par_iter()
            .map(|&v| Dual::constant(T::from_f64(v)))
            .collect();
        let (dpos, seed) = seeded_duals::<T>(graph, position_tangent, energy_tangent);
        let (_, tape) = forward(self.arch, &dp, graph, &dpos)?;
        let g = backward(self.arch, &dp, graph, &tape, &seed, true)?;
        Ok(g.params
            .expect("requested")
            .par_iter()
            .map(|d| d.eps.value())
            .collect())
    }
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
    errors_with(&CpuPasses::<T>::new(arch), params, graph, targets)
}

/// Error sums of a batch (no gradient) on any executor.
pub fn errors_with(
    passes: &(impl LossPasses + ?Sized),
    params: &[f64],
    graph: &AtomicGraph,
    targets: Targets<'_>,
) -> Result<LossParts> {
    check_targets(graph, targets)?;
    let (energies, forces) = passes.energies_forces(params, graph)?;
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
    loss_gradient_with(&CpuPasses::<T>::new(arch), params, graph, targets, loss)
}

/// [`batch_loss_gradient`] on any executor.
pub fn loss_gradient_with(
    passes: &(impl LossPasses + ?Sized),
    params: &[f64],
    graph: &AtomicGraph,
    targets: Targets<'_>,
    loss: &LossFunction,
) -> Result<(LossParts, Vec<f64>)> {
    check_targets(graph, targets)?;
    let (energies, forces) = passes.energies_forces(params, graph)?;
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
    let minus_v: Vec<f64> = d_forces.iter().map(|v| -v).collect();
    let grad = passes.seeded_gradient(params, graph, &minus_v, &d_energy)?;
    Ok((parts, grad))
}
