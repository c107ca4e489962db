//! Every vector–Jacobian product against central finite differences (f64, relative error
//! ≤ 1e-6), and the forward-over-reverse dual path against finite differences of the VJP.

use mlff_e3::{
    Activation, BesselEmbedding, Dual, Gate, Irreps, Linear, NormalizedActivation, Scalar,
    ScatterPlan, ShNormalization, SphericalHarmonics, TensorProduct, Weights, edge_vectors,
    edge_vectors_vjp, gather,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Checks `grad` = ∂/∂x ⟨cotangent, f(x)⟩ by central differences in every coordinate.
fn check_vjp(
    what: &str,
    x: &[f64],
    grad: &[f64],
    f: impl Fn(&[f64]) -> Vec<f64>,
    cotangent: &[f64],
) {
    assert_eq!(x.len(), grad.len(), "{what}: gradient length");
    let h = 1e-5;
    let scale = grad.iter().fold(0.0f64, |m, g| m.max(g.abs())).max(1e-300);
    assert!(
        scale > 1e-8,
        "{what}: gradient vanishes, the test would be vacuous"
    );
    let mut xp = x.to_vec();
    for i in 0..x.len() {
        xp[i] = x[i] + h;
        let fp = dot(cotangent, &f(&xp));
        xp[i] = x[i] - h;
        let fm = dot(cotangent, &f(&xp));
        xp[i] = x[i];
        let fd = (fp - fm) / (2.0 * h);
        let err = (fd - grad[i]).abs() / scale;
        assert!(
            err <= 1e-6,
            "{what}[{i}]: analytic {} vs finite difference {fd} (rel {err:e})",
            grad[i]
        );
    }
}

/// Lifts values to duals with the given tangent.
fn lift(x: &[f64], tangent: &[f64]) -> Vec<Dual<f64>> {
    x.iter()
        .zip(tangent)
        .map(|(&a, &b)| Dual::new(a, b))
        .collect()
}
fn constant(x: &[f64]) -> Vec<Dual<f64>> {
    x.iter().map(|&a| Dual::constant(a)).collect()
}
fn tangents(x: &[Dual<f64>]) -> Vec<f64> {
    x.iter().map(|d| d.eps).collect()
}

/// Checks the dual tangents `jvp` = d/dε G(x + ε d) by central differences of G.
fn check_directional(what: &str, jvp: &[f64], g: impl Fn(f64) -> Vec<f64>) {
    let h = 1e-5;
    let (gp, gm) = (g(h), g(-h));
    let scale = jvp.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(scale > 1e-8, "{what}: directional derivative vanishes");
    for (i, (&a, (p, m))) in jvp.iter().zip(gp.iter().zip(&gm)).enumerate() {
        let fd = (p - m) / (2.0 * h);
        assert!(
            (a - fd).abs() / scale <= 1e-6,
            "{what}[{i}]: dual {a} vs finite difference {fd}"
        );
    }
}

fn shifted(x: &[f64], d: &[f64], t: f64) -> Vec<f64> {
    x.iter().zip(d).map(|(a, b)| a + t * b).collect()
}

#[test]
fn spherical_harmonics_vjp_and_jacobian() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for normalize in [true, false] {
        let sh = SphericalHarmonics::new(5, normalize, ShNormalization::Component);
        let v = random(&mut rng, 6 * 3);
        let g = random(&mut rng, 6 * sh.dim());
        let mut grad = vec![0.0; v.len()];
        sh.vjp(&v, &g, &mut grad).unwrap();
        check_vjp("sh vjp", &v, &grad, |x| sh.compute(x).unwrap(), &g);
        let (mut y, mut jac) = (vec![0.0; g.len()], vec![0.0; g.len() * 3]);
        sh.forward_with_jacobian(&v, &mut y, &mut jac).unwrap();
        assert_eq!(y, sh.compute(&v).unwrap());
        for n in 0..6 {
            for a in 0..3 {
                let from_jac: f64 = (0..sh.dim())
                    .map(|k| g[n * sh.dim() + k] * jac[(n * sh.dim() + k) * 3 + a])
                    .sum();
                assert!((from_jac - grad[n * 3 + a]).abs() < 1e-12);
            }
        }
        // Dual: d/dε vjp(v + ε d) is a Hessian–vector product.
        let d = random(&mut rng, v.len());
        let mut grad_dual = vec![Dual::default(); v.len()];
        sh.vjp(&lift(&v, &d), &constant(&g), &mut grad_dual)
            .unwrap();
        check_directional("sh vjp dual", &tangents(&grad_dual), |t| {
            let mut out = vec![0.0; v.len()];
            sh.vjp(&shifted(&v, &d, t), &g, &mut out).unwrap();
            out
        });
    }
}

fn weights<T>(w: &[T], shared: bool) -> Weights<'_, T> {
    if shared {
        Weights::Shared(w)
    } else {
        Weights::PerSample(w)
    }
}

/// Gradients of a tensor product with respect to all three arguments, and the dual path.
fn check_tensor_product(tp: &TensorProduct, batch: usize, shared: bool, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (d1, d2, dout) = (
        tp.irreps_in1().dim(),
        tp.irreps_in2().dim(),
        tp.irreps_out().dim(),
    );
    let wn = tp.weight_numel() * if shared { 1 } else { batch };
    let x1 = random(&mut rng, batch * d1);
    let x2 = random(&mut rng, batch * d2);
    let w = random(&mut rng, wn);
    let g = random(&mut rng, batch * dout);

    let (mut g1, mut g2, mut gw) = (vec![0.0; x1.len()], vec![0.0; x2.len()], vec![0.0; wn]);
    tp.backward(&x1, &x2, weights(&w, shared), &g, &mut g1, &mut g2, &mut gw)
        .unwrap();
    check_vjp(
        "tp x1",
        &x1,
        &g1,
        |x| tp.compute(x, &x2, weights(&w, shared)).unwrap(),
        &g,
    );
    check_vjp(
        "tp x2",
        &x2,
        &g2,
        |x| tp.compute(&x1, x, weights(&w, shared)).unwrap(),
        &g,
    );
    check_vjp(
        "tp w",
        &w,
        &gw,
        |x| tp.compute(&x1, &x2, weights(x, shared)).unwrap(),
        &g,
    );

    // Forward-over-reverse: tangent on x2 (the edge harmonics, i.e. positions) gives the
    // directional derivative of the weight gradient.
    let d = random(&mut rng, x2.len());
    let (x1d, x2d, wd, gd) = (constant(&x1), lift(&x2, &d), constant(&w), constant(&g));
    let (mut g1d, mut g2d, mut gwd) = (
        vec![Dual::default(); x1.len()],
        vec![Dual::default(); x2.len()],
        vec![Dual::default(); wn],
    );
    tp.backward(
        &x1d,
        &x2d,
        weights(&wd, shared),
        &gd,
        &mut g1d,
        &mut g2d,
        &mut gwd,
    )
    .unwrap();
    check_directional("tp grad w along x2", &tangents(&gwd), |t| {
        let (mut a, mut b, mut c) = (vec![0.0; x1.len()], vec![0.0; x2.len()], vec![0.0; wn]);
        tp.backward(
            &x1,
            &shifted(&x2, &d, t),
            weights(&w, shared),
            &g,
            &mut a,
            &mut b,
            &mut c,
        )
        .unwrap();
        c
    });
    check_directional("tp grad x1 along x2", &tangents(&g1d), |t| {
        let (mut a, mut b, mut c) = (vec![0.0; x1.len()], vec![0.0; x2.len()], vec![0.0; wn]);
        tp.backward(
            &x1,
            &shifted(&x2, &d, t),
            weights(&w, shared),
            &g,
            &mut a,
            &mut b,
            &mut c,
        )
        .unwrap();
        a
    });
}

#[test]
fn uvu_tensor_product_gradients_per_sample_weights() {
    let feat: Irreps = "3x0e+2x1o+2x2e+1x3o".parse().unwrap();
    let tp =
        TensorProduct::nequip_convolution(&feat, &Irreps::spherical_harmonics(3), &feat).unwrap();
    check_tensor_product(&tp, 3, false, 2);
}

#[test]
fn uvw_tensor_product_gradients_shared_weights() {
    let tp = TensorProduct::fully_connected(
        "2x0e+2x1o+1x2e".parse().unwrap(),
        "2x0e+1x1o".parse().unwrap(),
        "2x0e+2x1o+1x1e+1x2e".parse().unwrap(),
    )
    .unwrap();
    check_tensor_product(&tp, 4, true, 3);
}

#[test]
fn linear_gradients() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let lin = Linear::new(
        "3x0e+2x1o+2x0e+1x2e".parse().unwrap(),
        "2x0e+3x1o+1x2e+1x1e".parse().unwrap(),
    )
    .unwrap();
    let n = 3;
    let (din, dout) = (lin.irreps_in().dim(), lin.irreps_out().dim());
    let x = random(&mut rng, n * din);
    let w = random(&mut rng, lin.weight_numel());
    let g = random(&mut rng, n * dout);
    let (mut gx, mut gw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    lin.backward(&x, &w, &g, &mut gx, &mut gw).unwrap();
    check_vjp("linear x", &x, &gx, |x| lin.compute(x, &w).unwrap(), &g);
    check_vjp("linear w", &w, &gw, |w| lin.compute(&x, w).unwrap(), &g);
    let d = random(&mut rng, x.len());
    let (mut gxd, mut gwd) = (
        vec![Dual::default(); x.len()],
        vec![Dual::default(); w.len()],
    );
    lin.backward(
        &lift(&x, &d),
        &constant(&w),
        &constant(&g),
        &mut gxd,
        &mut gwd,
    )
    .unwrap();
    check_directional("linear grad w along x", &tangents(&gwd), |t| {
        let (mut a, mut b) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        lin.backward(&shifted(&x, &d, t), &w, &g, &mut a, &mut b)
            .unwrap();
        b
    });
}

#[test]
fn gate_gradients() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let silu = NormalizedActivation::new(Activation::Silu);
    let tanh = NormalizedActivation::new(Activation::Tanh);
    let sig = NormalizedActivation::new(Activation::Sigmoid);
    let gate = Gate::new(
        "2x0e+1x0o".parse().unwrap(),
        &[silu, tanh],
        "2x0e+1x0o".parse().unwrap(),
        &[sig, tanh],
        "1x2e+1x1o+1x1e".parse().unwrap(),
    )
    .unwrap();
    let n = 3;
    let x = random(&mut rng, n * gate.irreps_in().dim());
    let g = random(&mut rng, n * gate.irreps_out().dim());
    let mut gx = vec![0.0; x.len()];
    gate.backward(&x, &g, &mut gx).unwrap();
    check_vjp("gate x", &x, &gx, |x| gate.compute(x).unwrap(), &g);
    let d = random(&mut rng, x.len());
    let mut gxd = vec![Dual::default(); x.len()];
    gate.backward(&lift(&x, &d), &constant(&g), &mut gxd)
        .unwrap();
    check_directional("gate grad along x", &tangents(&gxd), |t| {
        let mut a = vec![0.0; x.len()];
        gate.backward(&shifted(&x, &d, t), &g, &mut a).unwrap();
        a
    });
}

#[test]
fn bessel_embedding_gradients() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let b = BesselEmbedding::new(8, 4.0, 6).unwrap();
    let r: Vec<f64> = (0..7).map(|_| rng.random_range(0.3..3.9)).collect();
    let freqs: Vec<f64> = b
        .default_frequencies::<f64>()
        .iter()
        .map(|f| f + rng.random_range(-0.2..0.2))
        .collect();
    let g = random(&mut rng, r.len() * 8);
    let (mut gr, mut gf) = (vec![0.0; r.len()], vec![0.0; 8]);
    b.backward(&r, &freqs, &g, &mut gr, &mut gf).unwrap();
    check_vjp("bessel r", &r, &gr, |x| b.compute(x, &freqs).unwrap(), &g);
    check_vjp(
        "bessel freqs",
        &freqs,
        &gf,
        |x| b.compute(&r, x).unwrap(),
        &g,
    );
    let d = random(&mut rng, r.len());
    let (mut grd, mut gfd) = (vec![Dual::default(); r.len()], vec![Dual::default(); 8]);
    b.backward(
        &lift(&r, &d),
        &constant(&freqs),
        &constant(&g),
        &mut grd,
        &mut gfd,
    )
    .unwrap();
    check_directional("bessel grad freqs along r", &tangents(&gfd), |t| {
        let (mut a, mut c) = (vec![0.0; r.len()], vec![0.0; 8]);
        b.backward(&shifted(&r, &d, t), &freqs, &g, &mut a, &mut c)
            .unwrap();
        c
    });
}

#[test]
fn gather_scatter_and_edge_vectors_are_adjoint() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (n, e, width) = (5, 12, 4);
    let idx: Vec<usize> = (0..e).map(|_| rng.random_range(0..n)).collect();
    let x = random(&mut rng, n * width);
    let y = random(&mut rng, e * width);
    let mut gathered = vec![0.0; e * width];
    gather(&x, width, &idx, &mut gathered).unwrap();
    let plan = ScatterPlan::new(&idx, n).unwrap();
    let mut scattered = vec![0.0; n * width];
    plan.scatter_sum(&y, width, &mut scattered).unwrap();
    assert!((dot(&gathered, &y) - dot(&x, &scattered)).abs() < 1e-12);

    let origin: Vec<usize> = (0..e).map(|_| rng.random_range(0..n)).collect();
    let tip: Vec<usize> = (0..e).map(|_| rng.random_range(0..n)).collect();
    let pos = random(&mut rng, n * 3);
    let g = random(&mut rng, e * 3);
    let mut grad = vec![0.0; n * 3];
    let (by_tip, by_origin) = (
        ScatterPlan::new(&tip, n).unwrap(),
        ScatterPlan::new(&origin, n).unwrap(),
    );
    edge_vectors_vjp(&g, &by_tip, &by_origin, &mut grad).unwrap();
    check_vjp(
        "edge vectors",
        &pos,
        &grad,
        |p| {
            let mut v = vec![0.0; e * 3];
            edge_vectors(p, &origin, &tip, &mut v).unwrap();
            v
        },
        &g,
    );
}

#[test]
fn f32_and_f64_kernels_agree() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let feat: Irreps = "4x0e+4x1o+4x2e".parse().unwrap();
    let sh = SphericalHarmonics::new(2, true, ShNormalization::Component);
    let tp = TensorProduct::nequip_convolution(&feat, &sh.irreps(), &feat).unwrap();
    let v = random(&mut rng, 10 * 3);
    let x = random(&mut rng, 10 * feat.dim());
    let w = random(&mut rng, 10 * tp.weight_numel());
    let y64 = tp
        .compute(&x, &sh.compute(&v).unwrap(), Weights::PerSample(&w))
        .unwrap();
    let to32 = |a: &[f64]| a.iter().map(|&v| v as f32).collect::<Vec<f32>>();
    let y32 = tp
        .compute(
            &to32(&x),
            &sh.compute(&to32(&v)).unwrap(),
            Weights::PerSample(&to32(&w)),
        )
        .unwrap();
    for (a, b) in y64.iter().zip(&y32) {
        assert!((a - b.value()).abs() < 1e-5 * (1.0 + a.abs()), "{a} vs {b}");
    }
}
