//! Energy units come from `mlff-units`, the one definition shared with the dataset crate;
//! forces are energy per ångström in the same unit.

pub use mlff_units::{EV_PER_KCAL_MOL as KCAL_PER_MOL_IN_EV, EnergyUnit};
