//! Molecular dynamics for benchmarking machine-learning force fields.
//!
//! - [`Potential`]: energy + forces of one frame (kcal/mol, Å), implemented by
//!   [`UffPotential`] (RDKit-exact UFF), [`SgdmlModel`] and any MLFF.
//! - [`Molecule`]: description files of the ten rMD17 molecules, embedded in the crate.
//! - Integrators (velocity Verlet, Langevin BAOAB, Nosé–Hoover) and
//!   [`generate_trajectory`], deterministic for a seed, with explosion detection.
//! - [`stability`]: the MD-stability analysis of Fu et al. (collapse, h(r), energy drift).
//! - [`protocols`]: stability runs that rank models — a heating ramp to the first collapse
//!   and NVE energy drift from a thermalised state.
//! - [`estimate_frame_spacing`]: the time between a trajectory's saved frames, from its own
//!   positions and forces (for files that do not record it).
//!
//! Units: Å, fs, amu, kcal/mol (see [`units`]).

pub mod error;
pub mod integrate;
mod mds;
pub mod molecule;
pub mod npz;
pub mod potential;
pub mod protocols;
pub mod sgdml;
pub mod spacing;
pub mod stability;
pub mod trajectory;
pub mod uff;
pub mod units;
pub mod vec3;

pub use error::{MdError, Result};
pub use integrate::{Integrator, IntegratorConfig, Thermostat};
pub use molecule::{
    Atom, BUILTIN_MOLECULES, Bond, Element, Hybridization, Molecule, bonds_from_geometry,
};
pub use potential::{FrameEvaluations, Potential, evaluate_frames};
pub use protocols::{
    Collapse, HeatingRamp, MdState, NveOutcome, NveRun, RampOutcome, heating_ramp, nve_drift,
};
pub use sgdml::SgdmlModel;
pub use spacing::{FrameSpacingEstimate, RELIABLE_UP_TO_FS, estimate_frame_spacing};
pub use trajectory::{
    Explosion, Progress, SimulationRun, Trajectory, TrajectoryConfig, generate_trajectory,
    simulate_until_explosion,
};
pub use uff::{UffEnergyParts, UffPotential};
pub use vec3::Vec3;
