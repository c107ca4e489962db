//! Stability protocols with UFF: a heating ramp that UFF survives and a bond-breaking
//! potential does not, NVE drift of UFF against a non-conservative force field, determinism,
//! and a Langevin target temperature changed mid-run.

use mlff_md::protocols::{
    Collapse, HeatingRamp, LAMBENCH_DRIFT_TOLERANCE_EV, MdState, NveRun, RampOutcome, heating_ramp,
    nve_drift,
};
use mlff_md::stability::BondCriterion;
use mlff_md::{
    Integrator, IntegratorConfig, Molecule, Potential, Result, Thermostat, UffPotential, Vec3,
};

/// Aspirin (21 atoms) with UFF and Fu et al.'s criterion around its built-in geometry.
fn aspirin() -> (Molecule, UffPotential, BondCriterion) {
    let m = Molecule::builtin("aspirin").unwrap();
    let uff = UffPotential::new(&m).unwrap();
    let flat: Vec<f64> = m.positions().into_iter().flatten().collect();
    let criterion = BondCriterion::from_reference(&flat, m.n_atoms(), m.bond_pairs()).unwrap();
    (m, uff, criterion)
}

fn distance(p: &[Vec3], i: usize, j: usize) -> (f64, Vec3) {
    let d = [0, 1, 2].map(|c| p[i][c] - p[j][c]);
    ((d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt(), d)
}

/// UFF with a bug past a bond length: beyond its reference length + `onset` Å every bond
/// gains −k (r − r_b)², a downhill slope that pulls a stretched bond apart. Rare at 500 K,
/// frequent when hot — a model that is fine near equilibrium and wrong far from it.
struct BondBreaking<'a> {
    inner: &'a UffPotential,
    bonds: Vec<(usize, usize)>,
    onsets: Vec<f64>,
    k: f64,
}

impl<'a> BondBreaking<'a> {
    fn new(inner: &'a UffPotential, criterion: &BondCriterion, onset: f64) -> Self {
        Self {
            inner,
            bonds: criterion.bonds().to_vec(),
            onsets: criterion
                .reference_means()
                .iter()
                .map(|r| r + onset)
                .collect(),
            k: 1000.0,
        }
    }
}

impl Potential for BondBreaking<'_> {
    fn n_atoms(&self) -> usize {
        self.inner.n_atoms()
    }

    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> Result<f64> {
        let mut energy = self.inner.energy_forces(positions, forces)?;
        for (&(i, j), &onset) in self.bonds.iter().zip(&self.onsets) {
            let (r, d) = distance(positions, i, j);
            if r > onset {
                energy -= self.k * (r - onset).powi(2);
                // −∂E/∂r_i = 2k (r − r_b) (r_i − r_j)/r: pushes i away from j.
                let s = 2.0 * self.k * (r - onset) / r;
                for c in 0..3 {
                    forces[i][c] += s * d[c];
                    forces[j][c] -= s * d[c];
                }
            }
        }
        Ok(energy)
    }
}

/// UFF plus a curl force c ẑ × r on every atom: not the gradient of anything, it exerts a
/// torque c Σ(x² + y²) > 0 and spins the molecule up, so NVE energy grows.
struct Swirl<'a> {
    inner: &'a UffPotential,
    c: f64,
}

impl Potential for Swirl<'_> {
    fn n_atoms(&self) -> usize {
        self.inner.n_atoms()
    }

    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> Result<f64> {
        let energy = self.inner.energy_forces(positions, forces)?;
        for (f, p) in forces.iter_mut().zip(positions) {
            f[0] -= self.c * p[1];
            f[1] += self.c * p[0];
        }
        Ok(energy)
    }
}

fn ramp(seed: u64) -> HeatingRamp {
    HeatingRamp {
        dt_fs: 0.5,
        friction_per_fs: 0.02,
        start_k: 500.0,
        hold_steps: 400,
        rate_k_per_ps: 2000.0,
        max_k: 2500.0,
        check_every: 10,
        temperature_window: 100,
        seed,
    }
}

fn run_ramp(
    potential: &dyn Potential,
    m: &Molecule,
    criterion: &BondCriterion,
    ramp: &HeatingRamp,
) -> (RampOutcome, usize) {
    let mut held = 0;
    let outcome = heating_ramp(
        potential,
        m.masses(),
        m.positions(),
        criterion,
        ramp,
        &mut |frame| held += usize::from(frame.holding),
    )
    .unwrap();
    (outcome, held)
}

#[test]
fn uff_survives_a_ramp_that_a_bond_breaking_potential_collapses_in() {
    let (m, uff, criterion) = aspirin();
    let r = ramp(3);
    let (survivor, held) = run_ramp(&uff, &m, &criterion, &r);
    eprintln!("UFF: {:?} at {:?}", survivor.collapse, survivor.end);
    assert_eq!(survivor.collapse, None);
    assert_eq!(survivor.collapse_temperature_k(), None);
    assert_eq!(survivor.end.step, r.total_steps());
    assert_eq!(survivor.end.target_k, r.max_k);
    assert_eq!(held, r.hold_steps / r.check_every);
    assert!(survivor.after_hold.is_some());
    // The thermostat follows the ramp (lagging by about rate/γ = 100 K; a 50 fs window of 21
    // atoms fluctuates by about ±10 %).
    assert!(
        (survivor.end.kinetic_k - r.max_k).abs() < 0.3 * r.max_k,
        "kinetic {} K at target {} K",
        survivor.end.kinetic_k,
        r.max_k
    );

    let broken = BondBreaking::new(&uff, &criterion, 0.15);
    let (outcome, held) = run_ramp(&broken, &m, &criterion, &r);
    eprintln!("bond-breaking: {:?} at {:?}", outcome.collapse, outcome.end);
    let t = outcome
        .collapse_temperature_k()
        .expect("the broken potential collapses");
    // It survives the hold at 500 K and collapses while heating, below the maximum.
    assert_eq!(held, r.hold_steps / r.check_every);
    assert!(outcome.after_hold.is_some());
    assert!(t > r.start_k && t < r.max_k, "collapse at {t} K");
    match outcome.collapse {
        Some(Collapse::Bond(b)) => {
            assert!((b.length_a - b.reference_a).abs() > criterion.threshold_a());
        }
        other => panic!("expected a broken bond, got {other:?}"),
    }
    // The end point is at the collapse, not at the end of the ramp.
    assert!(outcome.end.step < r.total_steps());
    assert!((outcome.end.time_ps - outcome.end.step as f64 * r.dt_fs / 1000.0).abs() < 1e-12);
}

#[test]
fn a_ramp_is_deterministic_for_its_seed() {
    let (m, uff, criterion) = aspirin();
    let broken = BondBreaking::new(&uff, &criterion, 0.15);
    let short = HeatingRamp {
        hold_steps: 100,
        max_k: 1500.0,
        rate_k_per_ps: 4000.0,
        ..ramp(5)
    };
    let (a, _) = run_ramp(&broken, &m, &criterion, &short);
    let (b, _) = run_ramp(&broken, &m, &criterion, &short);
    assert_eq!(a, b);
    let (c, _) = run_ramp(&broken, &m, &criterion, &HeatingRamp { seed: 6, ..short });
    assert_ne!(a.end, c.end);
}

fn thermalised(uff: &UffPotential, m: &Molecule, criterion: &BondCriterion) -> MdState {
    let hold = HeatingRamp {
        hold_steps: 1000,
        max_k: 500.0,
        ..ramp(9)
    };
    let (outcome, _) = run_ramp(uff, m, criterion, &hold);
    outcome.after_hold.expect("UFF holds 500 K")
}

#[test]
fn uff_conserves_energy_in_nve_and_a_non_conservative_force_drifts() {
    let (m, uff, criterion) = aspirin();
    let start = thermalised(&uff, &m, &criterion);
    let run = NveRun {
        dt_fs: 0.5,
        steps: 4000,
        sample_every: 10,
    };
    let good = nve_drift(&uff, m.masses(), &start, &criterion, &run).unwrap();
    eprintln!(
        "UFF NVE: {good:?}, {:e} eV/atom/ps",
        good.drift_ev_per_atom_per_ps().unwrap()
    );
    assert_eq!(good.collapse, None);
    assert_eq!(good.steps_done, run.steps);
    assert!(good.conserves_energy());
    let drift = good.drift_ev_per_atom_per_ps().unwrap();
    assert!(
        drift.abs() < 0.1 * LAMBENCH_DRIFT_TOLERANCE_EV,
        "drift {drift:e}"
    );
    assert!(
        (good.mean_temperature_k - 500.0).abs() < 150.0,
        "{}",
        good.mean_temperature_k
    );

    let swirl = Swirl {
        inner: &uff,
        c: 0.05,
    };
    let bad = nve_drift(&swirl, m.masses(), &start, &criterion, &run).unwrap();
    eprintln!(
        "swirl NVE: {bad:?}, {:?} eV/atom/ps",
        bad.drift_ev_per_atom_per_ps()
    );
    assert!(!bad.conserves_energy());
    assert!(bad.drift_per_atom_per_ps.unwrap() > 0.0);
    assert!(bad.drift_ev_per_atom_per_ps().unwrap() > LAMBENCH_DRIFT_TOLERANCE_EV);
}

#[test]
fn nve_reports_a_blow_up_and_the_drift_before_it() {
    let (m, uff, criterion) = aspirin();
    let start = thermalised(&uff, &m, &criterion);
    let broken = BondBreaking::new(&uff, &criterion, 0.05);
    let run = NveRun {
        dt_fs: 0.5,
        steps: 20_000,
        sample_every: 10,
    };
    let outcome = nve_drift(&broken, m.masses(), &start, &criterion, &run).unwrap();
    eprintln!("broken NVE: {outcome:?}");
    assert!(matches!(outcome.collapse, Some(Collapse::Bond(_))));
    assert!(outcome.steps_done < run.steps);
    assert!(!outcome.conserves_energy());
}

#[test]
fn set_temperature_moves_langevin_to_the_new_target() {
    let m = Molecule::builtin("ethanol").unwrap();
    let uff = UffPotential::new(&m).unwrap();
    let mut md = Integrator::new(
        &uff,
        m.masses(),
        m.positions(),
        IntegratorConfig {
            dt_fs: 0.5,
            thermostat: Thermostat::Langevin {
                friction_per_fs: 0.05,
            },
            temperature_k: 300.0,
            seed: 1,
        },
    )
    .unwrap();
    md.set_temperature(900.0).unwrap();
    assert_eq!(md.target_temperature(), 900.0);
    assert!(md.set_temperature(0.0).is_err());
    assert!(md.set_temperature(f64::NAN).is_err());
    assert_eq!(md.target_temperature(), 900.0);
    for _ in 0..1000 {
        md.step().unwrap();
    }
    let n = 30_000;
    let mean = (0..n)
        .map(|_| {
            md.step().unwrap();
            md.temperature()
        })
        .sum::<f64>()
        / n as f64;
    assert!((mean - 900.0).abs() < 45.0, "mean T {mean}");
}

#[test]
fn mismatched_criterion_and_bad_settings_are_errors() {
    let (m, uff, criterion) = aspirin();
    let ethanol = Molecule::builtin("ethanol").unwrap();
    let flat: Vec<f64> = ethanol.positions().into_iter().flatten().collect();
    let other = BondCriterion::from_reference(&flat, 9, ethanol.bond_pairs()).unwrap();
    let r = ramp(0);
    assert!(heating_ramp(&uff, m.masses(), m.positions(), &other, &r, &mut |_| ()).is_err());
    let start = MdState {
        positions: m.positions(),
        velocities: vec![[0.0; 3]; m.n_atoms()],
    };
    let run = NveRun {
        dt_fs: 0.5,
        steps: 0,
        sample_every: 10,
    };
    assert!(nve_drift(&uff, m.masses(), &start, &criterion, &run).is_err());
    assert!(criterion.broken_bond(&flat).is_err());
}

#[test]
fn a_more_broken_potential_collapses_at_a_lower_temperature() {
    let (m, uff, criterion) = aspirin();
    let r = ramp(3);
    let collapse_t = |onset: f64| {
        let broken = BondBreaking::new(&uff, &criterion, onset);
        let (outcome, _) = run_ramp(&broken, &m, &criterion, &r);
        outcome.collapse_temperature_k().unwrap_or(f64::INFINITY)
    };
    let temperatures = [0.08, 0.15, 0.3].map(collapse_t);
    eprintln!("collapse temperatures by onset 0.08/0.15/0.3 Å: {temperatures:?}");
    assert!(temperatures[0] < temperatures[1], "{temperatures:?}");
    assert!(temperatures[1] < temperatures[2], "{temperatures:?}");
}
