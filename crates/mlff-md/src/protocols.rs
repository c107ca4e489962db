//! Stability protocols that rank force fields without saturating at a run length: a heating
//! ramp (Langevin MD whose target temperature rises until the molecule collapses, Fu et al.'s
//! bond criterion) and an NVE run from a thermalised state (total-energy drift per atom and
//! ps, LAMBench's conservation check).
//!
//! Both are deterministic for a seed. A failure of the integrator or the potential during the
//! dynamics (non-finite numbers, a model that cannot evaluate a geometry) ends the run as a
//! [`Collapse::Failed`]; only bad inputs are errors.

use std::collections::VecDeque;

use crate::error::{MdError, Result, invalid, is_positive_finite};
use crate::integrate::{Integrator, IntegratorConfig, Thermostat};
use crate::potential::Potential;
use crate::stability::{BondCriterion, BrokenBond, energy_drift_per_atom};
use crate::units::{FS_PER_PS, KCAL_PER_MOL_PER_EV};
use crate::vec3::Vec3;

/// LAMBench's tolerance on the NVE total-energy drift, eV per atom per ps.
pub const LAMBENCH_DRIFT_TOLERANCE_EV: f64 = 5e-4;

/// Positions (Å) and velocities (Å/fs) of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct MdState {
    /// Positions, Å.
    pub positions: Vec<Vec3>,
    /// Velocities, Å/fs.
    pub velocities: Vec<Vec3>,
}

/// Why a run ended before its last step.
#[derive(Debug, Clone, PartialEq)]
pub enum Collapse {
    /// A bond left the criterion's window.
    Bond(BrokenBond),
    /// The integrator or the potential failed (non-finite numbers, a model error).
    Failed {
        /// The error, as text.
        reason: String,
    },
}

impl std::fmt::Display for Collapse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Collapse::Bond(b) => write!(
                f,
                "bond {}–{} at {:.3} Å (reference {:.3} Å)",
                b.atoms.0, b.atoms.1, b.length_a, b.reference_a
            ),
            Collapse::Failed { reason } => f.write_str(reason),
        }
    }
}

/// Settings of a [`heating_ramp`]: Langevin MD held at `start_k`, then heated at a constant
/// rate up to `max_k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeatingRamp {
    /// Time step, fs.
    pub dt_fs: f64,
    /// Langevin friction, 1/fs.
    pub friction_per_fs: f64,
    /// Temperature of the initial velocities and of the hold, K.
    pub start_k: f64,
    /// Steps held at `start_k` before the heating starts.
    pub hold_steps: usize,
    /// Heating rate after the hold, K/ps (unused when `max_k` equals `start_k`).
    pub rate_k_per_ps: f64,
    /// Highest target temperature, K; the run ends when the ramp reaches it.
    pub max_k: f64,
    /// Steps between collapse checks (and observed frames).
    pub check_every: usize,
    /// Steps over which the kinetic temperature is averaged for the report.
    pub temperature_window: usize,
    /// Seed of the initial velocities and of the Langevin noise.
    pub seed: u64,
}

impl HeatingRamp {
    fn validate(&self) -> Result<()> {
        if !is_positive_finite(self.start_k) {
            return Err(invalid("start_k", self.start_k, "must be > 0"));
        }
        if !(self.max_k.is_finite() && self.max_k >= self.start_k) {
            return Err(invalid("max_k", self.max_k, "must be ≥ start_k"));
        }
        if self.max_k > self.start_k && !is_positive_finite(self.rate_k_per_ps) {
            return Err(invalid(
                "rate_k_per_ps",
                self.rate_k_per_ps,
                "must be > 0 when max_k > start_k",
            ));
        }
        if self.check_every == 0 {
            return Err(invalid("check_every", 0, "must be ≥ 1"));
        }
        if self.temperature_window == 0 {
            return Err(invalid("temperature_window", 0, "must be ≥ 1"));
        }
        Ok(())
    }

    /// Steps of the heating phase (after the hold).
    pub fn ramp_steps(&self) -> usize {
        if self.max_k > self.start_k {
            ((self.max_k - self.start_k) / self.rate_k_per_ps * FS_PER_PS / self.dt_fs).ceil()
                as usize
        } else {
            0
        }
    }

    /// Steps of the whole run (hold + heating).
    pub fn total_steps(&self) -> usize {
        self.hold_steps + self.ramp_steps()
    }

    /// Target temperature (K) of step `step` (counted from 1).
    pub fn target_at(&self, step: usize) -> f64 {
        let heated = step.saturating_sub(self.hold_steps) as f64 * self.dt_fs / FS_PER_PS;
        (self.start_k + self.rate_k_per_ps * heated).min(self.max_k)
    }
}

/// A frame of a ramp that passed the collapse check, handed to the observer.
#[derive(Debug, Clone, Copy)]
pub struct RampFrame<'a> {
    /// Steps done.
    pub step: usize,
    /// Simulated time, ps.
    pub time_ps: f64,
    /// Target temperature of the step, K.
    pub target_k: f64,
    /// Whether the step belongs to the hold at the start temperature.
    pub holding: bool,
    /// Positions, Å.
    pub positions: &'a [Vec3],
}

/// Where a ramp ended: at its collapse, or at `max_k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RampPoint {
    /// Steps done.
    pub step: usize,
    /// Simulated time, ps.
    pub time_ps: f64,
    /// Target temperature of the last step, K.
    pub target_k: f64,
    /// Kinetic temperature averaged over the last `temperature_window` steps, K.
    pub kinetic_k: f64,
}

/// Result of a [`heating_ramp`].
#[derive(Debug, Clone, PartialEq)]
pub struct RampOutcome {
    /// The collapse, or `None` if the molecule survived to `max_k`.
    pub collapse: Option<Collapse>,
    /// Where the run ended.
    pub end: RampPoint,
    /// The state at the end of the hold (checked intact), the start of an NVE run.
    pub after_hold: Option<MdState>,
}

impl RampOutcome {
    /// Target temperature at the collapse (K), `None` if the molecule survived to `max_k`.
    pub fn collapse_temperature_k(&self) -> Option<f64> {
        self.collapse.as_ref().map(|_| self.end.target_k)
    }
}

/// One step of `md`; a failure, or a broken bond when `check` is set, is the run's collapse.
fn advance(
    md: &mut Integrator<'_>,
    criterion: &BondCriterion,
    check: bool,
) -> Result<Option<Collapse>> {
    if let Err(e) = md.step() {
        return Ok(Some(Collapse::Failed {
            reason: e.to_string(),
        }));
    }
    if !check {
        return Ok(None);
    }
    Ok(criterion
        .broken_bond(md.positions().as_flattened())?
        .map(Collapse::Bond))
}

fn check_atoms(potential: &dyn Potential, criterion: &BondCriterion) -> Result<()> {
    if criterion.n_atoms() != potential.n_atoms() {
        return Err(MdError::ShapeMismatch {
            what: "collapse criterion (atoms)".into(),
            expected: potential.n_atoms(),
            got: criterion.n_atoms(),
        });
    }
    Ok(())
}

fn state(md: &Integrator<'_>) -> MdState {
    MdState {
        positions: md.positions().to_vec(),
        velocities: md.velocities().to_vec(),
    }
}

/// Runs a heating ramp from `positions` (velocities drawn at `start_k`) until the first
/// collapse under `criterion` or the end of the ramp; `observe` sees every checked intact frame.
pub fn heating_ramp(
    potential: &dyn Potential,
    masses: Vec<f64>,
    positions: Vec<Vec3>,
    criterion: &BondCriterion,
    ramp: &HeatingRamp,
    observe: &mut dyn FnMut(&RampFrame<'_>),
) -> Result<RampOutcome> {
    ramp.validate()?;
    check_atoms(potential, criterion)?;
    let mut md = Integrator::new(
        potential,
        masses,
        positions,
        IntegratorConfig {
            dt_fs: ramp.dt_fs,
            thermostat: Thermostat::Langevin {
                friction_per_fs: ramp.friction_per_fs,
            },
            temperature_k: ramp.start_k,
            seed: ramp.seed,
        },
    )?;
    let mut window = VecDeque::with_capacity(ramp.temperature_window);
    window.push_back(md.temperature());
    let mut after_hold = (ramp.hold_steps == 0).then(|| state(&md));
    let total = ramp.total_steps();
    let mut collapse = None;
    let mut step = 0;
    while step < total {
        step += 1;
        let target_k = ramp.target_at(step);
        md.set_temperature(target_k)?;
        let check = step % ramp.check_every == 0 || step == ramp.hold_steps || step == total;
        collapse = advance(&mut md, criterion, check)?;
        if collapse.is_some() {
            break;
        }
        if window.len() == ramp.temperature_window {
            window.pop_front();
        }
        window.push_back(md.temperature());
        if step == ramp.hold_steps {
            after_hold = Some(state(&md));
        }
        if check {
            observe(&RampFrame {
                step,
                time_ps: step as f64 * ramp.dt_fs / FS_PER_PS,
                target_k,
                holding: step <= ramp.hold_steps,
                positions: md.positions(),
            });
        }
    }
    Ok(RampOutcome {
        collapse,
        end: RampPoint {
            step,
            time_ps: step as f64 * ramp.dt_fs / FS_PER_PS,
            target_k: ramp.target_at(step),
            kinetic_k: window.iter().sum::<f64>() / window.len() as f64,
        },
        after_hold,
    })
}

/// Settings of an [`nve_drift`] run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NveRun {
    /// Time step, fs.
    pub dt_fs: f64,
    /// Integration steps.
    pub steps: usize,
    /// Steps between total-energy samples (and collapse checks).
    pub sample_every: usize,
}

/// Result of an [`nve_drift`] run.
#[derive(Debug, Clone, PartialEq)]
pub struct NveOutcome {
    /// Least-squares slope of the total energy, kcal/mol per atom per ps, over the samples
    /// before any collapse (`None` with fewer than two).
    pub drift_per_atom_per_ps: Option<f64>,
    /// Largest |E(t) − E(0)| of the total energy per atom, kcal/mol.
    pub max_deviation_per_atom: f64,
    /// Mean kinetic temperature over the samples, K.
    pub mean_temperature_k: f64,
    /// The collapse that ended the run early, if any.
    pub collapse: Option<Collapse>,
    /// Integration steps done.
    pub steps_done: usize,
}

impl NveOutcome {
    /// The drift in eV per atom per ps.
    pub fn drift_ev_per_atom_per_ps(&self) -> Option<f64> {
        self.drift_per_atom_per_ps.map(|d| d / KCAL_PER_MOL_PER_EV)
    }

    /// Whether the run stayed intact with |drift| ≤ [`LAMBENCH_DRIFT_TOLERANCE_EV`].
    pub fn conserves_energy(&self) -> bool {
        self.collapse.is_none()
            && self
                .drift_ev_per_atom_per_ps()
                .is_some_and(|d| d.abs() <= LAMBENCH_DRIFT_TOLERANCE_EV)
    }
}

/// Velocity-Verlet (NVE) run from `start` measuring the total-energy drift; a collapse under
/// `criterion` (checked at every sample) or a failure ends it early.
pub fn nve_drift(
    potential: &dyn Potential,
    masses: Vec<f64>,
    start: &MdState,
    criterion: &BondCriterion,
    run: &NveRun,
) -> Result<NveOutcome> {
    if run.steps == 0 {
        return Err(invalid("steps", 0, "must be ≥ 1"));
    }
    if run.sample_every == 0 {
        return Err(invalid("sample_every", 0, "must be ≥ 1"));
    }
    check_atoms(potential, criterion)?;
    let n_atoms = masses.len();
    let mut md = Integrator::new(
        potential,
        masses,
        start.positions.clone(),
        IntegratorConfig {
            dt_fs: run.dt_fs,
            thermostat: Thermostat::None,
            temperature_k: 0.0,
            seed: 0,
        },
    )?;
    md.set_velocities(start.velocities.clone())?;
    let mut energies = vec![md.conserved_energy()];
    let mut temperature_sum = md.temperature();
    let mut collapse = None;
    let mut steps_done = 0;
    while steps_done < run.steps {
        steps_done += 1;
        let sample = steps_done % run.sample_every == 0 || steps_done == run.steps;
        collapse = advance(&mut md, criterion, sample)?;
        if collapse.is_some() {
            break;
        }
        if sample {
            energies.push(md.conserved_energy());
            temperature_sum += md.temperature();
        }
    }
    let e0 = energies[0];
    let max_deviation = energies.iter().map(|e| (e - e0).abs()).fold(0.0, f64::max);
    let frame_dt_fs = run.sample_every as f64 * run.dt_fs;
    // A last sample off the regular grid would bias the fit: only equally spaced ones enter.
    let regular = energies.len().min(1 + steps_done / run.sample_every);
    let drift = (regular >= 2)
        .then(|| energy_drift_per_atom(&energies[..regular], frame_dt_fs, n_atoms))
        .transpose()?;
    Ok(NveOutcome {
        drift_per_atom_per_ps: drift,
        max_deviation_per_atom: max_deviation / n_atoms as f64,
        mean_temperature_k: temperature_sum / energies.len() as f64,
        collapse,
        steps_done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> HeatingRamp {
        HeatingRamp {
            dt_fs: 0.5,
            friction_per_fs: 0.01,
            start_k: 500.0,
            hold_steps: 100,
            rate_k_per_ps: 1000.0,
            max_k: 1000.0,
            check_every: 10,
            temperature_window: 50,
            seed: 0,
        }
    }

    #[test]
    fn ramp_schedule_holds_then_heats_linearly_to_the_maximum() {
        let r = ramp();
        assert_eq!(r.ramp_steps(), 1000); // 500 K at 1000 K/ps = 0.5 ps = 1000 steps
        assert_eq!(r.total_steps(), 1100);
        assert_eq!(r.target_at(1), 500.0);
        assert_eq!(r.target_at(100), 500.0);
        assert!((r.target_at(600) - 750.0).abs() < 1e-9);
        assert_eq!(r.target_at(1100), 1000.0);
        assert_eq!(r.target_at(5000), 1000.0);
        let flat = HeatingRamp {
            max_k: 500.0,
            rate_k_per_ps: 0.0,
            ..r
        };
        assert_eq!(flat.total_steps(), 100);
        assert!(flat.validate().is_ok());
    }

    #[test]
    fn bad_settings_are_errors() {
        let r = ramp();
        for bad in [
            HeatingRamp { start_k: 0.0, ..r },
            HeatingRamp { max_k: 400.0, ..r },
            HeatingRamp {
                rate_k_per_ps: 0.0,
                ..r
            },
            HeatingRamp {
                check_every: 0,
                ..r
            },
            HeatingRamp {
                temperature_window: 0,
                ..r
            },
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
    }
}
