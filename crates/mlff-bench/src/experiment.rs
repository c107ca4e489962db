//! One trait per experiment: the cells it trains, what it needs of the data, the frames of
//! each of its cells, and its report section. Each `exp_*.rs` file implements it for one
//! experiment and owns all of that; the grid, the plan check, cell execution and the report
//! go through [`all`] instead of matching on experiments themselves.

use anyhow::{Result, bail};
use std::collections::BTreeMap;

use crate::cell_splits::CellSplits;
use crate::data::DataCache;
use crate::grid::{CellSpec, ExperimentKey};
use crate::preset::Plan;
use crate::report::Section;
use crate::store::CellResult;
use crate::{exp_cross, exp_md, exp_sample, exp_soap, exp_time};

/// An experiment of the study.
pub trait Experiment: Sync {
    /// Which experiment.
    fn key(&self) -> ExperimentKey;

    /// The cells it trains (none for experiments measured in other experiments' cells).
    fn cells(&self, _plan: &Plan) -> Vec<CellSpec> {
        Vec::new()
    }

    /// What of `plan` the data (frames per molecule) cannot supply. It may drop settings a
    /// preset chose that the data cannot supply (`explicit` says whether the user chose them).
    fn check(
        &self,
        _plan: &mut Plan,
        _frames: &BTreeMap<String, usize>,
        _explicit: bool,
    ) -> Vec<String> {
        Vec::new()
    }

    /// The frames of `cell`, one of its own cells.
    fn splits(&self, cell: &CellSpec, _data: &DataCache, _plan: &Plan) -> Result<CellSplits> {
        bail!(
            "{} is measured in other experiments' cells, not in cell {}",
            self.key().title(),
            cell.id()
        )
    }

    /// Its report section from the cells that carry its measurements.
    fn section(&self, results: &[&CellResult]) -> Result<Section>;
}

/// Every experiment, in report order.
pub fn all() -> [&'static dyn Experiment; 5] {
    [
        &exp_sample::SampleEfficiency,
        &exp_time::TimeDomain,
        &exp_cross::CrossDataset,
        &exp_soap::SoapSimilarity,
        &exp_md::MdStability,
    ]
}

/// The experiment `key` names.
pub fn of(key: ExperimentKey) -> &'static dyn Experiment {
    let index = ExperimentKey::ALL
        .iter()
        .position(|&k| k == key)
        .unwrap_or_default();
    all()[index]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_names_its_own_experiment_in_report_order() {
        for (k, e) in ExperimentKey::ALL.iter().zip(all()) {
            assert_eq!(e.key(), *k);
            assert_eq!(of(*k).key(), *k);
        }
    }

    #[test]
    fn measurement_experiments_have_no_cells_and_training_ones_do() {
        let plan = crate::Preset::Quick.plan();
        let counts: Vec<usize> = all().iter().map(|e| e.cells(&plan).len()).collect();
        assert!(counts[..3].iter().all(|&n| n > 0), "{counts:?}");
        assert_eq!(&counts[3..], &[0, 0]);
        for e in all() {
            for cell in e.cells(&plan) {
                assert_eq!(cell.experiment(), e.key(), "{}", cell.id());
            }
        }
    }
}
