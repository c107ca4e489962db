//! Error metrics and statistics for machine-learning force fields, for predictions made by any
//! model on any split.
//!
//! - [`score`]: per-atom energy MAE/RMSE, force component MAE/RMSE, force-vector and
//!   force-magnitude errors, cosine similarity, per-element and per-frame errors, all carrying
//!   their [`EnergyUnit`] and convertible with [`Scores::in_unit`].
//! - [`bootstrap_ci`] / [`Scores::bootstrap`]: seeded percentile-bootstrap intervals over frames.
//! - [`fit_power_law`]: learning-curve log–log slope with its standard error.
//! - [`pearson`] / [`spearman`]: correlations with two-sided p-values and Fisher-z intervals
//!   ([`Correlation::interval`], [`pooled_correlation`]).
//! - [`Estimate`]: a value with its confidence interval, from [`mean_interval`] (replicates),
//!   [`welch_difference`], [`paired_ratio`] (replicates), [`ratio_of_means`] /
//!   [`ratio_of_paired_means`] (bootstrap over frames),
//!   [`PowerLawFit::slope_estimate`] / [`power_law_slope_bootstrap`] (learning curves) and
//!   [`permutation_trend`] (seeded permutation test of a trend).
//! - [`SummaryTable`]: Markdown / CSV tables.
//!
//! ```
//! use mlff_metrics::{AtomicNumbers, EnergyUnit, Labels, score};
//! use ndarray::{Array3, array};
//!
//! // Two frames of water (O, H, H); energies in kcal/mol, forces in kcal/mol/Å.
//! let z = array![8u8, 1, 1];
//! let (reference_e, reference_f) = (array![-10.0, -11.0], Array3::<f64>::zeros((2, 3, 3)));
//! let (predicted_e, predicted_f) = (array![-10.3, -10.4], Array3::<f64>::from_elem((2, 3, 3), 0.1));
//! let scores = score(
//!     &Labels::new(predicted_e.view(), predicted_f.view()),
//!     &Labels::new(reference_e.view(), reference_f.view()),
//!     &AtomicNumbers::Shared(z.view()),
//!     EnergyUnit::KcalPerMol,
//! )?;
//! assert!((scores.energy.per_atom_mae - 0.15).abs() < 1e-12);
//! let mev = scores.in_unit(EnergyUnit::MilliElectronVolt);
//! assert!((mev.forces.component_mae - 4.336_410_424_180_093).abs() < 1e-9);
//! # Ok::<(), mlff_metrics::MetricsError>(())
//! ```

mod bootstrap;
mod correlation;
mod error;
mod inference;
mod inputs;
mod learning_curve;
mod scores;
mod table;
mod units;

pub use bootstrap::{
    BootstrapOptions, ConfidenceInterval, ScoreIntervals, Statistic, bootstrap_ci, percentile,
};
pub use correlation::{
    Correlation, CorrelationMethod, EXACT_SPEARMAN_MAX_N, SPEARMAN_INTERVAL_MIN_N, average_ranks,
    pearson, pooled_correlation, spearman,
};
pub use error::{MetricsError, Result};
pub use inference::{
    DEFAULT_LEVEL, Estimate, PermutationOptions, TrendStatistic, TrendTest, bootstrap_group_means,
    linear_slope, mean_interval, paired_ratio, permutation_trend, power_law_slope_bootstrap,
    ratio_of_means, ratio_of_paired_means, welch_difference,
};
pub use inputs::{AtomicNumbers, Labels};
pub use learning_curve::{PowerLawFit, fit_power_law};
pub use scores::{ElementErrors, EnergyErrors, ForceErrors, FrameErrors, Scores, score};
pub use table::{ScoreRow, SummaryTable, significant};
pub use units::{EnergyUnit, KCAL_PER_MOL_IN_EV};
