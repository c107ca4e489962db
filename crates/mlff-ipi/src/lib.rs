//! The i-PI socket protocol, both sides.
//!
//! i-PI's protocol is how a program that moves atoms (the *driver*: i-PI itself, ASE's
//! `SocketIOCalculator`, mlffbench) asks a separate process that computes forces (the *client*:
//! ASE's `SocketClient` around any ASE calculator, LAMMPS `fix ipi`, CP2K, Quantum ESPRESSO) for
//! the energy and forces of a configuration, over a Unix-domain socket or TCP.
//!
//! - [`Listener`] / [`Driver`]: the driver side. Bind an [`Address`], start the client, accept
//!   its connection with a deadline (noticing a client that died first), then
//!   [`Driver::evaluate`] positions in Å to energies in eV and forces in eV/Å.
//! - [`serve`]: the client side for a Rust [`Calculator`] (tests, benchmarks, and serving our
//!   own models to i-PI or ASE).
//! - [`message`]: the wire format (12-byte ASCII headers, native-endian `f64`/`i32` payloads in
//!   atomic units), for writing other clients.
//!
//! The protocol carries no element types: a client knows its atoms from a template it was
//! started with, so a driver runs one client per molecule. Conversions use ASE's constants
//! ([`HARTREE_EV`], [`BOHR_ANGSTROM`], CODATA 2014), so values survive a round trip through an
//! ASE client bit for bit up to the two multiplications.
//!
//! Every failure is an [`IpiError`]: a client that never connects, disconnects, hangs past
//! the deadline, answers out of protocol, returns another number of atoms or non-finite values.

mod client;
mod driver;
mod error;
pub mod message;

pub use client::{Calculator, serve};
pub use driver::{Address, Driver, Evaluation, Listener};
pub use error::IpiError;

/// One Hartree in eV, as ASE defines it (`ase.units.Ha`, CODATA 2014).
pub const HARTREE_EV: f64 = 27.211_386_024_367_243;
/// One Bohr in Å, as ASE defines it (`ase.units.Bohr`, CODATA 2014).
pub const BOHR_ANGSTROM: f64 = 0.529_177_210_563_841_1;

/// A Cartesian vector (Å, eV/Å, … as documented where used).
pub type Vec3 = [f64; 3];

/// Result of this crate's operations.
pub type Result<T> = std::result::Result<T, IpiError>;
