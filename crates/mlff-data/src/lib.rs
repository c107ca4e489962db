#![doc = include_str!("../README.md")]

mod atomic;
mod dataset;
pub mod elements;
mod error;
pub mod format;
mod summary;

pub use atomic::write_atomically;
pub use dataset::{Dataset, DatasetParts, Format, Frame, Provenance, Species, Subset, TimeOrder};
pub use error::{DataError, Result};
pub use format::{LoadOptions, OutputFormat, XyzOptions, detect_format, load, load_with, save};
pub use mlff_units::{ANGSTROM_PER_BOHR, EV_PER_KCAL_MOL, EnergyUnit, LengthUnit, Units};
pub use summary::{Stats, Summary};
