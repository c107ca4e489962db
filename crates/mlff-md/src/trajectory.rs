//! Trajectory generation: equilibrate, then save every k-th frame, with explosion detection.

use crate::error::{MdError, Result, invalid, is_positive_finite};
use crate::integrate::{Integrator, IntegratorConfig, Thermostat};
use crate::potential::Potential;
use crate::units::atomic_mass;
use crate::vec3::Vec3;

/// Settings of [`generate_trajectory`]; the default is the rMD17-like protocol
/// (500 K, 0.5 fs, Langevin 0.01/fs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrajectoryConfig {
    /// Target temperature, K.
    pub temperature_k: f64,
    /// Integration time step, fs.
    pub dt_fs: f64,
    /// Steps run (and discarded) before the first saved frame.
    pub equilibration_steps: usize,
    /// Number of frames to save.
    pub n_frames: usize,
    /// Integration steps between saved frames.
    pub save_every: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Thermostat.
    pub thermostat: Thermostat,
    /// An atom farther than this (Å) from the centre of mass means the molecule exploded.
    pub max_distance_from_centre_a: f64,
}

impl Default for TrajectoryConfig {
    fn default() -> Self {
        Self {
            temperature_k: 500.0,
            dt_fs: 0.5,
            equilibration_steps: 2000,
            n_frames: 1000,
            save_every: 1,
            seed: 0,
            thermostat: Thermostat::Langevin {
                friction_per_fs: 0.01,
            },
            max_distance_from_centre_a: 20.0,
        }
    }
}

/// A time-ordered trajectory in MD17 layout (flat row-major arrays).
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Atomic numbers `(N)`.
    pub atomic_numbers: Vec<u8>,
    /// Positions `(T, N, 3)`, Å.
    pub positions: Vec<f64>,
    /// Potential energies `(T)`, kcal/mol.
    pub energies: Vec<f64>,
    /// Forces `(T, N, 3)`, kcal/mol/Å.
    pub forces: Vec<f64>,
    /// Time between saved frames, fs.
    pub dt_fs: f64,
}

impl Trajectory {
    /// Number of frames T.
    pub fn n_frames(&self) -> usize {
        self.energies.len()
    }

    /// Number of atoms N.
    pub fn n_atoms(&self) -> usize {
        self.atomic_numbers.len()
    }

    /// Positions of frame `t`, Å.
    pub fn frame(&self, t: usize) -> Vec<Vec3> {
        let n = self.n_atoms();
        self.positions[3 * n * t..3 * n * (t + 1)]
            .chunks_exact(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect()
    }
}

/// Progress of a run: steps done and total steps (equilibration included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Integration steps done.
    pub steps_done: usize,
    /// Total integration steps of the run.
    pub total_steps: usize,
}

/// Reports why a frame is unphysical (non-finite or an atom too far from the centre of mass).
pub fn explosion_reason(
    positions: &[Vec3],
    energy: f64,
    masses: &[f64],
    max_distance: f64,
) -> Option<String> {
    if !energy.is_finite() {
        return Some(format!("non-finite potential energy {energy}"));
    }
    if let Some(a) = positions
        .iter()
        .position(|p| p.iter().any(|x| !x.is_finite()))
    {
        return Some(format!("non-finite position of atom {a}"));
    }
    let total: f64 = masses.iter().sum();
    let mut com = [0.0; 3];
    for (p, m) in positions.iter().zip(masses) {
        for c in 0..3 {
            com[c] += m * p[c] / total;
        }
    }
    positions.iter().enumerate().find_map(|(a, p)| {
        let d =
            ((p[0] - com[0]).powi(2) + (p[1] - com[1]).powi(2) + (p[2] - com[2]).powi(2)).sqrt();
        (d > max_distance).then(|| {
            format!("atom {a} is {d:.1} Å from the centre of mass (limit {max_distance} Å)")
        })
    })
}

/// Runs MD with `potential` from `positions` and returns the saved frames.
///
/// Deterministic for `config.seed`. `progress` is called about every 1% of the run. An
/// exploding run is an [`MdError::Exploded`] carrying the step; nothing is returned for it
/// (use [`simulate_until_explosion`] to keep the frames before it).
pub fn generate_trajectory(
    atomic_numbers: &[u8],
    positions: &[Vec3],
    potential: &dyn Potential,
    config: &TrajectoryConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<Trajectory> {
    let run = simulate_until_explosion(atomic_numbers, positions, potential, config, progress)?;
    match run.explosion {
        Some(Explosion { step, reason }) => Err(MdError::Exploded { step, reason }),
        None => Ok(run.trajectory),
    }
}

/// Where and why a run blew up.
#[derive(Debug, Clone, PartialEq)]
pub struct Explosion {
    /// Integration step (equilibration included, counted from 1).
    pub step: usize,
    /// What was detected.
    pub reason: String,
}

/// A run that may have ended early: the frames saved before any explosion.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulationRun {
    /// Frames saved before the explosion (all of them if there was none).
    pub trajectory: Trajectory,
    /// The explosion that ended the run, if any.
    pub explosion: Option<Explosion>,
}

/// Like [`generate_trajectory`], but an explosion ends the run and the frames saved before it
/// are kept — what MD-stability tests of an MLFF need.
pub fn simulate_until_explosion(
    atomic_numbers: &[u8],
    positions: &[Vec3],
    potential: &dyn Potential,
    config: &TrajectoryConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<SimulationRun> {
    if config.n_frames == 0 {
        return Err(invalid("n_frames", 0, "must be ≥ 1"));
    }
    if config.save_every == 0 {
        return Err(invalid("save_every", 0, "must be ≥ 1"));
    }
    if !is_positive_finite(config.max_distance_from_centre_a) {
        return Err(invalid(
            "max_distance_from_centre_a",
            config.max_distance_from_centre_a,
            "must be > 0",
        ));
    }
    let masses = atomic_numbers
        .iter()
        .enumerate()
        .map(|(i, &z)| {
            atomic_mass(z).ok_or(MdError::UnknownElement {
                index: i,
                element: z.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut md = Integrator::new(
        potential,
        masses.clone(),
        positions.to_vec(),
        IntegratorConfig {
            dt_fs: config.dt_fs,
            thermostat: config.thermostat,
            temperature_k: config.temperature_k,
            seed: config.seed,
        },
    )?;
    let n = atomic_numbers.len();
    let total_steps = config.equilibration_steps + config.n_frames * config.save_every;
    let report_every = (total_steps / 100).max(1);
    let mut traj = Trajectory {
        atomic_numbers: atomic_numbers.to_vec(),
        positions: Vec::with_capacity(config.n_frames * n * 3),
        energies: Vec::with_capacity(config.n_frames),
        forces: Vec::with_capacity(config.n_frames * n * 3),
        dt_fs: config.dt_fs * config.save_every as f64,
    };
    for step in 1..=total_steps {
        if let Err(e) = md.step() {
            return match e {
                MdError::Exploded { step, reason } => Ok(SimulationRun {
                    trajectory: traj,
                    explosion: Some(Explosion { step, reason }),
                }),
                other => Err(other),
            };
        }
        if let Some(reason) = explosion_reason(
            md.positions(),
            md.potential_energy(),
            &masses,
            config.max_distance_from_centre_a,
        ) {
            return Ok(SimulationRun {
                trajectory: traj,
                explosion: Some(Explosion { step, reason }),
            });
        }
        let production = step.saturating_sub(config.equilibration_steps);
        if production > 0 && production % config.save_every == 0 {
            traj.positions.extend(md.positions().iter().flatten());
            traj.forces.extend(md.forces().iter().flatten());
            traj.energies.push(md.potential_energy());
        }
        if step % report_every == 0 || step == total_steps {
            progress(Progress {
                steps_done: step,
                total_steps,
            });
        }
    }
    Ok(SimulationRun {
        trajectory: traj,
        explosion: None,
    })
}
