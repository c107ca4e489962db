//! One NequIP-style interaction layer on a small random molecule, with forces from the
//! hand-written VJPs and the force-loss mixed derivative from dual numbers.
//!
//! Run: `cargo run -p mlff-e3 --example interaction_layer` (needs no reference data).

use mlff_e3::{
    Activation, BesselEmbedding, Dual, Gate, Irreps, Linear, NormalizedActivation, Scalar,
    ScatterPlan, ShNormalization, SphericalHarmonics, TensorProduct, Weights, edge_vectors,
    edge_vectors_vjp, gather,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The model: a scalar "energy" from one interaction layer with scalar node inputs.
pub(crate) struct Layer {
    sh: SphericalHarmonics,
    bessel: BesselEmbedding,
    tp: TensorProduct,
    linear: Linear,
    gate: Gate,
}

/// Everything the backward pass needs from the forward pass.
struct Tape<T> {
    vecs: Vec<T>,
    lengths: Vec<T>,
    attrs: Vec<T>,
    emb: Vec<T>,
    x_src: Vec<T>,
    summed: Vec<T>,
    pre_gate: Vec<T>,
}

pub(crate) struct Graph {
    origin: Vec<usize>,
    tip: Vec<usize>,
    by_origin: ScatterPlan,
    by_tip: ScatterPlan,
}

impl Layer {
    fn new() -> mlff_e3::Result<Self> {
        let feat: Irreps = "4x0e".parse()?;
        let sh = SphericalHarmonics::new(2, true, ShNormalization::Component);
        let tp =
            TensorProduct::nequip_convolution(&feat, &sh.irreps(), &"4x0e+4x1o+4x2e".parse()?)?;
        let silu = NormalizedActivation::new(Activation::Silu);
        let gate = Gate::new(
            "4x0e".parse()?,
            &[silu],
            "8x0e".parse()?,
            &[silu],
            "4x1o+4x2e".parse()?,
        )?;
        let linear = Linear::new(tp.irreps_out().simplify(), gate.irreps_in().clone())?;
        Ok(Self {
            sh,
            bessel: BesselEmbedding::new(8, 4.0, 6)?,
            tp,
            linear,
            gate,
        })
    }

    /// Energy = Σ over nodes and output scalars of the gated features; the radial weights of
    /// the tensor product are `emb · θ` (θ: 8 × weight_numel).
    fn energy<T: Scalar>(
        &self,
        g: &Graph,
        pos: &[T],
        x: &[T],
        theta: &[T],
        lin_w: &[T],
    ) -> (T, Tape<T>) {
        let e = g.origin.len();
        let mut vecs = vec![T::zero(); e * 3];
        edge_vectors(pos, &g.origin, &g.tip, &mut vecs).unwrap();
        let lengths: Vec<T> = vecs
            .chunks_exact(3)
            .map(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
            .collect();
        let attrs = self.sh.compute(&vecs).unwrap();
        let emb = self
            .bessel
            .compute(&lengths, &self.bessel.default_frequencies())
            .unwrap();
        let wn = self.tp.weight_numel();
        let w: Vec<T> = emb
            .chunks_exact(8)
            .flat_map(|b| (0..wn).map(move |k| (0..8).map(|i| b[i] * theta[i * wn + k]).sum::<T>()))
            .collect();
        let mut x_src = vec![T::zero(); e * 4];
        gather(x, 4, &g.origin, &mut x_src).unwrap();
        let edge_out = self
            .tp
            .compute(&x_src, &attrs, Weights::PerSample(&w))
            .unwrap();
        let n = x.len() / 4;
        let dmid = self.tp.irreps_out().dim();
        let mut summed = vec![T::zero(); n * dmid];
        g.by_tip.scatter_sum(&edge_out, dmid, &mut summed).unwrap();
        let pre_gate = self.linear.compute(&summed, lin_w).unwrap();
        let out = self.gate.compute(&pre_gate).unwrap();
        let dout = self.gate.irreps_out().dim();
        let energy = out
            .chunks_exact(dout)
            .map(|r| r[..4].iter().copied().sum::<T>())
            .sum::<T>();
        (
            energy,
            Tape {
                vecs,
                lengths,
                attrs,
                emb,
                x_src,
                summed,
                pre_gate,
            },
        )
    }

    /// Reverse pass: (∂E/∂positions, ∂E/∂θ).
    fn gradients<T: Scalar>(
        &self,
        g: &Graph,
        tape: &Tape<T>,
        theta: &[T],
        lin_w: &[T],
        n: usize,
    ) -> (Vec<T>, Vec<T>) {
        let e = g.origin.len();
        let (dout, dpre, dmid, wn) = (
            self.gate.irreps_out().dim(),
            self.gate.irreps_in().dim(),
            self.tp.irreps_out().dim(),
            self.tp.weight_numel(),
        );
        let mut g_out = vec![T::zero(); n * dout];
        g_out
            .chunks_exact_mut(dout)
            .for_each(|r| r[..4].fill(T::one()));
        let mut g_pre = vec![T::zero(); n * dpre];
        self.gate
            .backward(&tape.pre_gate, &g_out, &mut g_pre)
            .unwrap();
        let (mut g_sum, mut g_lin) = (vec![T::zero(); n * dmid], vec![T::zero(); lin_w.len()]);
        self.linear
            .backward(&tape.summed, lin_w, &g_pre, &mut g_sum, &mut g_lin)
            .unwrap();
        let mut g_edge = vec![T::zero(); e * dmid];
        gather(&g_sum, dmid, &g.tip, &mut g_edge).unwrap(); // adjoint of the scatter
        let w: Vec<T> = tape
            .emb
            .chunks_exact(8)
            .flat_map(|b| (0..wn).map(move |k| (0..8).map(|i| b[i] * theta[i * wn + k]).sum::<T>()))
            .collect();
        let (mut g_xsrc, mut g_attr, mut g_w) = (
            vec![T::zero(); e * 4],
            vec![T::zero(); e * 9],
            vec![T::zero(); e * wn],
        );
        self.tp
            .backward(
                &tape.x_src,
                &tape.attrs,
                Weights::PerSample(&w),
                &g_edge,
                &mut g_xsrc,
                &mut g_attr,
                &mut g_w,
            )
            .unwrap();
        // w = emb·θ: ∂E/∂θ = embᵀ g_w, ∂E/∂emb = g_w θᵀ
        let mut g_theta = vec![T::zero(); 8 * wn];
        let mut g_emb = vec![T::zero(); e * 8];
        for k in 0..e {
            for i in 0..8 {
                for j in 0..wn {
                    g_theta[i * wn + j] += tape.emb[k * 8 + i] * g_w[k * wn + j];
                    g_emb[k * 8 + i] += g_w[k * wn + j] * theta[i * wn + j];
                }
            }
        }
        let freqs = self.bessel.default_frequencies();
        let (mut g_len, mut g_freq) = (vec![T::zero(); e], vec![T::zero(); 8]);
        self.bessel
            .backward(&tape.lengths, &freqs, &g_emb, &mut g_len, &mut g_freq)
            .unwrap();
        let mut g_vec = vec![T::zero(); e * 3];
        self.sh.vjp(&tape.vecs, &g_attr, &mut g_vec).unwrap();
        for k in 0..e {
            for a in 0..3 {
                g_vec[3 * k + a] += g_len[k] * tape.vecs[3 * k + a] / tape.lengths[k];
            }
        }
        let mut g_pos = vec![T::zero(); n * 3];
        edge_vectors_vjp(&g_vec, &g.by_tip, &g.by_origin, &mut g_pos).unwrap();
        (g_pos, g_theta)
    }
}

/// Analytic vs central-difference values of a few force components and of a few components of
/// the force-loss gradient ∂L/∂θ (L = ½|F|², via forward-over-reverse duals).
pub(crate) struct Check {
    /// `(analytic, finite difference)` for forces on the first atoms.
    pub(crate) forces: Vec<(f64, f64)>,
    /// `(dual, finite difference)` for ∂L/∂θ at the requested indices.
    pub(crate) loss_gradient: Vec<(f64, f64)>,
}

/// Builds a random 6-atom system and layer from `seed` and compares derivatives.
pub(crate) fn derivative_check(seed: u64, theta_indices: &[usize]) -> mlff_e3::Result<Check> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = 6;
    let pos: Vec<f64> = (0..n * 3).map(|_| rng.random_range(-1.5..1.5)).collect();
    let (mut origin, mut tip) = (Vec::new(), Vec::new());
    for i in 0..n {
        for j in 0..n {
            let d2: f64 = (0..3)
                .map(|a| (pos[3 * i + a] - pos[3 * j + a]).powi(2))
                .sum();
            if i != j && d2 < 16.0 {
                origin.push(i);
                tip.push(j);
            }
        }
    }
    let graph = Graph {
        by_origin: ScatterPlan::new(&origin, n)?,
        by_tip: ScatterPlan::new(&tip, n)?,
        origin,
        tip,
    };
    let layer = Layer::new()?;
    let x: Vec<f64> = (0..n * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
    let theta: Vec<f64> = (0..8 * layer.tp.weight_numel())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let lin_w: Vec<f64> = (0..layer.linear.weight_numel())
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();

    let (_, tape) = layer.energy(&graph, &pos, &x, &theta, &lin_w);
    let (grad_pos, _) = layer.gradients(&graph, &tape, &theta, &lin_w, n);
    let h = 1e-5;
    let central = |f: &dyn Fn(&[f64]) -> f64, at: &[f64], k: usize| {
        let (mut p, mut m) = (at.to_vec(), at.to_vec());
        p[k] += h;
        m[k] -= h;
        (f(&p) - f(&m)) / (2.0 * h)
    };
    let energy = |p: &[f64]| layer.energy(&graph, p, &x, &theta, &lin_w).0;
    let forces = (0..6)
        .map(|k| (-grad_pos[k], -central(&energy, &pos, k)))
        .collect();

    // Force loss L = ½|F|², F = -∇E: ∂L/∂θ = -d/dε ∇θE(r + εF), obtained by running the same
    // forward+backward over dual numbers whose position tangent is F.
    let dual_pos: Vec<Dual<f64>> = pos
        .iter()
        .zip(&grad_pos)
        .map(|(&p, &g)| Dual::new(p, -g))
        .collect();
    let c = |a: &[f64]| a.iter().map(|&y| Dual::constant(y)).collect::<Vec<_>>();
    let (_, dual_tape) = layer.energy(&graph, &dual_pos, &c(&x), &c(&theta), &c(&lin_w));
    let (_, dual_theta) = layer.gradients(&graph, &dual_tape, &c(&theta), &c(&lin_w), n);
    let loss = |theta: &[f64]| {
        let (_, tape) = layer.energy(&graph, &pos, &x, theta, &lin_w);
        let (g, _) = layer.gradients(&graph, &tape, theta, &lin_w, n);
        0.5 * g.iter().map(|v| v * v).sum::<f64>()
    };
    let loss_gradient = theta_indices
        .iter()
        .map(|&k| (-dual_theta[k].eps, central(&loss, &theta, k)))
        .collect();
    Ok(Check {
        forces,
        loss_gradient,
    })
}

fn main() -> mlff_e3::Result<()> {
    let check = derivative_check(42, &[3, 17, 40])?;
    for (k, (a, fd)) in check.forces.iter().enumerate() {
        println!("F[{k}]: from VJPs {a:.10}, finite difference {fd:.10}");
    }
    for (a, fd) in &check.loss_gradient {
        println!("∂L/∂θ: dual {a:.10}, finite difference {fd:.10}");
    }
    Ok(())
}
