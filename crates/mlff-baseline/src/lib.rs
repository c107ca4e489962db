#![doc = include_str!("../README.md")]

mod basis;
mod error;
mod fit;
mod layout;
mod model;
mod potential;

pub use basis::RadialBasis;
pub use error::{BaselineError, Result};
pub use fit::fit;
pub use layout::ColumnLayout;
pub use model::{PairConfig, PairModel, Prediction};
pub use potential::PairPotential;
