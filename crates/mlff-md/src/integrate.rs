//! Integrators: velocity Verlet (NVE), Langevin BAOAB and Nosé–Hoover (NVT).
//!
//! Units: Å, fs, amu, kcal/mol. Centre-of-mass motion is removed from the initial velocities
//! and (for Langevin, whose random kicks would reintroduce it) after every step, so the
//! kinetic temperature counts 3N − 3 degrees of freedom.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{MdError, Result, invalid};
use crate::potential::Potential;
use crate::units::{
    ACCELERATION_PER_FORCE_OVER_MASS, BOLTZMANN_KCAL_PER_MOL_K, KCAL_PER_MOL_PER_AMU_A2_FS2,
};
use crate::vec3::Vec3;

/// Which ensemble / thermostat the integrator realises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Thermostat {
    /// Plain velocity Verlet (NVE).
    None,
    /// Langevin dynamics, BAOAB splitting (Leimkuhler–Matthews), friction γ in 1/fs.
    Langevin {
        /// Friction coefficient γ, 1/fs (0.01/fs = 10/ps is a common choice).
        friction_per_fs: f64,
    },
    /// Nosé–Hoover thermostat with relaxation time τ (fs); mass Q = N_df k_B T τ².
    NoseHoover {
        /// Thermostat time constant τ, fs.
        time_constant_fs: f64,
    },
}

/// Settings of an [`Integrator`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntegratorConfig {
    /// Time step, fs.
    pub dt_fs: f64,
    /// Thermostat (or none for NVE).
    pub thermostat: Thermostat,
    /// Target temperature of the thermostat and of the initial velocities, K.
    pub temperature_k: f64,
    /// Seed of every random number (initial velocities, Langevin noise).
    pub seed: u64,
}

/// Standard normal deviates by the Box–Muller transform, using both numbers of each pair.
#[derive(Debug, Clone)]
pub struct NormalSampler {
    rng: ChaCha8Rng,
    spare: Option<f64>,
}

impl NormalSampler {
    /// A sampler seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            spare: None,
        }
    }

    /// The next N(0, 1) deviate.
    pub fn sample(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1: f64 = 1.0 - self.rng.random::<f64>(); // (0, 1]: ln is finite
        let u2: f64 = self.rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some(r * s);
        r * c
    }
}

/// Removes the centre-of-mass velocity (mass-weighted mean) from `velocities`.
pub fn remove_com_motion(velocities: &mut [Vec3], masses: &[f64]) {
    let total: f64 = masses.iter().sum();
    let mut p = [0.0; 3];
    for (v, m) in velocities.iter().zip(masses) {
        for c in 0..3 {
            p[c] += m * v[c];
        }
    }
    for v in velocities.iter_mut() {
        for c in 0..3 {
            v[c] -= p[c] / total;
        }
    }
}

/// Maxwell–Boltzmann velocities (Å/fs) at `temperature_k`, centre-of-mass motion removed.
pub fn maxwell_boltzmann_velocities(
    masses: &[f64],
    temperature_k: f64,
    normal: &mut NormalSampler,
) -> Vec<Vec3> {
    let kt = BOLTZMANN_KCAL_PER_MOL_K * temperature_k;
    let mut v: Vec<Vec3> = masses
        .iter()
        .map(|m| {
            let sigma = (kt / m * ACCELERATION_PER_FORCE_OVER_MASS).sqrt();
            [(); 3].map(|_| sigma * normal.sample())
        })
        .collect();
    remove_com_motion(&mut v, masses);
    v
}

/// Kinetic energy, kcal/mol.
pub fn kinetic_energy(velocities: &[Vec3], masses: &[f64]) -> f64 {
    let mv2: f64 = velocities
        .iter()
        .zip(masses)
        .map(|(v, m)| m * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))
        .sum();
    0.5 * mv2 * KCAL_PER_MOL_PER_AMU_A2_FS2
}

/// Instantaneous kinetic temperature (K) with 3N − 3 degrees of freedom (3 for one atom).
pub fn kinetic_temperature(velocities: &[Vec3], masses: &[f64]) -> f64 {
    let dof = degrees_of_freedom(masses.len());
    2.0 * kinetic_energy(velocities, masses) / (dof * BOLTZMANN_KCAL_PER_MOL_K)
}

fn degrees_of_freedom(n_atoms: usize) -> f64 {
    if n_atoms > 1 {
        (3 * n_atoms - 3) as f64
    } else {
        3.0
    }
}

/// A molecular-dynamics integrator holding the full state of one simulation.
pub struct Integrator<'a> {
    potential: &'a dyn Potential,
    masses: Vec<f64>,
    config: IntegratorConfig,
    normal: NormalSampler,
    positions: Vec<Vec3>,
    velocities: Vec<Vec3>,
    forces: Vec<Vec3>,
    potential_energy: f64,
    /// Nosé–Hoover thermostat velocity ξ (1/fs) and its time integral η.
    nh_xi: f64,
    nh_eta: f64,
    steps_done: usize,
}

impl<'a> Integrator<'a> {
    /// Starts a simulation at `positions` with Maxwell–Boltzmann velocities at the configured
    /// temperature (zero velocities if it is 0 K).
    pub fn new(
        potential: &'a dyn Potential,
        masses: Vec<f64>,
        positions: Vec<Vec3>,
        config: IntegratorConfig,
    ) -> Result<Self> {
        validate(&config)?;
        let n = potential.n_atoms();
        for (what, len) in [("masses", masses.len()), ("positions", positions.len())] {
            if len != n {
                return Err(MdError::ShapeMismatch {
                    what: what.into(),
                    expected: n,
                    got: len,
                });
            }
        }
        if let Some(i) = masses.iter().position(|m| !(m.is_finite() && *m > 0.0)) {
            return Err(invalid(
                "mass",
                masses[i],
                &format!("atom {i}: must be > 0"),
            ));
        }
        let mut normal = NormalSampler::new(config.seed);
        let velocities = if config.temperature_k > 0.0 {
            maxwell_boltzmann_velocities(&masses, config.temperature_k, &mut normal)
        } else {
            vec![[0.0; 3]; n]
        };
        let mut forces = vec![[0.0; 3]; n];
        let potential_energy = potential.energy_forces(&positions, &mut forces)?;
        Ok(Self {
            potential,
            masses,
            config,
            normal,
            positions,
            velocities,
            forces,
            potential_energy,
            nh_xi: 0.0,
            nh_eta: 0.0,
            steps_done: 0,
        })
    }

    /// Replaces the velocities (Å/fs), e.g. to continue a run.
    pub fn set_velocities(&mut self, velocities: Vec<Vec3>) -> Result<()> {
        if velocities.len() != self.masses.len() {
            return Err(MdError::ShapeMismatch {
                what: "velocities".into(),
                expected: self.masses.len(),
                got: velocities.len(),
            });
        }
        self.velocities = velocities;
        Ok(())
    }

    /// Changes the thermostat's target temperature (K) from the next step on, e.g. for a
    /// heating ramp; validated like [`IntegratorConfig::temperature_k`].
    ///
    /// With Nosé–Hoover the thermostat mass follows the new temperature, so
    /// [`conserved_energy`](Self::conserved_energy) is conserved only between changes; without a
    /// thermostat the target has no effect on the dynamics.
    pub fn set_temperature(&mut self, temperature_k: f64) -> Result<()> {
        validate(&IntegratorConfig {
            temperature_k,
            ..self.config
        })?;
        self.config.temperature_k = temperature_k;
        Ok(())
    }

    /// The thermostat's current target temperature, K.
    pub fn target_temperature(&self) -> f64 {
        self.config.temperature_k
    }

    /// Advances one time step.
    pub fn step(&mut self) -> Result<()> {
        let dt = self.config.dt_fs;
        match self.config.thermostat {
            Thermostat::None => {
                self.kick(dt / 2.0);
                self.drift(dt);
                self.update_forces()?;
                self.kick(dt / 2.0);
            }
            Thermostat::Langevin { friction_per_fs } => {
                self.kick(dt / 2.0);
                self.drift(dt / 2.0);
                self.ornstein_uhlenbeck(friction_per_fs, dt);
                self.drift(dt / 2.0);
                self.update_forces()?;
                self.kick(dt / 2.0);
                remove_com_motion(&mut self.velocities, &self.masses);
            }
            Thermostat::NoseHoover { time_constant_fs } => {
                let q = self.nose_hoover_mass(time_constant_fs);
                self.nose_hoover_half_step(q, dt);
                self.kick(dt / 2.0);
                self.drift(dt);
                self.update_forces()?;
                self.kick(dt / 2.0);
                self.nose_hoover_half_step(q, dt);
            }
        }
        self.steps_done += 1;
        Ok(())
    }

    /// B: v += (dt) F/m.
    fn kick(&mut self, dt: f64) {
        for ((v, f), m) in self
            .velocities
            .iter_mut()
            .zip(&self.forces)
            .zip(&self.masses)
        {
            let s = dt * ACCELERATION_PER_FORCE_OVER_MASS / m;
            for c in 0..3 {
                v[c] += s * f[c];
            }
        }
    }

    /// A: x += dt v.
    fn drift(&mut self, dt: f64) {
        for (x, v) in self.positions.iter_mut().zip(&self.velocities) {
            for c in 0..3 {
                x[c] += dt * v[c];
            }
        }
    }

    /// O: exact Ornstein–Uhlenbeck update of the velocities over `dt`.
    fn ornstein_uhlenbeck(&mut self, friction: f64, dt: f64) {
        let c1 = (-friction * dt).exp();
        let kt = BOLTZMANN_KCAL_PER_MOL_K * self.config.temperature_k;
        for (v, m) in self.velocities.iter_mut().zip(&self.masses) {
            let sigma = ((1.0 - c1 * c1) * kt / m * ACCELERATION_PER_FORCE_OVER_MASS).sqrt();
            for vc in v.iter_mut() {
                *vc = c1 * *vc + sigma * self.normal.sample();
            }
        }
    }

    fn nose_hoover_mass(&self, tau: f64) -> f64 {
        let dof = degrees_of_freedom(self.masses.len());
        dof * BOLTZMANN_KCAL_PER_MOL_K * self.config.temperature_k * tau * tau
    }

    /// Half step of the thermostat: ξ += dt/4 G, v *= exp(−ξ dt/2), ξ += dt/4 G
    /// (G = (2 KE − N_df k_B T)/Q), a time-reversible splitting.
    fn nose_hoover_half_step(&mut self, q: f64, dt: f64) {
        let dof = degrees_of_freedom(self.masses.len());
        let target = dof * BOLTZMANN_KCAL_PER_MOL_K * self.config.temperature_k;
        let ke = kinetic_energy(&self.velocities, &self.masses);
        self.nh_xi += dt / 4.0 * (2.0 * ke - target) / q;
        let scale = (-self.nh_xi * dt / 2.0).exp();
        for v in &mut self.velocities {
            for vc in v.iter_mut() {
                *vc *= scale;
            }
        }
        self.nh_eta += self.nh_xi * dt / 2.0;
        let ke = kinetic_energy(&self.velocities, &self.masses);
        self.nh_xi += dt / 4.0 * (2.0 * ke - target) / q;
    }

    fn update_forces(&mut self) -> Result<()> {
        self.potential_energy = self
            .potential
            .energy_forces(&self.positions, &mut self.forces)
            .map_err(|e| match e {
                MdError::NonFinite { .. } => MdError::Exploded {
                    step: self.steps_done + 1,
                    reason: "non-finite positions".into(),
                },
                other => other,
            })?;
        Ok(())
    }

    /// Positions, Å.
    pub fn positions(&self) -> &[Vec3] {
        &self.positions
    }

    /// Velocities, Å/fs.
    pub fn velocities(&self) -> &[Vec3] {
        &self.velocities
    }

    /// Forces at the current positions, kcal/mol/Å.
    pub fn forces(&self) -> &[Vec3] {
        &self.forces
    }

    /// Masses, amu.
    pub fn masses(&self) -> &[f64] {
        &self.masses
    }

    /// Potential energy at the current positions, kcal/mol.
    pub fn potential_energy(&self) -> f64 {
        self.potential_energy
    }

    /// Kinetic energy, kcal/mol.
    pub fn kinetic_energy(&self) -> f64 {
        kinetic_energy(&self.velocities, &self.masses)
    }

    /// Instantaneous kinetic temperature, K.
    pub fn temperature(&self) -> f64 {
        kinetic_temperature(&self.velocities, &self.masses)
    }

    /// Quantity conserved by the exact dynamics: E_kin + E_pot for NVE (and Langevin, where it
    /// is not conserved); plus the thermostat energy ½ Q ξ² + N_df k_B T η for Nosé–Hoover.
    pub fn conserved_energy(&self) -> f64 {
        let base = self.kinetic_energy() + self.potential_energy;
        match self.config.thermostat {
            Thermostat::NoseHoover { time_constant_fs } => {
                let q = self.nose_hoover_mass(time_constant_fs);
                let dof = degrees_of_freedom(self.masses.len());
                let kt = BOLTZMANN_KCAL_PER_MOL_K * self.config.temperature_k;
                // Q ξ² has units kcal/mol·fs²·(1/fs)² = kcal/mol.
                base + 0.5 * q * self.nh_xi * self.nh_xi + dof * kt * self.nh_eta
            }
            _ => base,
        }
    }

    /// Number of steps taken.
    pub fn steps_done(&self) -> usize {
        self.steps_done
    }
}

fn validate(config: &IntegratorConfig) -> Result<()> {
    if !(config.dt_fs.is_finite() && config.dt_fs > 0.0 && config.dt_fs <= 10.0) {
        return Err(invalid("dt_fs", config.dt_fs, "must be in (0, 10] fs"));
    }
    if !(config.temperature_k.is_finite() && config.temperature_k >= 0.0) {
        return Err(invalid(
            "temperature_k",
            config.temperature_k,
            "must be ≥ 0",
        ));
    }
    match config.thermostat {
        Thermostat::Langevin { friction_per_fs }
            if !(friction_per_fs.is_finite() && friction_per_fs > 0.0) =>
        {
            Err(invalid("friction_per_fs", friction_per_fs, "must be > 0"))
        }
        Thermostat::NoseHoover { time_constant_fs }
            if !(time_constant_fs.is_finite() && time_constant_fs > 0.0) =>
        {
            Err(invalid("time_constant_fs", time_constant_fs, "must be > 0"))
        }
        Thermostat::Langevin { .. } | Thermostat::NoseHoover { .. }
            if config.temperature_k <= 0.0 =>
        {
            Err(invalid(
                "temperature_k",
                config.temperature_k,
                "a thermostat needs T > 0",
            ))
        }
        _ => Ok(()),
    }
}
