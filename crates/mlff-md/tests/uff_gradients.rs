//! UFF forces are the exact negative gradient of the energy (central differences, f64), and
//! the energy is invariant under rigid motions (proptest).

use mlff_md::{BUILTIN_MOLECULES, Potential, UffPotential, Vec3};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn jitter(positions: &[Vec3], amplitude: f64, seed: u64) -> Vec<Vec3> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    positions
        .iter()
        .map(|p| p.map(|x| x + rng.random_range(-amplitude..amplitude)))
        .collect()
}

/// Central-difference check of every force component; the error is measured relative to the
/// largest force in the frame (individual components can be ~0).
fn assert_forces_are_gradient(uff: &UffPotential, pos: &[Vec3], label: &str) {
    let n = pos.len();
    let mut forces = vec![[0.0; 3]; n];
    uff.energy_forces(pos, &mut forces).unwrap();
    let scale = forces.iter().flatten().fold(0.0f64, |m, f| m.max(f.abs()));
    let h = 1e-5;
    let mut p = pos.to_vec();
    for a in 0..n {
        for c in 0..3 {
            let x = p[a][c];
            p[a][c] = x + h;
            let ep = uff.energy(&p).unwrap();
            p[a][c] = x - h;
            let em = uff.energy(&p).unwrap();
            p[a][c] = x;
            let numeric = -(ep - em) / (2.0 * h);
            let err = (numeric - forces[a][c]).abs() / scale;
            assert!(
                err < 1e-6,
                "{label} atom {a} comp {c}: analytic {} numeric {numeric} (rel {err:e})",
                forces[a][c]
            );
        }
    }
}

#[test]
fn forces_match_central_differences_for_all_molecules() {
    for name in BUILTIN_MOLECULES {
        let uff = UffPotential::for_builtin(name).unwrap();
        let start = mlff_md::Molecule::builtin(name).unwrap().positions();
        for seed in 0..3 {
            let pos = jitter(&start, 0.15, seed);
            assert_forces_are_gradient(&uff, &pos, &format!("{name} seed {seed}"));
        }
    }
}

#[test]
fn strongly_distorted_geometry_still_has_exact_gradient() {
    // Large distortions probe near-planar, near-eclipsed and strongly bent regimes.
    let uff = UffPotential::for_builtin("aspirin").unwrap();
    let start = mlff_md::Molecule::builtin("aspirin").unwrap().positions();
    for seed in 10..14 {
        let pos = jitter(&start, 0.45, seed);
        assert_forces_are_gradient(&uff, &pos, &format!("aspirin distorted seed {seed}"));
    }
}

fn rotation(axis: Vec3, angle: f64) -> [[f64; 3]; 3] {
    let n = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
    let [x, y, z] = axis.map(|v| v / n);
    let (s, c) = angle.sin_cos();
    let t = 1.0 - c;
    [
        [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
        [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
        [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
    ]
}

fn apply(r: &[[f64; 3]; 3], v: Vec3) -> Vec3 {
    [0, 1, 2].map(|i| r[i][0] * v[0] + r[i][1] * v[1] + r[i][2] * v[2])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn energy_is_rigid_motion_invariant_and_forces_rotate(
        which in 0usize..10,
        seed in 0u64..1000,
        axis in prop::array::uniform3(-1.0f64..1.0),
        angle in -3.0f64..3.0,
        shift in prop::array::uniform3(-5.0f64..5.0),
    ) {
        prop_assume!(axis.iter().map(|a| a * a).sum::<f64>() > 1e-3);
        let name = BUILTIN_MOLECULES[which];
        let uff = UffPotential::for_builtin(name).unwrap();
        let pos = jitter(&mlff_md::Molecule::builtin(name).unwrap().positions(), 0.1, seed);
        let r = rotation(axis, angle);
        let moved: Vec<Vec3> = pos.iter().map(|&p| {
            let q = apply(&r, p);
            [q[0] + shift[0], q[1] + shift[1], q[2] + shift[2]]
        }).collect();
        let mut f = vec![[0.0; 3]; pos.len()];
        let mut g = vec![[0.0; 3]; pos.len()];
        let e = uff.energy_forces(&pos, &mut f).unwrap();
        let e2 = uff.energy_forces(&moved, &mut g).unwrap();
        prop_assert!((e - e2).abs() < 1e-9 * e.abs().max(1.0));
        let mut total = [0.0; 3];
        for (fa, ga) in f.iter().zip(&g) {
            let rf = apply(&r, *fa);
            for c in 0..3 {
                prop_assert!((rf[c] - ga[c]).abs() < 1e-8 * (1.0 + fa[c].abs()));
                total[c] += fa[c];
            }
        }
        // No external field: the forces sum to zero.
        prop_assert!(total.iter().all(|t| t.abs() < 1e-8));
    }
}

#[test]
fn wrong_frame_shapes_and_nan_are_errors() {
    let uff = UffPotential::for_builtin("ethanol").unwrap();
    let mut f = vec![[0.0; 3]; 9];
    assert!(uff.energy_forces(&[[0.0; 3]; 8], &mut f).is_err());
    let mut pos = mlff_md::Molecule::builtin("ethanol").unwrap().positions();
    pos[4][1] = f64::NAN;
    assert!(matches!(
        uff.energy_forces(&pos, &mut f),
        Err(mlff_md::MdError::NonFinite { .. })
    ));
}
