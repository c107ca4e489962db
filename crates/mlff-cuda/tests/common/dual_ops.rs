//! The kernels on dual numbers (`Dual<f64>`, kernels/dual.cuh) through [`Backend`], against
//! mlff-e3's operations on the same duals: value and tangent to 1e-12. Written once, run by the
//! emulation and, when there is one, on a GPU.

use super::rng;
use mlff_cuda::{
    Backend, GatePlan, GemmShape, LinearDirection, LinearPlan, RadialPlan, ShPlan, Transpose,
    UvuPlan,
};
use mlff_e3::{Activation, Dual, Irreps, Linear, NormalizedActivation, Scalar, Weights};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

type D = Dual<f64>;
const TOL: f64 = 1e-12;

fn duals(r: &mut ChaCha8Rng, n: usize, lo: f64, hi: f64) -> Vec<D> {
    (0..n)
        .map(|_| D::new(r.random_range(lo..hi), r.random_range(-1.0..1.0)))
        .collect()
}

fn assert_close(what: &str, got: &[D], want: &[D]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for (part, a, b) in [("value", g.re, w.re), ("tangent", g.eps, w.eps)] {
            assert!(
                (a - b).abs() <= TOL * b.abs().max(1.0),
                "{what}[{i}] {part}: kernel {a} vs mlff-e3 {b}"
            );
        }
    }
}

/// Harmonics, radial embedding (and the atomic column sums of its frequency gradient), tensor
/// product with all gradients, gate, linear map, GEMM and SiLU, on duals.
pub fn kernels_on_duals_match_mlff_e3<B: Backend>(b: &B) {
    let mut r = rng(501);
    let up = |v: &[D]| b.upload(v).unwrap();
    let zeros = |n: usize| b.zeros::<D>(n).unwrap();

    // Spherical harmonics and their VJP.
    let plan = ShPlan::new(3, true).unwrap();
    let n = 20;
    let v = duals(&mut r, 3 * n, -2.0, 2.0);
    let mut y = zeros(n * 16);
    b.sh_forward(&plan, &up(&v), &mut y).unwrap();
    assert_close(
        "sh",
        &b.download(&y).unwrap(),
        &plan.reference().compute(&v).unwrap(),
    );
    let g = duals(&mut r, n * 16, -1.0, 1.0);
    let mut gv = zeros(3 * n);
    b.sh_vjp(&plan, &up(&v), &up(&g), &mut gv).unwrap();
    let mut want = vec![D::zero(); 3 * n];
    plan.reference().vjp(&v, &g, &mut want).unwrap();
    assert_close("sh vjp", &b.download(&gv).unwrap(), &want);

    // Bessel × cutoff embedding and its backward (frequency sums use the dual atomicAdd).
    let plan = RadialPlan::new(8, 4.0, 6).unwrap();
    let lengths = duals(&mut r, n, 0.2, 4.5);
    let freqs: Vec<D> = (1..=8).map(|k| D::new(k as f64, 0.1 * k as f64)).collect();
    let mut emb = zeros(n * 8);
    b.bessel_forward(&plan, &up(&lengths), &up(&freqs), &mut emb)
        .unwrap();
    let want = plan.reference().compute(&lengths, &freqs).unwrap();
    assert_close("bessel", &b.download(&emb).unwrap(), &want);
    let g = duals(&mut r, n * 8, -1.0, 1.0);
    let (mut gl, mut gf, mut scratch) = (zeros(n), zeros(8), zeros(n * 8));
    b.bessel_backward(
        &plan,
        &up(&lengths),
        &up(&freqs),
        &up(&g),
        &mut gl,
        &mut gf,
        &mut scratch,
    )
    .unwrap();
    let (mut wl, mut wf) = (vec![D::zero(); n], vec![D::zero(); 8]);
    plan.reference()
        .backward(&lengths, &freqs, &g, &mut wl, &mut wf)
        .unwrap();
    assert_close("bessel grad lengths", &b.download(&gl).unwrap(), &wl);
    assert_close("bessel grad frequencies", &b.download(&gf).unwrap(), &wf);

    // Tensor product with per-sample weights, forward and all three gradients.
    let irreps = |s: &str| s.parse::<Irreps>().unwrap();
    let tp = super::nequip_convolution("3x0e+2x1o+2x2e", 2, "3x0e+3x1o+3x2e");
    let plan = UvuPlan::new(&tp).unwrap();
    let dplan = b.upload_uvu::<D>(&plan).unwrap();
    let [d1, d2, d3] = plan.dims();
    let (n, wn) = (6, plan.weight_numel());
    let (x1, x2, w) = (
        duals(&mut r, n * d1, -1.0, 1.0),
        duals(&mut r, n * d2, -1.0, 1.0),
        duals(&mut r, n * wn, -1.0, 1.0),
    );
    let mut out = zeros(n * d3);
    b.tp_forward(&dplan, &up(&x1), &up(&x2), &up(&w), &mut out)
        .unwrap();
    let want = tp.compute(&x1, &x2, Weights::PerSample(&w)).unwrap();
    assert_close("tp", &b.download(&out).unwrap(), &want);
    let g = duals(&mut r, n * d3, -1.0, 1.0);
    let (mut g1, mut g2, mut gw) = (zeros(n * d1), zeros(n * d2), zeros(n * wn));
    b.tp_backward(
        &dplan,
        &up(&x1),
        &up(&x2),
        &up(&w),
        &up(&g),
        &mut g1,
        &mut g2,
        &mut gw,
    )
    .unwrap();
    let (mut w1, mut w2, mut ww) = (
        vec![D::zero(); n * d1],
        vec![D::zero(); n * d2],
        vec![D::zero(); n * wn],
    );
    tp.backward(
        &x1,
        &x2,
        Weights::PerSample(&w),
        &g,
        &mut w1,
        &mut w2,
        &mut ww,
    )
    .unwrap();
    assert_close("tp grad x1", &b.download(&g1).unwrap(), &w1);
    assert_close("tp grad x2", &b.download(&g2).unwrap(), &w2);
    assert_close("tp grad weights", &b.download(&gw).unwrap(), &ww);

    // Gate forward and backward.
    let act = NormalizedActivation::e3nn;
    let plan = GatePlan::new(
        irreps("4x0e+2x0o"),
        &[act(Activation::Silu), act(Activation::Tanh)],
        irreps("3x0e"),
        &[act(Activation::Sigmoid)],
        irreps("2x1o+1x2e"),
    )
    .unwrap();
    let dplan = b.upload_gate::<D>(&plan).unwrap();
    let gate = plan.reference();
    let (din, dout) = (gate.irreps_in().dim(), gate.irreps_out().dim());
    let x = duals(&mut r, n * din, -3.0, 3.0);
    let mut y = zeros(n * dout);
    b.gate_forward(&dplan, &up(&x), &mut y).unwrap();
    assert_close("gate", &b.download(&y).unwrap(), &gate.compute(&x).unwrap());
    let g = duals(&mut r, n * dout, -1.0, 1.0);
    let mut gx = zeros(n * din);
    b.gate_backward(&dplan, &up(&x), &up(&g), &mut gx).unwrap();
    let mut want = vec![D::zero(); n * din];
    gate.backward(&x, &g, &mut want).unwrap();
    assert_close("gate backward", &b.download(&gx).unwrap(), &want);

    // Linear map.
    let lin = Linear::new(irreps("3x0e+2x1o"), irreps("2x0e+3x1o")).unwrap();
    let dplan = b
        .upload_linear::<D>(&LinearPlan::new(&lin, 1.0, 1).unwrap())
        .unwrap();
    let w = duals(&mut r, lin.weight_numel(), -1.0, 1.0);
    let x = duals(&mut r, n * lin.irreps_in().dim(), -1.0, 1.0);
    let mut y = zeros(n * lin.irreps_out().dim());
    b.linear(
        &dplan,
        LinearDirection::Forward,
        &up(&x),
        &up(&w),
        None,
        &mut y,
    )
    .unwrap();
    assert_close(
        "linear",
        &b.download(&y).unwrap(),
        &lin.compute(&x, &w).unwrap(),
    );

    // GEMM (the dual product: no cuBLAS type) with a transposed operand, and SiLU.
    let (m, k, nn) = (7, 5, 4);
    let (a, bm) = (
        duals(&mut r, m * k, -1.0, 1.0),
        duals(&mut r, nn * k, -1.0, 1.0),
    );
    let mut c = zeros(m * nn);
    let shape = GemmShape {
        trans_b: Transpose::Yes,
        ..GemmShape::plain(m, nn, k, 0.5)
    };
    b.gemm(shape, &up(&a), &up(&bm), &mut c).unwrap();
    let want: Vec<D> = (0..m * nn)
        .map(|ij| {
            let (i, j) = (ij / nn, ij % nn);
            D::constant(0.5) * (0..k).map(|l| a[i * k + l] * bm[j * k + l]).sum::<D>()
        })
        .collect();
    assert_close("gemm", &b.download(&c).unwrap(), &want);
    let x = duals(&mut r, 100, -8.0, 8.0);
    let (mut dx, mut slope) = (up(&x), zeros(100));
    b.silu_with_slope(&mut dx, &mut slope).unwrap();
    let (want, want_slope): (Vec<D>, Vec<D>) = x
        .iter()
        .map(|&v| Activation::Silu.eval_with_derivative(v))
        .unzip();
    assert_close("silu", &b.download(&dx).unwrap(), &want);
    assert_close("silu slope", &b.download(&slope).unwrap(), &want_slope);
}
