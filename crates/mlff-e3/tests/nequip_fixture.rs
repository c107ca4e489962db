//! NequIP 0.19.1 / e3nn 0.6.0 module outputs (`fixtures/nequip_ethanol/`): edge geometry, edge
//! spherical harmonics, Bessel edge embedding, and the whole first interaction layer
//! (linear → tensor product with per-edge radial weights → scatter → linear → gate).

mod common;

use common::{Array, load_npz, max_abs_diff};
use mlff_e3::{
    Activation, BesselEmbedding, Gate, Irreps, Linear, NormalizedActivation, ScatterPlan,
    ShNormalization, SphericalHarmonics, TensorProduct, Weights, edge_vectors, gather,
};
use std::collections::HashMap;

struct Fixture {
    inputs: HashMap<String, Array>,
    expected: HashMap<String, Array>,
    weights: HashMap<String, Array>,
}

impl Fixture {
    fn load() -> Self {
        Self {
            inputs: load_npz("nequip_ethanol/inputs.npz"),
            expected: load_npz("nequip_ethanol/expected.npz"),
            weights: load_npz("nequip_ethanol/weights.npz"),
        }
    }
    fn edges(&self) -> (Vec<usize>, Vec<usize>) {
        let ei = &self.inputs["edge_index"];
        let e = ei.shape[1];
        let idx: Vec<usize> = ei.data.iter().map(|&v| v as usize).collect();
        (idx[..e].to_vec(), idx[e..].to_vec())
    }
    fn weight(&self, name: &str) -> &[f64] {
        &self.weights[&format!("model.func.{name}")].data
    }
    fn edge_vectors(&self) -> Vec<f64> {
        let (i0, i1) = self.edges();
        let mut vecs = vec![0.0; i0.len() * 3];
        edge_vectors(&self.inputs["pos"].data, &i0, &i1, &mut vecs).unwrap();
        vecs
    }
}

const R_MAX: f64 = 4.0;

#[test]
fn edge_vectors_and_spherical_harmonics_match_nequip() {
    let f = Fixture::load();
    let vecs = f.edge_vectors();
    assert_eq!(
        max_abs_diff(&vecs, &f.expected["spharm/edge_vectors"].data),
        0.0
    );
    let sh = SphericalHarmonics::new(2, true, ShNormalization::Component);
    let attrs = sh.compute(&vecs).unwrap();
    let err = max_abs_diff(&attrs, &f.expected["spharm/edge_attrs"].data);
    assert!(err < 1e-12, "edge_attrs: max error {err}");
}

fn lengths(vecs: &[f64]) -> Vec<f64> {
    vecs.chunks_exact(3)
        .map(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
        .collect()
}

#[test]
fn bessel_edge_embedding_matches_nequip() {
    let f = Fixture::load();
    let r = lengths(&f.edge_vectors());
    let err = max_abs_diff(&r, &f.expected["edge_norm/edge_lengths"].data);
    assert!(err < 1e-13);
    let bessel = BesselEmbedding::new(8, R_MAX, 6).unwrap();
    let freqs = f.weight("bessel_encode.bessel_weights").to_vec();
    assert_eq!(freqs, bessel.default_frequencies::<f64>());
    let emb = bessel.compute(&r, &freqs).unwrap();
    let err = max_abs_diff(&emb, &f.expected["bessel_encode/edge_embedding"].data);
    assert!(err < 1e-12, "edge_embedding: max error {err}");
}

/// NequIP's radial MLP `silu(e·W0·α0)·W1·α1` (no bias; α0 = 1/√in, α1 = √2/√hidden).
fn radial_mlp(emb: &[f64], w0: &[f64], w1: &[f64], dims: [usize; 3]) -> Vec<f64> {
    let [din, dh, dout] = dims;
    let (a0, a1) = (1.0 / (din as f64).sqrt(), 2f64.sqrt() / (dh as f64).sqrt());
    let silu = |x: f64| x / (1.0 + (-x).exp());
    emb.chunks_exact(din)
        .flat_map(|e| {
            let h: Vec<f64> = (0..dh)
                .map(|j| silu(a0 * (0..din).map(|i| e[i] * w0[i * dh + j]).sum::<f64>()))
                .collect();
            (0..dout).map(move |k| a1 * (0..dh).map(|j| h[j] * w1[j * dout + k]).sum::<f64>())
        })
        .collect()
}

/// One NequIP interaction layer as the fixture's model builds it.
struct LayerSpec {
    index: usize,
    irreps_in: &'static str,
    /// Convolution output = gate input (sorted, simplified).
    irreps_conv_out: &'static str,
    gates: &'static str,
    gated: &'static str,
    self_connection: bool,
}

/// Least-squares fit of the single SiLU normalisation constant e3nn estimated by Monte Carlo,
/// from the first 8 (scalar) columns.
fn fit_silu_scale(pre: &[f64], pre_width: usize, reference: &[f64], ref_width: usize) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for (p, r) in pre
        .chunks_exact(pre_width)
        .zip(reference.chunks_exact(ref_width))
    {
        for c in 0..8 {
            let s = Activation::Silu.eval(p[c]);
            num += s * r[c];
            den += s * s;
        }
    }
    num / den
}

fn run_layer(f: &Fixture, spec: &LayerSpec, x_in: &[f64]) -> (Vec<f64>, f64) {
    let name = |s: &str| format!("layer{}_convnet.conv.{s}", spec.index);
    let n_nodes = f.inputs["pos"].shape[0];
    let (dst, src) = f.edges(); // NequIP: edge_dst = edge_index[0], edge_src = edge_index[1]
    let vecs = f.edge_vectors();
    let sh = SphericalHarmonics::new(2, true, ShNormalization::Component);
    let attrs = sh.compute(&vecs).unwrap();
    let bessel = BesselEmbedding::new(8, R_MAX, 6).unwrap();
    let factor = 2.0 * std::f64::consts::PI / (R_MAX * R_MAX);
    let emb: Vec<f64> = bessel
        .compute(&lengths(&vecs), &bessel.default_frequencies())
        .unwrap()
        .iter()
        .map(|v| v * factor)
        .collect();
    assert!(max_abs_diff(&emb, &f.expected["factor/edge_embedding"].data) < 1e-12);

    let irreps_in: Irreps = spec.irreps_in.parse().unwrap();
    let irreps_conv_out: Irreps = spec.irreps_conv_out.parse().unwrap();
    let din = irreps_in.dim();
    let linear_1 = Linear::new(irreps_in.clone(), irreps_in.clone()).unwrap();
    let x = linear_1
        .compute(x_in, f.weight(&name("linear_1.weight")))
        .unwrap();
    let x: Vec<f64> = x.iter().map(|v| v / 5.052653045655747f64.sqrt()).collect();

    let tp = TensorProduct::nequip_convolution(&irreps_in, &sh.irreps(), &irreps_conv_out).unwrap();
    let w = radial_mlp(
        &emb,
        f.weight(&name("edge_mlp.mlp.0.weight")),
        f.weight(&name("edge_mlp.mlp.2.weight")),
        [8, 16, tp.weight_numel()],
    );
    let mut x_src = vec![0.0; src.len() * din];
    gather(&x, din, &src, &mut x_src).unwrap();
    let edge_features = tp.compute(&x_src, &attrs, Weights::PerSample(&w)).unwrap();
    let dmid = tp.irreps_out().dim();
    let mut summed = vec![0.0; n_nodes * dmid];
    ScatterPlan::new(&dst, n_nodes)
        .unwrap()
        .scatter_sum(&edge_features, dmid, &mut summed)
        .unwrap();
    let linear_2 = Linear::new(tp.irreps_out().simplify(), irreps_conv_out.clone()).unwrap();
    let mut pre_gate = linear_2
        .compute(&summed, f.weight(&name("linear_2.weight")))
        .unwrap();
    if spec.self_connection {
        let sc = TensorProduct::fully_connected(
            irreps_in.clone(),
            "8x0e".parse().unwrap(),
            irreps_conv_out.clone(),
        )
        .unwrap();
        let node_attrs = &f.expected["type_embed/node_attrs"].data;
        let w_sc = f.weight(&name("sc.weight"));
        let s = sc.compute(x_in, node_attrs, Weights::Shared(w_sc)).unwrap();
        pre_gate.iter_mut().zip(s).for_each(|(a, b)| *a += b);
    }
    let reference = &f.expected[&format!("layer{}_convnet/node_features", spec.index)];
    let scale = fit_silu_scale(
        &pre_gate,
        irreps_conv_out.dim(),
        &reference.data,
        reference.shape[1],
    );
    let act = NormalizedActivation::e3nn(Activation::Silu);
    let gate = Gate::new(
        "8x0e".parse().unwrap(),
        &[act],
        spec.gates.parse().unwrap(),
        &[act],
        spec.gated.parse().unwrap(),
    )
    .unwrap();
    assert_eq!(gate.irreps_in(), &irreps_conv_out);
    (gate.compute(&pre_gate).unwrap(), scale)
}

fn assert_layer_matches(f: &Fixture, spec: &LayerSpec, x_in: &[f64]) {
    let (out, scale) = run_layer(f, spec, x_in);
    let reference = &f.expected[&format!("layer{}_convnet/node_features", spec.index)].data;
    // The constant fitted from the reference output equals the one we reproduce from torch's
    // sampler (the exact integral is ~1e-3 away).
    let e3nn = NormalizedActivation::e3nn(Activation::Silu).scale;
    assert!(
        (scale - e3nn).abs() < 1e-11,
        "SiLU constant fitted from e3nn's output {scale} vs reproduced {e3nn}"
    );
    let err = max_abs_diff(&out, reference);
    let magnitude = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        err < 1e-10 * magnitude.max(1.0),
        "layer {} node features: max error {err} (scale {scale})",
        spec.index
    );
}

#[test]
fn first_interaction_layer_matches_nequip() {
    let f = Fixture::load();
    let spec = LayerSpec {
        index: 0,
        irreps_in: "8x0e",
        irreps_conv_out: "24x0e+8x1o+8x2e",
        gates: "16x0e",
        gated: "8x1o+8x2e",
        self_connection: false,
    };
    assert_layer_matches(&f, &spec, &f.expected["type_embed/node_features"].data);
}

#[test]
fn second_interaction_layer_with_self_connection_matches_nequip() {
    let f = Fixture::load();
    let spec = LayerSpec {
        index: 1,
        irreps_in: "8x0e+8x1o+8x2e",
        irreps_conv_out: "40x0e+8x1o+8x1e+8x2o+8x2e",
        gates: "32x0e",
        gated: "8x1e+8x1o+8x2e+8x2o",
        self_connection: true,
    };
    assert_layer_matches(&f, &spec, &f.expected["layer0_convnet/node_features"].data);
}
