//! The training loss (nequip's per-atom energy MSE and force MSE) and its exact gradient.
//!
//! The force term needs `∂F/∂θ = −∂²E/∂θ∂r`. Two passes give it: a plain pass for the
//! energies and forces (hence the loss and its cotangents `d_f = dL/dE_f`, `v = dL/dF`),
//! then one forward + reverse pass over dual numbers. The reverse pass is linear in its
//! energy seed, so seeding frame `f` with `1 + ε d_f` while the positions carry tangent `−v`
//! leaves in the tangent of the parameter gradient exactly
//! `∇_θ(Σ_f d_f E_f) − ∇_θ(∇_r E · v)` — the loss gradient, both terms in one pass
//! (design notes §5, design B).

use crate::architecture::Architecture;
use crate::error::{NequipError, Result};
use crate::evaluate::{backward, forward};
use crate::graph::AtomicGraph;
use mlff_e3::{Dual, Scalar};
use serde::{Deserialize, Serialize};

/// Weights of the loss terms (nequip's `loss_coeffs`): per-atom energy MSE and force MSE.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossWeights {
    /// Coefficient of the per-atom energy MSE.
    pub energy: f64,
    /// Coefficient of the force-component MSE.
    pub forces: f64,
}

impl Default for LossWeights {
    /// nequip's rMD17 recipe: 1 : 1000.
    fn default() -> Self {
        Self {
            energy: 1.0,
            forces: 1000.0,
        }
    }
}

/// Reference labels of a batch.
#[derive(Clone, Copy, Debug)]
pub struct Targets<'a> {
    /// Total energy of each frame.
    pub energies: &'a [f64],
    /// Forces, flat `atoms × 3`.
    pub forces: &'a [f64],
}

/// Loss value and error statistics of a batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LossParts {
    /// Weighted total.
    pub total: f64,
    /// Mean of ((E − E_ref)/N)² over frames.
    pub energy_mse: f64,
    /// Mean of |E − E_ref|/N over frames.
    pub energy_mae: f64,
    /// Mean squared force-component error.
    pub force_mse: f64,
    /// Mean absolute force-component error.
    pub force_mae: f64,
    /// Frames in the batch.
    pub frames: usize,
    /// Force components in the batch.
    pub force_components: usize,
}

struct Cotangents {
    parts: LossParts,
    d_energy: Vec<f64>,
    d_forces: Vec<f64>,
}

fn cotangents(
    graph: &AtomicGraph,
    energies: &[f64],
    forces: &[f64],
    targets: Targets<'_>,
    weights: LossWeights,
) -> Result<Cotangents> {
    let nf = graph.num_frames();
    let nc = forces.len();
    for (what, got, expected) in [
        ("target energies", targets.energies.len(), nf),
        ("target forces", targets.forces.len(), nc),
    ] {
        if got != expected {
            return Err(NequipError::Shape {
                what: what.into(),
                expected,
                got,
            });
        }
    }
    let mut parts = LossParts {
        frames: nf,
        force_components: nc,
        ..Default::default()
    };
    let mut d_energy = vec![0.0; nf];
    for (f, r) in graph.frame_offsets().windows(2).enumerate() {
        let atoms = (r[1] - r[0]).max(1) as f64;
        let err = (energies[f] - targets.energies[f]) / atoms;
        parts.energy_mse += err * err / nf as f64;
        parts.energy_mae += err.abs() / nf as f64;
        d_energy[f] = weights.energy * 2.0 * err / atoms / nf as f64;
    }
    let d_forces: Vec<f64> = forces
        .iter()
        .zip(targets.forces)
        .map(|(&p, &t)| {
            let err = p - t;
            parts.force_mse += err * err / nc as f64;
            parts.force_mae += err.abs() / nc as f64;
            weights.forces * 2.0 * err / nc as f64
        })
        .collect();
    parts.total = weights.energy * parts.energy_mse + weights.forces * parts.force_mse;
    Ok(Cotangents {
        parts,
        d_energy,
        d_forces,
    })
}

/// Loss of a batch without gradients (validation), computed in `T`.
pub fn loss<T: Scalar>(
    arch: &Architecture,
    params: &[f64],
    graph: &AtomicGraph,
    targets: Targets<'_>,
    weights: LossWeights,
) -> Result<LossParts> {
    let p: Vec<T> = params.iter().map(|&v| T::from_f64(v)).collect();
    let pos: Vec<T> = graph.positions().iter().map(|&v| T::from_f64(v)).collect();
    let (e, tape) = forward(arch, &p, graph, &pos)?;
    let ones = vec![T::one(); graph.num_frames()];
    let g = backward(arch, &p, graph, &tape, &ones, false)?;
    let energies: Vec<f64> = e.frames.iter().map(|v| v.value()).collect();
    let forces: Vec<f64> = g.positions.iter().map(|v| -v.value()).collect();
    Ok(cotangents(graph, &energies, &forces, targets, weights)?.parts)
}

/// Loss of a batch and its exact gradient with respect to every parameter (zero for fixed
/// ones), computed in `T` (f32 or f64); the gradient is returned in f64.
pub fn loss_and_gradient<T: Scalar>(
    arch: &Architecture,
    params: &[f64],
    graph: &AtomicGraph,
    targets: Targets<'_>,
    weights: LossWeights,
) -> Result<(LossParts, Vec<f64>)> {
    let p: Vec<T> = params.iter().map(|&v| T::from_f64(v)).collect();
    let pos: Vec<T> = graph.positions().iter().map(|&v| T::from_f64(v)).collect();
    let (e, tape) = forward(arch, &p, graph, &pos)?;
    let ones = vec![T::one(); graph.num_frames()];
    let g = backward(arch, &p, graph, &tape, &ones, false)?;
    drop(tape);
    let energies: Vec<f64> = e.frames.iter().map(|v| v.value()).collect();
    let forces: Vec<f64> = g.positions.iter().map(|v| -v.value()).collect();
    let c = cotangents(graph, &energies, &forces, targets, weights)?;
    if !c.parts.total.is_finite() {
        return Ok((c.parts, vec![f64::NAN; params.len()]));
    }

    let dp: Vec<Dual<T>> = p.iter().map(|&v| Dual::constant(v)).collect();
    let dpos: Vec<Dual<T>> = pos
        .iter()
        .zip(&c.d_forces)
        .map(|(&x, &v)| Dual::new(x, T::from_f64(-v)))
        .collect();
    let (_, dtape) = forward(arch, &dp, graph, &dpos)?;
    let de: Vec<Dual<T>> = c
        .d_energy
        .iter()
        .map(|&d| Dual::new(T::one(), T::from_f64(d)))
        .collect();
    let dg = backward(arch, &dp, graph, &dtape, &de, true)?;
    let grad = dg
        .params
        .expect("requested")
        .iter()
        .map(|d| d.eps.value())
        .collect();
    Ok((c.parts, grad))
}
