//! The fused message-passing convolution against the three steps it replaces (gather, per-edge
//! tensor product, scatter-sum) and their adjoints, on random graphs with isolated nodes,
//! repeated edges and self-loops, for f64 and for duals; for NequIP's product, an all-`uvu`
//! product with several in2 channels, shared output blocks and more channels than one tile,
//! and a `uvw` product (which takes the per-sample kernels).

use mlff_e3::{
    ConnectionMode, Dual, Instruction, MessageEdges, Scalar, ScatterPlan, TensorProduct, Weights,
    gather,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

struct Case {
    tp: TensorProduct,
    nodes: usize,
    sources: Vec<usize>,
    targets: Vec<usize>,
    x1: Vec<f64>,
    x2: Vec<f64>,
    w: Vec<f64>,
    g: Vec<f64>,
}

/// The products under test, by index.
fn product(kind: usize) -> TensorProduct {
    let irreps = |s: &str| s.parse().unwrap();
    match kind {
        0 => {
            let feat = irreps("5x0e+3x1o+4x2e");
            TensorProduct::nequip_convolution(&feat, &irreps("1x0e+1x1o+1x2e"), &feat).unwrap()
        }
        1 => {
            use ConnectionMode::Uvu;
            let ins = [(0, 0, 0), (1, 1, 0), (0, 1, 1), (1, 0, 1), (1, 1, 1)];
            TensorProduct::new(
                irreps("37x0e+37x1o"),
                irreps("2x0e+3x1o"),
                irreps("37x0e+37x1o+37x1e"),
                ins.iter()
                    .map(|&(a, b, o)| {
                        Instruction::new(a, b, if (a, b, o) == (1, 1, 1) { 2 } else { o }, Uvu)
                    })
                    .collect(),
            )
            .unwrap()
        }
        _ => TensorProduct::fully_connected(
            irreps("4x0e+2x1o"),
            irreps("1x0e+1x1o"),
            irreps("3x0e+2x1o"),
        )
        .unwrap(),
    }
}

fn case(kind: usize, seed: u64, nodes: usize, edges: usize) -> Case {
    let tp = product(kind);
    let (feat, sh) = (tp.irreps_in1().clone(), tp.irreps_in2().clone());
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut random =
        |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
    let (x1, x2) = (random(nodes * feat.dim()), random(edges * sh.dim()));
    let (w, g) = (
        random(edges * tp.weight_numel()),
        random(nodes * tp.irreps_out().dim()),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    // Only the first half of the nodes send or receive: the rest are isolated.
    let active = nodes.div_ceil(2).max(1);
    let mut pick = || -> Vec<usize> { (0..edges).map(|_| rng.random_range(0..active)).collect() };
    let (sources, targets) = (pick(), pick());
    Case {
        tp,
        nodes,
        sources,
        targets,
        x1,
        x2,
        w,
        g,
    }
}

fn lift(x: &[f64], tangent: impl Fn(usize) -> f64) -> Vec<Dual<f64>> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| Dual::new(v, tangent(i)))
        .collect()
}

/// (convolve, ∂x1, ∂x2, ∂w) by the fused pass and by the composed steps.
fn both<T: Scalar>(c: &Case, x1: &[T], x2: &[T], w: &[T], g: &[T]) -> [[Vec<T>; 4]; 2] {
    let by_source = ScatterPlan::new(&c.sources, c.nodes).unwrap();
    let by_target = ScatterPlan::new(&c.targets, c.nodes).unwrap();
    let edges = MessageEdges {
        sources: &c.sources,
        targets: &c.targets,
        by_source: &by_source,
        by_target: &by_target,
    };
    let (d1, d2, dout) = (
        c.tp.irreps_in1().dim(),
        c.tp.irreps_in2().dim(),
        c.tp.irreps_out().dim(),
    );
    let e = c.sources.len();
    let zeros = |n: usize| vec![T::zero(); n];
    // The fused passes overwrite their outputs: start them from garbage.
    let garbage = |n: usize| vec![T::from_f64(1e30); n];

    let mut out = garbage(c.nodes * dout);
    c.tp.convolve(x1, x2, w, edges, &mut out).unwrap();
    let (mut gx1, mut gx2, mut gw) = (garbage(c.nodes * d1), garbage(e * d2), garbage(w.len()));
    c.tp.convolve_backward(x1, x2, w, edges, g, &mut gx1, &mut gx2, &mut gw)
        .unwrap();

    let mut src = zeros(e * d1);
    gather(x1, d1, &c.sources, &mut src).unwrap();
    let mut msg = zeros(e * dout);
    c.tp.forward(&src, x2, Weights::PerSample(w), &mut msg)
        .unwrap();
    let mut ref_out = zeros(c.nodes * dout);
    by_target.scatter_sum(&msg, dout, &mut ref_out).unwrap();
    let mut g_msg = zeros(e * dout);
    gather(g, dout, &c.targets, &mut g_msg).unwrap();
    let (mut g_src, mut ref_gx2, mut ref_gw) = (zeros(e * d1), zeros(e * d2), zeros(w.len()));
    c.tp.backward(
        &src,
        x2,
        Weights::PerSample(w),
        &g_msg,
        &mut g_src,
        &mut ref_gx2,
        &mut ref_gw,
    )
    .unwrap();
    let mut ref_gx1 = zeros(c.nodes * d1);
    by_source.scatter_sum(&g_src, d1, &mut ref_gx1).unwrap();
    [[out, gx1, gx2, gw], [ref_out, ref_gx1, ref_gx2, ref_gw]]
}

fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
            "{what}: {x} vs {y}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn fused_equals_gather_product_scatter(kind in 0usize..3, seed in 0u64..1000,
                                           nodes in 1usize..12, edges in 0usize..40) {
        let c = case(kind, seed, nodes, edges);
        let [fused, composed] = both::<f64>(&c, &c.x1, &c.x2, &c.w, &c.g);
        for (k, what) in ["out", "grad x1", "grad x2", "grad w"].iter().enumerate() {
            assert_close(&fused[k], &composed[k], what);
        }
        // Duals: tangents on every input flow through both passes alike.
        let t = |i: usize| ((i * 7919) % 13) as f64 / 13.0 - 0.5;
        let (x1, x2, w, g) = (lift(&c.x1, t), lift(&c.x2, t), lift(&c.w, t), lift(&c.g, t));
        let [fused, composed] = both::<Dual<f64>>(&c, &x1, &x2, &w, &g);
        for (k, what) in ["out", "grad x1", "grad x2", "grad w"].iter().enumerate() {
            assert_close(Dual::as_parts(&fused[k]), Dual::as_parts(&composed[k]), what);
        }
    }
}

#[test]
fn mismatched_edges_are_refused() {
    let c = case(0, 1, 4, 6);
    let by_source = ScatterPlan::new(&c.sources, c.nodes).unwrap();
    let by_target = ScatterPlan::new(&c.targets, 5).unwrap();
    let edges = MessageEdges {
        sources: &c.sources,
        targets: &c.targets,
        by_source: &by_source,
        by_target: &by_target,
    };
    let mut out = vec![0.0; c.nodes * c.tp.irreps_out().dim()];
    let err =
        c.tp.convolve(&c.x1, &c.x2, &c.w, edges, &mut out)
            .unwrap_err();
    assert!(err.to_string().contains("by_target"), "{err}");
}
