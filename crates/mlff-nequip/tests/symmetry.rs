//! E(3) and permutation symmetry of energies and forces, as property tests: energies are
//! invariant and forces equivariant under rotations, reflections, translations and
//! permutations of atoms; forces sum to zero.

mod common;

use common::{batch_graph, random_molecule, rng, small_model};
use mlff_e3::angles_to_matrix;
use mlff_nequip::{Nequip, Prediction};
use proptest::prelude::*;

type Mol = (Vec<u8>, Vec<[f64; 3]>);

fn apply(q: &[[f64; 3]; 3], t: [f64; 3], p: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| (0..3).map(|j| q[i][j] * p[j]).sum::<f64>() + t[i])
}

fn predict(model: &Nequip, mol: &Mol) -> Prediction {
    model
        .predict(&batch_graph(model, std::slice::from_ref(mol)))
        .unwrap()
}

/// Checks E(g·x) = E(x) and F(g·x) = Q F(x) for the orthogonal `q` (det ±1) and `t`, and a
/// permutation of the atoms, at tolerance `tol` relative to the largest force or `force_floor`,
/// whichever is larger.
fn check_symmetry(
    model: &Nequip,
    mol: &Mol,
    (q, t): ([[f64; 3]; 3], [f64; 3]),
    perm: &[usize],
    tol: f64,
    force_floor: f64,
) {
    let base = predict(model, mol);
    let moved: Mol = (
        perm.iter().map(|&i| mol.0[i]).collect(),
        perm.iter().map(|&i| apply(&q, t, mol.1[i])).collect(),
    );
    let after = predict(model, &moved);
    let e_scale = base.energies[0].abs().max(1.0);
    assert!(
        (after.energies[0] - base.energies[0]).abs() <= tol * e_scale,
        "energy {} vs {}",
        after.energies[0],
        base.energies[0]
    );
    let f_scale = base.forces.iter().fold(force_floor, |m, v| m.max(v.abs()));
    for (new_i, &old_i) in perm.iter().enumerate() {
        let f = &base.forces[3 * old_i..3 * old_i + 3];
        let rotated = apply(&q, [0.0; 3], [f[0], f[1], f[2]]);
        for (k, want) in rotated.iter().enumerate() {
            let got = after.forces[3 * new_i + k];
            assert!(
                (got - want).abs() <= tol * f_scale,
                "force {new_i}/{k}: {got} vs {want}"
            );
        }
    }
    for k in 0..3 {
        let net: f64 = base.forces.iter().skip(k).step_by(3).sum();
        assert!(
            net.abs() <= tol * f_scale * mol.0.len() as f64,
            "net force {net}"
        );
    }
}

fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    use rand::seq::SliceRandom;
    let mut p: Vec<usize> = (0..n).collect();
    p.shuffle(&mut rng(seed));
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn f64_model_is_invariant_and_equivariant(
        seed in 0u64..1000,
        angles in prop::array::uniform3(-3.2f64..3.2),
        t in prop::array::uniform3(-5.0f64..5.0),
        reflect in any::<bool>(),
        n in 3usize..9,
    ) {
        let model = small_model(seed % 3);
        let mol = random_molecule(&mut rng(seed), n);
        let mut q = angles_to_matrix(angles[0], angles[1], angles[2]);
        if reflect {
            q = q.map(|row| row.map(|v| -v));
        }
        check_symmetry(&model, &mol, (q, t), &shuffled(n, seed + 7), 1e-10, 1e-3);
    }

    #[test]
    fn f32_model_is_invariant_and_equivariant(
        seed in 0u64..1000,
        angles in prop::array::uniform3(-3.2f64..3.2),
        t in prop::array::uniform3(-5.0f64..5.0),
        reflect in any::<bool>(),
        n in 3usize..9,
    ) {
        let mut model = small_model(seed % 3);
        let mut config = model.config().clone();
        config.model_dtype = "float32".into();
        model = Nequip::with_params(config, model.params().to_vec()).unwrap();
        let mol = random_molecule(&mut rng(seed), n);
        let mut q = angles_to_matrix(angles[0], angles[1], angles[2]);
        if reflect {
            q = q.map(|row| row.map(|v| -v));
        }
        // Float32 rounding in the forces is absolute, set by the size of the features and the
        // energy (≈ 1e-7 here), not by the forces: a random molecule whose forces are ~1e-3
        // (seed 703, three atoms: 2.7e-7 apart after a rotation) needs the higher floor.
        check_symmetry(&model, &mol, (q, t), &shuffled(n, seed + 7), 1e-4, 1e-2);
    }
}
