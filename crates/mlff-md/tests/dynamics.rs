//! Integrators with UFF: NVE energy conservation, Langevin and Nosé–Hoover temperatures,
//! determinism, and detection of exploding runs.

use mlff_md::integrate::kinetic_temperature;
use mlff_md::stability::energy_drift_per_atom;
use mlff_md::{
    Integrator, IntegratorConfig, MdError, Molecule, Potential, Progress, Thermostat,
    TrajectoryConfig, UffPotential, Vec3, generate_trajectory,
};

fn ethanol() -> (Molecule, UffPotential) {
    let m = Molecule::builtin("ethanol").unwrap();
    let uff = UffPotential::new(&m).unwrap();
    (m, uff)
}

#[test]
fn nve_velocity_verlet_conserves_energy() {
    let (m, uff) = ethanol();
    let mut md = Integrator::new(
        &uff,
        m.masses(),
        m.positions(),
        IntegratorConfig {
            dt_fs: 0.1,
            thermostat: Thermostat::None,
            temperature_k: 500.0,
            seed: 7,
        },
    )
    .unwrap();
    // 2 ps at 0.1 fs, total energy sampled every 1 fs.
    let mut totals = Vec::new();
    let mut temps = 0.0;
    for step in 0..20_000 {
        md.step().unwrap();
        if step % 10 == 0 {
            totals.push(md.conserved_energy());
            temps += md.temperature();
        }
    }
    let drift = energy_drift_per_atom(&totals, 1.0, m.n_atoms()).unwrap();
    let spread = totals.iter().cloned().fold(f64::MIN, f64::max)
        - totals.iter().cloned().fold(f64::MAX, f64::min);
    eprintln!(
        "NVE ethanol 0.1 fs: drift {drift:e} kcal/mol/ps/atom, max-min {spread:e} kcal/mol, mean T {}",
        temps / totals.len() as f64
    );
    assert!(drift.abs() < 1e-3, "drift {drift}");
    // Fluctuations of the shadow Hamiltonian stay small too.
    assert!(spread < 0.05, "energy spread {spread}");
}

#[test]
fn langevin_reaches_target_temperature() {
    let (m, uff) = ethanol();
    let target = 500.0;
    let mut md = Integrator::new(
        &uff,
        m.masses(),
        m.positions(),
        IntegratorConfig {
            dt_fs: 0.5,
            thermostat: Thermostat::Langevin {
                friction_per_fs: 0.05,
            },
            temperature_k: target,
            seed: 11,
        },
    )
    .unwrap();
    for _ in 0..2_000 {
        md.step().unwrap();
    }
    let n = 300_000;
    let mut sum = 0.0;
    for _ in 0..n {
        md.step().unwrap();
        sum += md.temperature();
    }
    let mean = sum / n as f64;
    eprintln!("Langevin ethanol: mean kinetic T {mean:.2} K (target {target})");
    assert!((mean - target).abs() < 0.02 * target, "mean T {mean}");
}

#[test]
fn nose_hoover_thermostats_and_conserves_its_extended_energy() {
    let (m, uff) = ethanol();
    let target = 400.0;
    let mut md = Integrator::new(
        &uff,
        m.masses(),
        m.positions(),
        IntegratorConfig {
            dt_fs: 0.25,
            thermostat: Thermostat::NoseHoover {
                time_constant_fs: 20.0,
            },
            temperature_k: target,
            seed: 3,
        },
    )
    .unwrap();
    let (mut sum, mut totals) = (0.0, Vec::new());
    let n = 200_000;
    for step in 0..n {
        md.step().unwrap();
        sum += md.temperature();
        if step % 4 == 0 {
            totals.push(md.conserved_energy());
        }
    }
    let mean = sum / n as f64;
    let drift = energy_drift_per_atom(&totals, 1.0, m.n_atoms()).unwrap();
    eprintln!("Nosé–Hoover ethanol: mean T {mean:.2} K, extended-energy drift {drift:e}");
    assert!((mean - target).abs() < 0.05 * target, "mean T {mean}");
    assert!(drift.abs() < 1e-3, "drift {drift}");
}

#[test]
fn maxwell_boltzmann_velocities_have_the_right_temperature() {
    let masses: Vec<f64> = (0..3000).map(|i| [1.008, 12.011, 15.999][i % 3]).collect();
    let mut normal = mlff_md::integrate::NormalSampler::new(5);
    let v = mlff_md::integrate::maxwell_boltzmann_velocities(&masses, 300.0, &mut normal);
    let t = kinetic_temperature(&v, &masses);
    // σ_T/T = sqrt(2/8997) ≈ 1.5%.
    assert!((t - 300.0).abs() < 15.0, "T {t}");
    let p: f64 = v.iter().zip(&masses).map(|(v, m)| m * v[0]).sum();
    assert!(p.abs() < 1e-10);
}

#[test]
fn trajectories_are_deterministic_for_a_seed() {
    let (m, uff) = ethanol();
    let config = TrajectoryConfig {
        equilibration_steps: 50,
        n_frames: 20,
        save_every: 5,
        seed: 42,
        ..TrajectoryConfig::default()
    };
    let mut calls = Vec::new();
    let a = generate_trajectory(
        &m.atomic_numbers(),
        &m.positions(),
        &uff,
        &config,
        &mut |p: Progress| calls.push(p.steps_done),
    )
    .unwrap();
    let b = generate_trajectory(
        &m.atomic_numbers(),
        &m.positions(),
        &uff,
        &config,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.n_frames(), 20);
    assert_eq!(a.positions.len(), 20 * 9 * 3);
    assert_eq!(a.dt_fs, 2.5);
    assert_eq!(calls.last(), Some(&150));
    let c = generate_trajectory(
        &m.atomic_numbers(),
        &m.positions(),
        &uff,
        &TrajectoryConfig { seed: 43, ..config },
        &mut |_| {},
    )
    .unwrap();
    assert_ne!(a.positions, c.positions);
    // Saved forces are the potential's forces at the saved positions.
    let frame = a.frame(7);
    let mut f = vec![[0.0; 3]; 9];
    let e = uff.energy_forces(&frame, &mut f).unwrap();
    assert_eq!(e, a.energies[7]);
    assert_eq!(f.concat(), a.forces[7 * 27..8 * 27].to_vec());
}

/// Pushes atom 0 away with a constant force and returns NaN energy beyond `nan_beyond` Å.
struct Runaway {
    nan_beyond: f64,
}

impl Potential for Runaway {
    fn n_atoms(&self) -> usize {
        2
    }
    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> mlff_md::Result<f64> {
        forces.fill([0.0; 3]);
        forces[0] = [500.0, 0.0, 0.0];
        let x = positions[0][0];
        Ok(if x > self.nan_beyond {
            f64::NAN
        } else {
            -500.0 * x
        })
    }
}

#[test]
fn exploding_runs_are_reported_with_their_step() {
    let config = TrajectoryConfig {
        temperature_k: 0.0,
        thermostat: Thermostat::None,
        equilibration_steps: 0,
        n_frames: 100_000,
        dt_fs: 1.0,
        ..TrajectoryConfig::default()
    };
    let start = [[0.0; 3], [1.0, 0.0, 0.0]];
    let flying = generate_trajectory(
        &[1, 1],
        &start,
        &Runaway { nan_beyond: 1e9 },
        &config,
        &mut |_| {},
    );
    // x(t) = ½ a t² with a = 500·4.184e-4/1.008 Å/fs²; the centre of mass sits halfway, so
    // atom 0 passes 20 Å from it when x − 1 > 40 Å, after ~20 steps.
    match flying {
        Err(MdError::Exploded { step, reason }) => {
            assert!((15..30).contains(&step), "step {step}");
            assert!(reason.contains("centre of mass"), "{reason}");
        }
        other => panic!("expected an explosion, got {other:?}"),
    }
    // The stability variant keeps every frame saved before the explosion.
    let run = mlff_md::simulate_until_explosion(
        &[1, 1],
        &start,
        &Runaway { nan_beyond: 1e9 },
        &config,
        &mut |_| {},
    )
    .unwrap();
    let explosion = run.explosion.expect("explodes");
    assert_eq!(run.trajectory.n_frames(), explosion.step - 1);
    assert!(run.trajectory.positions.iter().all(|x| x.is_finite()));
    let nan = generate_trajectory(
        &[1, 1],
        &start,
        &Runaway { nan_beyond: 5.0 },
        &config,
        &mut |_| {},
    );
    match nan {
        Err(MdError::Exploded { step, reason }) => {
            assert!(step < 15, "step {step}");
            assert!(reason.contains("non-finite"), "{reason}");
        }
        other => panic!("expected an explosion, got {other:?}"),
    }
}

#[test]
fn invalid_configurations_are_rejected() {
    let (m, uff) = ethanol();
    let z = m.atomic_numbers();
    let p = m.positions();
    for config in [
        TrajectoryConfig {
            dt_fs: 0.0,
            ..Default::default()
        },
        TrajectoryConfig {
            dt_fs: f64::NAN,
            ..Default::default()
        },
        TrajectoryConfig {
            n_frames: 0,
            ..Default::default()
        },
        TrajectoryConfig {
            save_every: 0,
            ..Default::default()
        },
        TrajectoryConfig {
            temperature_k: -1.0,
            ..Default::default()
        },
        TrajectoryConfig {
            thermostat: Thermostat::Langevin {
                friction_per_fs: 0.0,
            },
            ..Default::default()
        },
    ] {
        assert!(
            matches!(
                generate_trajectory(&z, &p, &uff, &config, &mut |_| {}),
                Err(MdError::InvalidParameter { .. })
            ),
            "{config:?}"
        );
    }
    assert!(
        generate_trajectory(&z[..8], &p, &uff, &TrajectoryConfig::default(), &mut |_| {}).is_err()
    );
}
