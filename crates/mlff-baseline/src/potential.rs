//! The fitted model as an [`mlff_md::Potential`] for one molecule, so it can drive MD.

use mlff_md::{MdError, Potential, Vec3};

use crate::error::Result;
use crate::model::PairModel;

/// A [`PairModel`] bound to one molecule's atoms (element lookup done once).
#[derive(Debug, Clone)]
pub struct PairPotential<'a> {
    model: &'a PairModel,
    elements: Vec<usize>,
}

impl PairModel {
    /// This model as an MD potential for atoms `atomic_numbers` (kcal/mol, Å).
    pub fn potential(&self, atomic_numbers: &[u8]) -> Result<PairPotential<'_>> {
        Ok(PairPotential {
            model: self,
            elements: self.element_indices(atomic_numbers)?,
        })
    }
}

impl Potential for PairPotential<'_> {
    fn n_atoms(&self) -> usize {
        self.elements.len()
    }

    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> mlff_md::Result<f64> {
        mlff_md::potential::check_frame(self.elements.len(), positions, forces)?;
        self.model
            .evaluate(&self.elements, positions, forces)
            // The integrator reports the step; the geometry it reached is outside what the
            // model can evaluate (atoms on top of each other, or a pair never trained on).
            .map_err(|e| MdError::NonFinite {
                what: "pair-potential energy".into(),
                location: e.to_string(),
            })
    }
}
