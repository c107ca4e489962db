//! The pair model against finite differences, symmetry, exact recovery and real fits.

mod common;

use mlff_baseline::{BaselineError, PairConfig, fit};
use mlff_data::Dataset;
use mlff_md::Potential;
use proptest::prelude::*;
use std::sync::OnceLock;

fn ethanol() -> &'static Dataset {
    static DATA: OnceLock<Dataset> = OnceLock::new();
    DATA.get_or_init(|| common::uff_trajectory("ethanol", 300, 5))
}

fn fitted() -> &'static mlff_baseline::PairModel {
    static MODEL: OnceLock<mlff_baseline::PairModel> = OnceLock::new();
    MODEL.get_or_init(|| fit(PairConfig::default(), &[ethanol()]).unwrap())
}

fn frame(data: &Dataset, t: usize) -> (Vec<u8>, Vec<[f64; 3]>) {
    let p = data.positions();
    let pos = (0..data.n_atoms())
        .map(|i| [p[[t, i, 0]], p[[t, i, 1]], p[[t, i, 2]]])
        .collect();
    (data.species().of_frame(t).to_vec(), pos)
}

#[test]
fn forces_are_minus_the_energy_gradient() {
    let model = fitted();
    let (z, pos) = frame(ethanol(), 17);
    let mut forces = vec![[0.0; 3]; z.len()];
    model.energy_forces(&z, &pos, &mut forces).unwrap();
    let mut scratch = vec![[0.0; 3]; z.len()];
    let h = 1e-5;
    for i in 0..z.len() {
        for a in 0..3 {
            let (mut plus, mut minus) = (pos.clone(), pos.clone());
            plus[i][a] += h;
            minus[i][a] -= h;
            let ep = model.energy_forces(&z, &plus, &mut scratch).unwrap();
            let em = model.energy_forces(&z, &minus, &mut scratch).unwrap();
            let fd = -(ep - em) / (2.0 * h);
            let err = (fd - forces[i][a]).abs() / forces[i][a].abs().max(1.0);
            assert!(
                err < 1e-6,
                "atom {i} axis {a}: fd {fd} analytic {}",
                forces[i][a]
            );
        }
    }
}

#[test]
fn recovers_a_model_it_can_represent_exactly() {
    // Labels made by a fitted pair model are reproduced by refitting (tiny ridge).
    let teacher = fitted();
    let data = ethanol();
    let labels = teacher.predict(data).unwrap();
    let mut parts = data.clone().into_parts();
    parts.energies = Some(ndarray::Array1::from(labels.energies.clone()));
    parts.forces = Some(
        ndarray::Array3::from_shape_vec((data.len(), data.n_atoms(), 3), labels.forces.clone())
            .unwrap(),
    );
    let relabelled = Dataset::new(parts).unwrap();
    let config = PairConfig {
        ridge: 1e-14,
        ..PairConfig::default()
    };
    let student = fit(config, &[&relabelled]).unwrap();
    let again = student.predict(&relabelled).unwrap();
    let force_err = again
        .forces
        .iter()
        .zip(&labels.forces)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    // Normal equations square the condition number: relative, not bit-exact, recovery.
    let force_scale = labels.forces.iter().fold(0.0f64, |m, f| m.max(f.abs()));
    assert!(
        force_err < 1e-6 * force_scale,
        "max force error {force_err} of {force_scale}"
    );
    let energy_err = again
        .energies
        .iter()
        .zip(&labels.energies)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let energy_scale = labels.energies.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    assert!(
        energy_err < 1e-6 * energy_scale.max(1.0),
        "max energy error {energy_err}"
    );
}

#[test]
fn fits_uff_forces_far_better_than_predicting_zero() {
    let data = ethanol();
    let pred = fitted().predict(data).unwrap();
    let reference = data.forces().unwrap();
    let mae: f64 = pred
        .forces
        .iter()
        .zip(reference.iter())
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / pred.forces.len() as f64;
    let zero_mae = reference.iter().map(|f| f.abs()).sum::<f64>() / pred.forces.len() as f64;
    // A pair potential cannot represent UFF's angle and torsion terms, but it must capture
    // the bond stretches that dominate the forces.
    assert!(
        mae < 0.5 * zero_mae,
        "force MAE {mae} vs {zero_mae} for zero forces"
    );
}

#[test]
fn works_across_molecules_and_refuses_unknown_elements() {
    let benzene = common::uff_trajectory("benzene", 60, 5);
    let model = fit(PairConfig::default(), &[ethanol(), &benzene]).unwrap();
    assert_eq!(model.elements(), &[1, 6, 8]);
    model.predict(&benzene).unwrap();
    let uracil = common::uff_trajectory("uracil", 5, 5);
    match model.predict(&uracil) {
        Err(BaselineError::UnknownElement { atomic_number, .. }) => assert_eq!(atomic_number, 7),
        other => panic!("expected an unknown-element error, got {other:?}"),
    }
}

#[test]
fn drives_md_as_a_potential() {
    let model = fitted();
    let (z, pos) = frame(ethanol(), 0);
    let potential = model.potential(&z).unwrap();
    assert_eq!(potential.n_atoms(), z.len());
    let config = mlff_md::TrajectoryConfig {
        n_frames: 50,
        equilibration_steps: 0,
        ..Default::default()
    };
    let run =
        mlff_md::simulate_until_explosion(&z, &pos, &potential, &config, &mut |_| {}).unwrap();
    assert!(run.trajectory.n_frames() > 0);
}

#[test]
fn rejects_bad_input() {
    let bad = PairConfig {
        ridge: 0.0,
        ..PairConfig::default()
    };
    assert!(matches!(
        fit(bad, &[ethanol()]),
        Err(BaselineError::InvalidParameter { what: "ridge", .. })
    ));
    let mut parts = ethanol().clone().into_parts();
    parts.forces = None;
    let unlabelled = Dataset::new(parts).unwrap();
    assert!(matches!(
        fit(PairConfig::default(), &[&unlabelled]),
        Err(BaselineError::MissingLabels { what: "forces", .. })
    ));
    let (z, mut pos) = frame(ethanol(), 0);
    pos[1] = pos[0];
    let mut f = vec![[0.0; 3]; z.len()];
    assert!(matches!(
        fitted().energy_forces(&z, &pos, &mut f),
        Err(BaselineError::DegenerateGeometry { i: 0, j: 1, .. })
    ));
    assert!(fitted().energy_forces(&z, &pos[..3], &mut f).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Energy is invariant and forces rotate under rigid rotations and translations.
    #[test]
    fn energy_invariant_forces_equivariant(
        angles in prop::array::uniform3(-3.1f64..3.1),
        shift in prop::array::uniform3(-5.0f64..5.0),
        t in 0usize..300,
    ) {
        let model = fitted();
        let (z, pos) = frame(ethanol(), t);
        let rot = rotation(angles);
        let moved: Vec<[f64; 3]> = pos.iter().map(|p| add(apply(&rot, *p), shift)).collect();
        let (mut f0, mut f1) = (vec![[0.0; 3]; z.len()], vec![[0.0; 3]; z.len()]);
        let e0 = model.energy_forces(&z, &pos, &mut f0).unwrap();
        let e1 = model.energy_forces(&z, &moved, &mut f1).unwrap();
        prop_assert!((e0 - e1).abs() < 1e-8 * e0.abs().max(1.0));
        for (a, b) in f0.iter().zip(&f1) {
            let ra = apply(&rot, *a);
            for k in 0..3 {
                prop_assert!((ra[k] - b[k]).abs() < 1e-8);
            }
        }
    }
}

fn rotation([a, b, c]: [f64; 3]) -> [[f64; 3]; 3] {
    let (sa, ca, sb, cb, sc, cc) = (a.sin(), a.cos(), b.sin(), b.cos(), c.sin(), c.cos());
    let rz = [[ca, -sa, 0.0], [sa, ca, 0.0], [0.0, 0.0, 1.0]];
    let ry = [[cb, 0.0, sb], [0.0, 1.0, 0.0], [-sb, 0.0, cb]];
    let rx = [[1.0, 0.0, 0.0], [0.0, cc, -sc], [0.0, sc, cc]];
    mul(&mul(&rz, &ry), &rx)
}

fn mul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            out[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

fn apply(m: &[[f64; 3]; 3], v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| (0..3).map(|k| m[i][k] * v[k]).sum())
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}
