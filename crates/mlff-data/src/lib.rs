//! Molecular-dynamics datasets for machine-learning force fields.
//!
//! Reads the files MLFF researchers have — rMD17 and MD17 npz (every shape and dtype variant
//! numpy produces), sGDML model files with embedded frames, extended XYZ as ASE writes it, plain
//! XYZ — into one validated [`Dataset`], and writes MD17/rMD17 npz and extended XYZ back without
//! loss. Units are carried, never silently converted; the trajectory order is recovered where the
//! file records it ([`Dataset::time_ordered`]); subsets are index views ([`Subset`]), so a large
//! file is loaded once and split many ways.
//!
//! ```no_run
//! use mlff_data::{load, EnergyUnit};
//! let data = load("rmd17_aspirin.npz")?;
//! let ordered = data.time_ordered()?;          // sorted by rMD17's old_indices
//! let first_window = ordered.slice(0..1000)?;  // no copy
//! let in_ev = data.with_energy_unit(EnergyUnit::ElectronVolt);
//! # Ok::<(), mlff_data::DataError>(())
//! ```

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
