//! Property tests: every operation commutes with O(3) (rotations and reflections) to 1e-10 in
//! f64; Wigner D is a representation; Wigner 3j symbols are invariant, orthogonal and obey
//! the selection rules.

use mlff_e3::{
    Activation, Gate, Irreps, Linear, Matrix3, NormalizedActivation, ShNormalization,
    SphericalHarmonics, TensorProduct, Weights, angles_to_matrix, irreps_d, wigner_3j,
    wigner_d_from_matrix,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random rotation (Euler angles) times ±1.
fn orthogonal() -> impl Strategy<Value = Matrix3> {
    (
        0.0..std::f64::consts::TAU,
        0.0..std::f64::consts::PI,
        0.0..std::f64::consts::TAU,
        any::<bool>(),
    )
        .prop_map(|(a, b, c, reflect)| {
            let s = if reflect { -1.0 } else { 1.0 };
            angles_to_matrix(a, b, c).map(|row| row.map(|v| s * v))
        })
}

fn random(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Rows of `x` (`batch × dim`) multiplied by the representation matrix `d` (`dim × dim`).
fn act(d: &[f64], x: &[f64], dim: usize) -> Vec<f64> {
    x.chunks_exact(dim)
        .flat_map(|row| {
            (0..dim).map(move |i| (0..dim).map(|j| d[i * dim + j] * row[j]).sum::<f64>())
        })
        .collect()
}

fn assert_close(a: &[f64], b: &[f64], tol: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.len(), b.len());
    let err = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    prop_assert!(err < tol, "max deviation {err:e}");
    Ok(())
}

fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for k in 0..n {
            for j in 0..n {
                c[i * n + j] += a[i * n + k] * b[k * n + j];
            }
        }
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn spherical_harmonics_are_equivariant(q in orthogonal(), seed in any::<u64>()) {
        let sh = SphericalHarmonics::new(6, true, ShNormalization::Component);
        let v = random(seed, 5 * 3);
        let qv: Vec<f64> = v.chunks_exact(3)
            .flat_map(|r| (0..3).map(move |i| (0..3).map(|j| q[i][j] * r[j]).sum::<f64>()))
            .collect();
        let d = irreps_d(&sh.irreps(), &q).unwrap();
        assert_close(&sh.compute(&qv).unwrap(), &act(&d, &sh.compute(&v).unwrap(), sh.dim()), 1e-10)?;
    }

    #[test]
    fn wigner_d_is_a_representation(q1 in orthogonal(), q2 in orthogonal()) {
        let irreps: Irreps = "1x0e+1x1o+1x2e+1x3o+1x4e+1x1e+1x0o".parse().unwrap();
        let mut q12 = [[0.0; 3]; 3];
        for i in 0..3 { for j in 0..3 { q12[i][j] = (0..3).map(|k| q1[i][k] * q2[k][j]).sum(); } }
        let n = irreps.dim();
        let (d1, d2, d12) = (irreps_d(&irreps, &q1).unwrap(), irreps_d(&irreps, &q2).unwrap(), irreps_d(&irreps, &q12).unwrap());
        assert_close(&d12, &matmul(&d1, &d2, n), 1e-10)?;
        // orthogonal: D Dᵀ = I
        let dt: Vec<f64> = (0..n * n).map(|k| d1[(k % n) * n + k / n]).collect();
        let id: Vec<f64> = (0..n * n).map(|k| if k / n == k % n { 1.0 } else { 0.0 }).collect();
        assert_close(&matmul(&d1, &dt, n), &id, 1e-10)?;
    }

    #[test]
    fn wigner_3j_is_invariant(q in orthogonal(), l1 in 0u32..5, l2 in 0u32..5, dl in 0u32..9) {
        let l3 = l1.abs_diff(l2) + dl;
        prop_assume!(l3 <= l1 + l2);
        let c = wigner_3j(l1, l2, l3).unwrap();
        let (d1, d2, d3) = (wigner_d_from_matrix(l1, &q).unwrap(), wigner_d_from_matrix(l2, &q).unwrap(), wigner_d_from_matrix(l3, &q).unwrap());
        let (n1, n2, n3) = ((2 * l1 + 1) as usize, (2 * l2 + 1) as usize, (2 * l3 + 1) as usize);
        let mut rotated = vec![0.0; c.len()];
        for i in 0..n1 { for j in 0..n2 { for k in 0..n3 {
            let mut s = 0.0;
            for a in 0..n1 { for b in 0..n2 { for e in 0..n3 {
                s += d1[i * n1 + a] * d2[j * n2 + b] * d3[k * n3 + e] * c[(a * n2 + b) * n3 + e];
            }}}
            rotated[(i * n2 + j) * n3 + k] = s;
        }}}
        assert_close(&rotated, &c, 1e-10)?;
    }

    #[test]
    fn tensor_products_are_equivariant(q in orthogonal(), seed in any::<u64>()) {
        let feat: Irreps = "2x0e+2x1o+2x1e+1x2e+1x2o+1x3o".parse().unwrap();
        let sh = Irreps::spherical_harmonics(3);
        let uvu = TensorProduct::nequip_convolution(&feat, &sh, &feat).unwrap();
        let uvw = TensorProduct::fully_connected(feat.clone(), "2x0e+1x1o".parse().unwrap(), feat.clone()).unwrap();
        for (tp, shared) in [(&uvu, false), (&uvw, true)] {
            let n = 3;
            let (i1, i2, io) = (tp.irreps_in1(), tp.irreps_in2(), tp.irreps_out());
            let x1 = random(seed, n * i1.dim());
            let x2 = random(seed ^ 1, n * i2.dim());
            let w = random(seed ^ 2, if shared { 1 } else { n } * tp.weight_numel());
            let wts = if shared { Weights::Shared(&w) } else { Weights::PerSample(&w) };
            let (d1, d2, dout) = (irreps_d(i1, &q).unwrap(), irreps_d(i2, &q).unwrap(), irreps_d(io, &q).unwrap());
            let rotated_in = tp.compute(&act(&d1, &x1, i1.dim()), &act(&d2, &x2, i2.dim()), wts).unwrap();
            let rotated_out = act(&dout, &tp.compute(&x1, &x2, wts).unwrap(), io.dim());
            assert_close(&rotated_in, &rotated_out, 1e-10)?;
        }
    }

    #[test]
    fn linear_and_gate_are_equivariant(q in orthogonal(), seed in any::<u64>()) {
        let lin = Linear::new("3x0e+2x1o+1x2e+2x0o".parse().unwrap(), "2x0e+1x1o+2x2e+1x0o".parse().unwrap()).unwrap();
        let x = random(seed, 4 * lin.irreps_in().dim());
        let w = random(seed ^ 3, lin.weight_numel());
        let (di, dout) = (irreps_d(lin.irreps_in(), &q).unwrap(), irreps_d(lin.irreps_out(), &q).unwrap());
        assert_close(
            &lin.compute(&act(&di, &x, lin.irreps_in().dim()), &w).unwrap(),
            &act(&dout, &lin.compute(&x, &w).unwrap(), lin.irreps_out().dim()),
            1e-10,
        )?;

        let silu = NormalizedActivation::new(Activation::Silu);
        let tanh = NormalizedActivation::new(Activation::Tanh);
        let gate = Gate::new(
            "2x0e+1x0o".parse().unwrap(), &[silu, tanh],
            "2x0e+1x0o".parse().unwrap(), &[silu, tanh],
            "1x2e+1x1o+1x1e".parse().unwrap(),
        ).unwrap();
        let x = random(seed ^ 4, 4 * gate.irreps_in().dim());
        let (di, dout) = (irreps_d(gate.irreps_in(), &q).unwrap(), irreps_d(gate.irreps_out(), &q).unwrap());
        assert_close(
            &gate.compute(&act(&di, &x, gate.irreps_in().dim())).unwrap(),
            &act(&dout, &gate.compute(&x).unwrap(), gate.irreps_out().dim()),
            1e-10,
        )?;
    }
}

#[test]
fn wigner_3j_orthogonality_and_selection_rules() {
    for l1 in 0..=4u32 {
        for l2 in 0..=4u32 {
            for l3 in 0..=9u32 {
                let allowed = l1.abs_diff(l2) <= l3 && l3 <= l1 + l2;
                let c = wigner_3j(l1, l2, l3);
                assert_eq!(c.is_ok(), allowed, "({l1},{l2},{l3})");
                let Ok(c) = c else { continue };
                let (n12, n3) = (
                    ((2 * l1 + 1) * (2 * l2 + 1)) as usize,
                    (2 * l3 + 1) as usize,
                );
                // Σ_ij C_ijk C_ijk' = δ_kk' / (2 l3 + 1)
                for k in 0..n3 {
                    for kp in 0..n3 {
                        let s: f64 = (0..n12).map(|ij| c[ij * n3 + k] * c[ij * n3 + kp]).sum();
                        let expected = if k == kp { 1.0 / n3 as f64 } else { 0.0 };
                        assert!(
                            (s - expected).abs() < 1e-12,
                            "({l1},{l2},{l3}) k={k} k'={kp}: {s}"
                        );
                    }
                }
                // different l3 couple orthogonal subspaces
                if l3 > l1.abs_diff(l2) {
                    let c2 = wigner_3j(l1, l2, l3 - 1).unwrap();
                    let n3b = (2 * l3 - 1) as usize;
                    for k in 0..n3 {
                        for kp in 0..n3b {
                            let s: f64 =
                                (0..n12).map(|ij| c[ij * n3 + k] * c2[ij * n3b + kp]).sum();
                            assert!(s.abs() < 1e-12);
                        }
                    }
                }
            }
        }
    }
}
