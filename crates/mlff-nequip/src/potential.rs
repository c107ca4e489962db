//! A trained model as an MD potential (`mlff_md::Potential`) for one molecule.

use crate::error::Result;
use crate::model::Nequip;
use crate::predictor::Predictor;
use mlff_md::{MdError, Potential, Vec3};
use std::sync::Arc;

/// A [`Nequip`] model bound to one molecule's atomic numbers, usable by the MD integrators.
#[derive(Clone)]
pub struct NequipPotential {
    predictor: Arc<dyn Predictor>,
    numbers: Vec<u8>,
}

impl std::fmt::Debug for NequipPotential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NequipPotential")
            .field("executor", &self.predictor.executor())
            .field("numbers", &self.numbers)
            .finish()
    }
}

impl NequipPotential {
    /// Binds `model` (on the CPU) to a molecule; fails if an element is not one of the model's
    /// types.
    pub fn new(model: Arc<Nequip>, numbers: Vec<u8>) -> Result<Self> {
        Self::with_predictor(model, numbers)
    }
    /// Binds a model on any executor (e.g. a GPU copy) to a molecule.
    pub fn with_predictor(predictor: Arc<dyn Predictor>, numbers: Vec<u8>) -> Result<Self> {
        let probe: Vec<Vec3> = (0..numbers.len())
            .map(|i| [10.0 * i as f64, 0.0, 0.0])
            .collect();
        predictor
            .model()
            .graph([(numbers.as_slice(), probe.as_slice())])?;
        Ok(Self { predictor, numbers })
    }
    /// The model.
    pub fn model(&self) -> &Nequip {
        self.predictor.model()
    }
}

impl Potential for NequipPotential {
    fn n_atoms(&self) -> usize {
        self.numbers.len()
    }

    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> mlff_md::Result<f64> {
        mlff_md::potential::check_frame(self.numbers.len(), positions, forces)?;
        let fail = |e: crate::NequipError| MdError::Potential {
            potential: "NequIP".into(),
            message: e.to_string(),
        };
        let graph = self
            .model()
            .graph([(self.numbers.as_slice(), positions)])
            .map_err(fail)?;
        let p = self.predictor.predict_graph(&graph).map_err(fail)?;
        for (f, v) in forces.iter_mut().zip(p.forces.chunks_exact(3)) {
            *f = [v[0], v[1], v[2]];
        }
        Ok(p.energies[0])
    }
}
