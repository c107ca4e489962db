//! The emulated backward kernels against central finite differences of the emulated forward
//! kernels (f64, directional derivatives, relative error ≤ 1e-6), and a property test of the
//! tensor-product tables over random irreps.

mod common;

use common::{assert_close, rng, uniform};
use mlff_cuda::{Backend, Emulator, GatePlan, RadialPlan, ShPlan, UvuPlan};
use mlff_e3::{Activation, Irreps, NormalizedActivation, TensorProduct, Weights};
use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;

/// `⟨g, f(x + h d) - f(x - h d)⟩ / 2h` against `⟨grad, d⟩` for a random direction `d`.
fn check_directional(
    what: &str,
    r: &mut ChaCha8Rng,
    x: &[f64],
    g: &[f64],
    grad: &[f64],
    f: impl Fn(&[f64]) -> Vec<f64>,
) {
    let d = uniform(r, x.len(), -1.0, 1.0);
    let h = 1e-6;
    let shifted = |s: f64| -> Vec<f64> { x.iter().zip(&d).map(|(a, b)| a + s * h * b).collect() };
    let (fp, fm) = (f(&shifted(1.0)), f(&shifted(-1.0)));
    let fd: f64 = g
        .iter()
        .zip(fp.iter().zip(&fm))
        .map(|(g, (p, m))| g * (p - m))
        .sum::<f64>()
        / (2.0 * h);
    let analytic: f64 = grad.iter().zip(&d).map(|(a, b)| a * b).sum();
    assert!(
        (fd - analytic).abs() <= 1e-6 * analytic.abs().max(1.0),
        "{what}: finite difference {fd} vs backward kernel {analytic}"
    );
}

#[test]
fn spherical_harmonics_vjp_matches_finite_differences() {
    let mut r = rng(201);
    for normalize in [true, false] {
        let plan = ShPlan::new(3, normalize).unwrap();
        let n = 20;
        let v = uniform(&mut r, 3 * n, -1.5, 1.5);
        let g = uniform(&mut r, n * 16, -1.0, 1.0);
        let mut grad = vec![0.0; 3 * n];
        Emulator.sh_vjp(&plan, &v, &g, &mut grad).unwrap();
        let f = |v: &[f64]| {
            let mut out = vec![0.0; n * 16];
            Emulator.sh_forward(&plan, &v.to_vec(), &mut out).unwrap();
            out
        };
        check_directional("sh", &mut r, &v, &g, &grad, f);
    }
}

#[test]
fn radial_backward_matches_finite_differences() {
    let mut r = rng(202);
    let plan = RadialPlan::new(6, 4.0, 6).unwrap();
    let n = 30;
    let lengths = uniform(&mut r, n, 0.3, 3.9);
    let freqs: Vec<f64> = (1..=6).map(|k| k as f64 * 1.05).collect();
    let g = uniform(&mut r, n * 6, -1.0, 1.0);
    let (mut gl, mut gf) = (vec![0.0; n], vec![0.0; 6]);
    Emulator
        .bessel_backward(
            &plan,
            &lengths,
            &freqs,
            &g,
            &mut gl,
            &mut gf,
            &mut vec![0.0; n * 6],
        )
        .unwrap();
    let forward = |l: &[f64], w: &[f64]| {
        let mut out = vec![0.0; n * 6];
        Emulator
            .bessel_forward(&plan, &l.to_vec(), &w.to_vec(), &mut out)
            .unwrap();
        out
    };
    check_directional("bessel lengths", &mut r, &lengths, &g, &gl, |l| {
        forward(l, &freqs)
    });
    check_directional("bessel frequencies", &mut r, &freqs, &g, &gf, |w| {
        forward(&lengths, w)
    });
}

#[test]
fn tensor_product_backward_matches_finite_differences() {
    let tp = common::nequip_convolution("3x0e+2x1o+2x2e", 2, "3x0e+3x1o+3x2e");
    let plan = UvuPlan::new(&tp).unwrap();
    let [d1, d2, d3] = plan.dims();
    let (n, wn) = (5, plan.weight_numel());
    let mut r = rng(203);
    let (x1, x2, w) = (
        uniform(&mut r, n * d1, -1.0, 1.0),
        uniform(&mut r, n * d2, -1.0, 1.0),
        uniform(&mut r, n * wn, -1.0, 1.0),
    );
    let g = uniform(&mut r, n * d3, -1.0, 1.0);
    let (mut g1, mut g2, mut gw) = (vec![0.0; n * d1], vec![0.0; n * d2], vec![0.0; n * wn]);
    Emulator
        .tp_backward(&plan, &x1, &x2, &w, &g, &mut g1, &mut g2, &mut gw)
        .unwrap();
    let f = |a: &[f64], b: &[f64], c: &[f64]| {
        let mut out = vec![0.0; n * d3];
        Emulator
            .tp_forward(&plan, &a.to_vec(), &b.to_vec(), &c.to_vec(), &mut out)
            .unwrap();
        out
    };
    check_directional("tp x1", &mut r, &x1, &g, &g1, |a| f(a, &x2, &w));
    check_directional("tp x2", &mut r, &x2, &g, &g2, |b| f(&x1, b, &w));
    check_directional("tp weights", &mut r, &w, &g, &gw, |c| f(&x1, &x2, c));
}

#[test]
fn gate_backward_matches_finite_differences() {
    let irreps = |s: &str| s.parse::<Irreps>().unwrap();
    let act = |a| NormalizedActivation::new(a);
    let plan = GatePlan::new(
        irreps("4x0e+2x0o"),
        &[act(Activation::Silu), act(Activation::Tanh)],
        irreps("5x0e"),
        &[act(Activation::Sigmoid)],
        irreps("3x1o+2x2e"),
    )
    .unwrap();
    let (din, dout) = (
        plan.reference().irreps_in().dim(),
        plan.reference().irreps_out().dim(),
    );
    let n = 7;
    let mut r = rng(204);
    let x = uniform(&mut r, n * din, -3.0, 3.0);
    let g = uniform(&mut r, n * dout, -1.0, 1.0);
    let mut grad = vec![0.0; n * din];
    Emulator.gate_backward(&plan, &x, &g, &mut grad).unwrap();
    let f = |x: &[f64]| {
        let mut out = vec![0.0; n * dout];
        Emulator.gate_forward(&plan, &x.to_vec(), &mut out).unwrap();
        out
    };
    check_directional("gate", &mut r, &x, &g, &grad, f);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Random feature multiplicities, harmonic degrees and batch sizes: the kernel tables built
    /// from TensorProduct::paths() reproduce mlff-e3's product and all three gradients.
    #[test]
    fn tensor_product_tables_match_mlff_e3_for_random_irreps(
        muls in proptest::collection::vec(0usize..4, 3),
        sh_lmax in 0u32..=3,
        n in 0usize..6,
        seed in any::<u64>(),
    ) {
        prop_assume!(muls.iter().any(|&m| m > 0));
        let parity = ['e', 'o', 'e'];
        let feature: String = muls
            .iter()
            .enumerate()
            .filter(|(_, m)| **m > 0)
            .map(|(l, m)| format!("{m}x{l}{}", parity[l]))
            .collect::<Vec<_>>()
            .join("+");
        let feature: Irreps = feature.parse().unwrap();
        let out: Irreps = "4x0e+4x1o+4x2e+4x1e+4x0o+4x2o".parse().unwrap();
        let tp = TensorProduct::nequip_convolution(&feature, &Irreps::spherical_harmonics(sh_lmax), &out)
            .unwrap();
        let plan = UvuPlan::new(&tp).unwrap();
        let [d1, d2, d3] = plan.dims();
        let wn = plan.weight_numel();
        let mut r = rng(seed);
        let (x1, x2, w, g) = (
            uniform(&mut r, n * d1, -1.0, 1.0),
            uniform(&mut r, n * d2, -1.0, 1.0),
            uniform(&mut r, n * wn, -1.0, 1.0),
            uniform(&mut r, n * d3, -1.0, 1.0),
        );
        let mut got = vec![0.0; n * d3];
        Emulator.tp_forward(&plan, &x1, &x2, &w, &mut got).unwrap();
        assert_close("tp", &got, &tp.compute(&x1, &x2, Weights::PerSample(&w)).unwrap(), 1e-12);
        let (mut g1, mut g2, mut gw) = (vec![0.0; n * d1], vec![0.0; n * d2], vec![0.0; n * wn]);
        Emulator.tp_backward(&plan, &x1, &x2, &w, &g, &mut g1, &mut g2, &mut gw).unwrap();
        let (mut w1, mut w2, mut ww) = (vec![0.0; n * d1], vec![0.0; n * d2], vec![0.0; n * wn]);
        tp.backward(&x1, &x2, Weights::PerSample(&w), &g, &mut w1, &mut w2, &mut ww).unwrap();
        assert_close("grad x1", &g1, &w1, 1e-12);
        assert_close("grad x2", &g2, &w2, 1e-12);
        assert_close("grad w", &gw, &ww, 1e-12);
    }
}
