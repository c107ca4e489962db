//! [`ModelFactory`] for the two-body baseline of `mlff-baseline`.

use anyhow::{Context, Result};
use mlff_baseline::{PairConfig, PairModel, fit};
use mlff_data::Dataset;
use mlff_md::Potential;

use crate::model::{FittedModel, ModelFactory, Predictions, TrainingContext};
use crate::preset::Preset;

/// Fits [`PairModel`]s; the fit is deterministic, so the seed only enters through the split.
pub struct BaselineFactory {
    config: PairConfig,
}

impl BaselineFactory {
    /// The factory for a preset (the same hyper-parameters for both: the fit is cheap).
    pub fn new(_preset: Preset) -> Self {
        Self {
            config: PairConfig::default(),
        }
    }
}

impl ModelFactory for BaselineFactory {
    fn name(&self) -> String {
        "baseline-pair".into()
    }

    fn train(
        &self,
        train: &[Dataset],
        _validation: &[Dataset],
        context: &TrainingContext<'_>,
    ) -> Result<Box<dyn FittedModel>> {
        let sets: Vec<&Dataset> = train.iter().collect();
        let model = fit(self.config, &sets).context("fitting the pair baseline")?;
        (context.progress)(1.0);
        Ok(Box::new(FittedPair(model, self.config)))
    }
}

struct FittedPair(PairModel, PairConfig);

impl FittedModel for FittedPair {
    fn predict(&self, data: &Dataset) -> Result<Predictions> {
        let p = self.0.predict(data)?;
        Ok(Predictions {
            energies: p.energies,
            forces: p.forces,
        })
    }

    fn potential<'a>(&'a self, atomic_numbers: &[u8]) -> Result<Box<dyn Potential + 'a>> {
        Ok(Box::new(self.0.potential(atomic_numbers)?))
    }

    fn training_summary(&self) -> serde_json::Value {
        serde_json::json!({
            "parameters": self.0.n_parameters(),
            "elements": self.0.elements(),
            "energy_shifts": self.0.energy_shifts(),
            // Ridge least squares is solved exactly: nothing iterates, so nothing stops early.
            "converged": true,
            "stop": "exact least-squares solution (no iterative training)",
        })
    }

    fn hyper_parameters(&self) -> serde_json::Value {
        serde_json::json!({ "model": self.1, "elements": self.0.elements() })
    }
}
