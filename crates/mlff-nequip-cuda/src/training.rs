//! The training loss's two passes ([`LossPasses`]) on a backend: a plain energy + force pass,
//! then one dual-number pass whose parameter-gradient tangent is the loss gradient
//! (mlff-nequip's design B), both with every intermediate on the executor.

use std::sync::Arc;

use mlff_cuda::{Backend, DeviceReal};
use mlff_e3::Dual;
use mlff_nequip::{AtomicGraph, LossPasses, Nequip, NequipError, Precision, seeded_duals};

use crate::error::DeviceModelError;
use crate::model::DeviceNequip;

/// [`LossPasses`] of a model's architecture on a backend, in the model's precision.
///
/// Training changes the parameters every step, so each call uploads the current ones (weights
/// and operation tables); the passes themselves run on the executor.
pub struct DevicePasses<B: Backend> {
    backend: Arc<B>,
    template: Nequip,
}

impl<B: Backend> DevicePasses<B> {
    /// The passes of `model`'s architecture (its parameters are replaced on every call).
    pub fn new(backend: Arc<B>, model: &Nequip) -> Self {
        Self {
            backend,
            template: model.clone(),
        }
    }

    fn model_with(&self, params: &[f64]) -> mlff_nequip::Result<Nequip> {
        Nequip::with_params(self.template.config().clone(), params.to_vec())
    }

    fn energies_forces_as<T: DeviceReal>(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
    ) -> mlff_nequip::Result<(Vec<f64>, Vec<f64>)> {
        let model = self.model_with(params)?;
        let device = DeviceNequip::<B, T>::new(self.backend.clone(), &model).map_err(executor)?;
        let p = device.predict(graph).map_err(executor)?;
        Ok((p.energies, p.forces))
    }

    fn seeded_gradient_as<T: DeviceReal>(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
        position_tangent: &[f64],
        energy_tangent: &[f64],
    ) -> mlff_nequip::Result<Vec<f64>>
    where
        Dual<T>: DeviceReal,
    {
        let model = self.model_with(params)?;
        let run = || -> crate::Result<Vec<f64>> {
            let b = &*self.backend;
            let device = DeviceNequip::<B, Dual<T>>::new(self.backend.clone(), &model)?;
            let dg = device.upload_graph(graph)?;
            let (pos, seed) = seeded_duals::<T>(graph, position_tangent, energy_tangent);
            let (_, tape) = device.forward(&dg, &b.upload(&pos)?)?;
            let grads = device.backward(&dg, &tape, &b.upload(&seed)?, true)?;
            let params = grads.params.unwrap_or_default();
            Ok(params.iter().map(|d| d.eps.value()).collect())
        };
        run().map_err(executor)
    }
}

fn executor(e: DeviceModelError) -> NequipError {
    NequipError::Executor {
        executor: "device".into(),
        message: e.to_string(),
    }
}

impl<B: Backend + Send + Sync> LossPasses for DevicePasses<B> {
    fn energies_forces(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
    ) -> mlff_nequip::Result<(Vec<f64>, Vec<f64>)> {
        match self.template.config().precision()? {
            Precision::F32 => self.energies_forces_as::<f32>(params, graph),
            Precision::F64 => self.energies_forces_as::<f64>(params, graph),
        }
    }

    fn seeded_gradient(
        &self,
        params: &[f64],
        graph: &AtomicGraph,
        position_tangent: &[f64],
        energy_tangent: &[f64],
    ) -> mlff_nequip::Result<Vec<f64>> {
        match self.template.config().precision()? {
            Precision::F32 => {
                self.seeded_gradient_as::<f32>(params, graph, position_tangent, energy_tangent)
            }
            Precision::F64 => {
                self.seeded_gradient_as::<f64>(params, graph, position_tangent, energy_tangent)
            }
        }
    }
}
