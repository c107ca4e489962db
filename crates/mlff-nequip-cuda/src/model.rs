//! A NequIP model's operations and weights on a [`Backend`], and its energy + force passes.

use mlff_cuda::{
    Backend, DeviceReal, GatePlan, GemmShape, LinearDirection, LinearPlan, RadialPlan, ShPlan,
    Transpose, UvuPlan,
};
use mlff_e3::{Irrep, Irreps, Linear, MulIrrep, Parity};
use mlff_nequip::{AtomicGraph, ConvLayer, Nequip, Prediction, Predictor};

use std::sync::Arc;

use crate::error::{DeviceModelError, Result};
use crate::graph::DeviceGraph;

/// One dense layer of the radial MLP: `x ↦ α x W` (`W`: `fan_in × fan_out`).
struct DenseLayer<B: Backend, T: DeviceReal> {
    weights: B::Buf<T>,
    fan_in: usize,
    fan_out: usize,
    alpha: f64,
}

/// One interaction layer's tables and weights.
struct DeviceLayer<B: Backend, T: DeviceReal> {
    dims: LayerDims,
    linear_1: (B::Linear<T>, B::Buf<T>),
    radial: Vec<DenseLayer<B, T>>,
    tp: B::Uvu<T>,
    linear_2: (B::Linear<T>, B::Buf<T>),
    /// Self-connection as one linear map per atom type.
    sc: Option<(B::Linear<T>, B::Buf<T>)>,
    gate: B::Gate<T>,
    resnet: bool,
}

#[derive(Clone, Copy)]
struct LayerDims {
    /// Features in (and after `linear_1`).
    input: usize,
    /// Tensor-product output.
    message: usize,
    /// Gate input.
    gate_in: usize,
    /// Layer output.
    output: usize,
    /// Per-edge weights.
    weights: usize,
}

/// What the backward pass keeps of a layer's forward pass.
struct LayerTape<B: Backend, T: DeviceReal> {
    /// `linear_1` output gathered onto edges.
    h_edges: B::Buf<T>,
    /// SiLU slopes of the MLP's hidden layers.
    mlp_slopes: Vec<B::Buf<T>>,
    /// Per-edge tensor-product weights.
    w: B::Buf<T>,
    pre_gate: B::Buf<T>,
}

/// Per-edge tensor-product weights and the SiLU slopes of the MLP's hidden layers.
struct RadialOutput<B: Backend, T: DeviceReal> {
    w: B::Buf<T>,
    slopes: Vec<B::Buf<T>>,
}

/// Energies (per frame) and forces (`atoms × 3`) left on the backend.
pub struct DeviceOutput<B: Backend, T: DeviceReal> {
    /// Per-frame energies without the per-type shifts (see [`DeviceNequip::download`]).
    pub energies_unshifted: B::Buf<T>,
    /// Forces, `atoms × 3`.
    pub forces: B::Buf<T>,
}

/// A [`Nequip`] model put on a backend in precision `T`: weights and tables uploaded once,
/// energies and forces computed with every intermediate on the backend.
pub struct DeviceNequip<B: Backend, T: DeviceReal> {
    backend: Arc<B>,
    model: Nequip,
    sh: ShPlan,
    radial: RadialPlan,
    frequencies: B::Buf<T>,
    embed: B::Buf<T>,
    embed_width: usize,
    layers: Vec<DeviceLayer<B, T>>,
    readout: (B::Linear<T>, B::Buf<T>),
    readout_width: usize,
}

fn reals<T: DeviceReal>(values: &[f64]) -> Vec<T> {
    values.iter().map(|&v| T::from_f64(v)).collect()
}

impl<B: Backend, T: DeviceReal> DeviceNequip<B, T> {
    /// Uploads `model`'s weights and operation tables to `backend`.
    pub fn new(backend: Arc<B>, model: &Nequip) -> Result<Self> {
        let b = &*backend;
        let arch = model.architecture();
        let params = model.params();
        let seg = |id| arch.layout.slice(params, id);
        let upload = |v: &[f64]| b.upload(&reals::<T>(v));
        let sh = ShPlan::new(arch.sh.lmax(), true)?;
        let radial = RadialPlan::new(
            arch.bessel.num_basis(),
            arch.bessel.r_max(),
            model.config().polynomial_cutoff_p,
        )?;
        let layers = arch
            .layers
            .iter()
            .map(|layer| upload_layer(b, model, layer))
            .collect::<Result<_>>()?;
        let readout = upload_readout(b, model)?;
        let frequencies = upload(seg(arch.bessel_id))?;
        let embed = upload(seg(arch.embed_id))?;
        Ok(Self {
            backend: backend.clone(),
            model: model.clone(),
            sh,
            radial,
            frequencies,
            embed,
            embed_width: arch.embed_width,
            layers,
            readout,
            readout_width: arch.readout_width,
        })
    }

    /// The model this was built from.
    pub fn model(&self) -> &Nequip {
        &self.model
    }
    /// The executor.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Uploads the tables of a batch built by [`Nequip::graph`].
    pub fn upload_graph(&self, graph: &AtomicGraph) -> Result<DeviceGraph<B>> {
        let arch = self.model.architecture();
        let shifts = arch.layout.slice(self.model.params(), arch.shifts_id);
        DeviceGraph::new(&*self.backend, graph, arch.num_types, shifts)
    }

    /// Energies and forces of every frame of `graph` at `positions` (`atoms × 3`, Å, on the
    /// backend); nothing leaves the backend.
    pub fn energies_forces(
        &self,
        graph: &DeviceGraph<B>,
        positions: &B::Buf<T>,
    ) -> Result<DeviceOutput<B, T>> {
        let b = &*self.backend;
        let (n, e) = (graph.num_atoms, graph.num_edges);
        let mut vecs = b.zeros(3 * e)?;
        b.edge_vectors(&graph.edges, positions, &mut vecs)?;
        let mut lengths = b.zeros(e)?;
        b.edge_lengths(&vecs, &mut lengths)?;
        let mut sh = b.zeros(e * self.sh.dim())?;
        b.sh_forward(&self.sh, &vecs, &mut sh)?;
        let mut emb = b.zeros(e * self.radial.num_basis())?;
        b.bessel_forward(&self.radial, &lengths, &self.frequencies, &mut emb)?;

        let mut x = b.zeros(n * self.embed_width)?;
        b.gather(&graph.types, &self.embed, self.embed_width, &mut x)?;
        let mut tapes = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let (out, tape) = self.layer_forward(layer, graph, &x, &sh, &emb)?;
            tapes.push(tape);
            x = out;
        }
        let mut atom_energies = b.zeros(n)?;
        let (plan, w) = &self.readout;
        let sets = Some(&graph.types);
        b.linear(
            plan,
            LinearDirection::Forward,
            &x,
            w,
            sets,
            &mut atom_energies,
        )?;
        let mut energies = b.zeros(graph.num_frames)?;
        b.scatter_sum(&graph.into_frames, &atom_energies, 1, &mut energies)?;

        // Forces: the reverse pass of Σ_f E_f with respect to positions.
        let mut g_x = b.zeros(n * self.readout_width)?;
        let ones = b.upload(&vec![T::one(); n])?;
        b.linear(plan, LinearDirection::Transpose, &ones, w, sets, &mut g_x)?;
        let mut g_sh = b.zeros(e * self.sh.dim())?;
        let mut g_emb = b.zeros(e * self.radial.num_basis())?;
        for (layer, tape) in self.layers.iter().zip(&tapes).rev() {
            g_x = self.layer_backward(layer, graph, tape, &sh, g_x, &mut g_sh, &mut g_emb)?;
        }
        let mut g_len = b.zeros(e)?;
        let mut g_freq = b.zeros(self.radial.num_basis())?;
        let mut scratch = b.zeros(e * self.radial.num_basis())?;
        b.bessel_backward(
            &self.radial,
            &lengths,
            &self.frequencies,
            &g_emb,
            &mut g_len,
            &mut g_freq,
            &mut scratch,
        )?;
        let mut g_vec = b.zeros(3 * e)?;
        b.sh_vjp(&self.sh, &vecs, &g_sh, &mut g_vec)?;
        b.edge_lengths_vjp(&vecs, &lengths, &g_len, &mut g_vec)?;
        let mut g_pos = b.zeros(3 * n)?;
        b.edge_vectors_vjp(&graph.edges, &g_vec, &mut g_pos)?;
        let mut forces = b.zeros(3 * n)?;
        b.add_scaled(-1.0, &g_pos, &mut forces)?;
        Ok(DeviceOutput {
            energies_unshifted: energies,
            forces,
        })
    }

    /// Copies an output to the host (f64), adding each frame's per-type energy shifts.
    pub fn download(
        &self,
        graph: &DeviceGraph<B>,
        output: &DeviceOutput<B, T>,
    ) -> Result<Prediction> {
        let b = &*self.backend;
        let energies = b.download(&output.energies_unshifted)?;
        Ok(Prediction {
            energies: energies
                .iter()
                .zip(&graph.frame_shifts)
                .map(|(e, s)| e.value() + s)
                .collect(),
            forces: b
                .download(&output.forces)?
                .iter()
                .map(|f| f.value())
                .collect(),
        })
    }

    /// Host convenience: uploads `graph` and its positions, runs, downloads.
    pub fn predict(&self, graph: &AtomicGraph) -> Result<Prediction> {
        let device_graph = self.upload_graph(graph)?;
        let positions = self.backend.upload(&reals::<T>(graph.positions()))?;
        let out = self.energies_forces(&device_graph, &positions)?;
        self.download(&device_graph, &out)
    }

    fn layer_forward(
        &self,
        layer: &DeviceLayer<B, T>,
        graph: &DeviceGraph<B>,
        x: &B::Buf<T>,
        sh: &B::Buf<T>,
        emb: &B::Buf<T>,
    ) -> Result<(B::Buf<T>, LayerTape<B, T>)> {
        let b = &*self.backend;
        let (n, e, d) = (graph.num_atoms, graph.num_edges, layer.dims);
        let mut h = b.zeros(n * d.input)?;
        b.linear(
            &layer.linear_1.0,
            LinearDirection::Forward,
            x,
            &layer.linear_1.1,
            None,
            &mut h,
        )?;
        let mut h_edges = b.zeros(e * d.input)?;
        b.gather(&graph.from_neighbors, &h, d.input, &mut h_edges)?;
        let RadialOutput {
            w,
            slopes: mlp_slopes,
        } = self.radial_forward(layer, emb, e)?;
        let mut messages = b.zeros(e * d.message)?;
        b.tp_forward(&layer.tp, &h_edges, sh, &w, &mut messages)?;
        let mut aggregated = b.zeros(n * d.message)?;
        b.scatter_sum(&graph.into_centers, &messages, d.message, &mut aggregated)?;
        let mut pre_gate = b.zeros(n * d.gate_in)?;
        let (plan, wl) = &layer.linear_2;
        b.linear(
            plan,
            LinearDirection::Forward,
            &aggregated,
            wl,
            None,
            &mut pre_gate,
        )?;
        if let Some((plan, ws)) = &layer.sc {
            let mut s = b.zeros(n * d.gate_in)?;
            b.linear(
                plan,
                LinearDirection::Forward,
                x,
                ws,
                Some(&graph.types),
                &mut s,
            )?;
            b.add_scaled(1.0, &s, &mut pre_gate)?;
        }
        let mut out = b.zeros(n * d.output)?;
        b.gate_forward(&layer.gate, &pre_gate, &mut out)?;
        if layer.resnet {
            b.add_scaled(1.0, x, &mut out)?;
        }
        let tape = LayerTape {
            h_edges,
            mlp_slopes,
            w,
            pre_gate,
        };
        Ok((out, tape))
    }

    /// The radial MLP on `rows` edges: its output and the hidden layers' SiLU slopes.
    fn radial_forward(
        &self,
        layer: &DeviceLayer<B, T>,
        emb: &B::Buf<T>,
        rows: usize,
    ) -> Result<RadialOutput<B, T>> {
        let b = &*self.backend;
        let mut hidden: Option<B::Buf<T>> = None;
        let mut slopes = Vec::new();
        for (i, dense) in layer.radial.iter().enumerate() {
            let shape = GemmShape::plain(rows, dense.fan_out, dense.fan_in, dense.alpha);
            let mut z = b.zeros(rows * dense.fan_out)?;
            b.gemm(
                shape,
                hidden.as_ref().unwrap_or(emb),
                &dense.weights,
                &mut z,
            )?;
            if i + 1 < layer.radial.len() {
                let mut slope = b.zeros(rows * dense.fan_out)?;
                b.silu_with_slope(&mut z, &mut slope)?;
                slopes.push(slope);
            }
            hidden = Some(z);
        }
        let w = hidden
            .ok_or_else(|| DeviceModelError::Unsupported("a radial MLP without layers".into()))?;
        Ok(RadialOutput { w, slopes })
    }

    /// Reverse pass of one layer: returns the gradient of its input; adds the edge-harmonic
    /// and edge-embedding gradients into `g_sh` and `g_emb`.
    #[allow(clippy::too_many_arguments)]
    fn layer_backward(
        &self,
        layer: &DeviceLayer<B, T>,
        graph: &DeviceGraph<B>,
        tape: &LayerTape<B, T>,
        sh: &B::Buf<T>,
        g_out: B::Buf<T>,
        g_sh: &mut B::Buf<T>,
        g_emb: &mut B::Buf<T>,
    ) -> Result<B::Buf<T>> {
        let b = &*self.backend;
        let (n, e, d) = (graph.num_atoms, graph.num_edges, layer.dims);
        let mut g_pre = b.zeros(n * d.gate_in)?;
        b.gate_backward(&layer.gate, &tape.pre_gate, &g_out, &mut g_pre)?;
        let mut g_x = b.zeros(n * d.input)?;
        if layer.resnet {
            b.add_scaled(1.0, &g_out, &mut g_x)?;
        }
        if let Some((plan, ws)) = &layer.sc {
            let mut g_sc = b.zeros(n * d.input)?;
            b.linear(
                plan,
                LinearDirection::Transpose,
                &g_pre,
                ws,
                Some(&graph.types),
                &mut g_sc,
            )?;
            b.add_scaled(1.0, &g_sc, &mut g_x)?;
        }
        let mut g_agg = b.zeros(n * d.message)?;
        let (plan, wl) = &layer.linear_2;
        b.linear(
            plan,
            LinearDirection::Transpose,
            &g_pre,
            wl,
            None,
            &mut g_agg,
        )?;
        let mut g_msg = b.zeros(e * d.message)?;
        b.gather(&graph.from_centers, &g_agg, d.message, &mut g_msg)?;
        let mut g_he = b.zeros(e * d.input)?;
        let mut g_sh_layer = b.zeros(e * self.sh.dim())?;
        let mut g_w = b.zeros(e * d.weights)?;
        b.tp_backward(
            &layer.tp,
            &tape.h_edges,
            sh,
            &tape.w,
            &g_msg,
            &mut g_he,
            &mut g_sh_layer,
            &mut g_w,
        )?;
        b.add_scaled(1.0, &g_sh_layer, g_sh)?;
        let g_emb_layer = self.radial_backward(layer, tape, g_w, e)?;
        b.add_scaled(1.0, &g_emb_layer, g_emb)?;
        let mut g_h = b.zeros(n * d.input)?;
        b.scatter_sum(&graph.into_neighbors, &g_he, d.input, &mut g_h)?;
        let mut g_lin = b.zeros(n * d.input)?;
        let (plan, wl) = &layer.linear_1;
        b.linear(plan, LinearDirection::Transpose, &g_h, wl, None, &mut g_lin)?;
        b.add_scaled(1.0, &g_lin, &mut g_x)?;
        Ok(g_x)
    }

    /// Gradient of the MLP input (the edge embedding) from that of its output.
    fn radial_backward(
        &self,
        layer: &DeviceLayer<B, T>,
        tape: &LayerTape<B, T>,
        g_out: B::Buf<T>,
        rows: usize,
    ) -> Result<B::Buf<T>> {
        let b = &*self.backend;
        let mut g = g_out;
        for (i, dense) in layer.radial.iter().enumerate().rev() {
            // ∂x = α ∂y Wᵀ
            let shape = GemmShape {
                trans_b: Transpose::Yes,
                ..GemmShape::plain(rows, dense.fan_in, dense.fan_out, dense.alpha)
            };
            let mut g_in = b.zeros(rows * dense.fan_in)?;
            b.gemm(shape, &g, &dense.weights, &mut g_in)?;
            if i > 0 {
                b.mul_assign(&tape.mlp_slopes[i - 1], &mut g_in)?;
            }
            g = g_in;
        }
        Ok(g)
    }
}

fn upload_layer<B: Backend, T: DeviceReal>(
    b: &B,
    model: &Nequip,
    layer: &ConvLayer,
) -> Result<DeviceLayer<B, T>> {
    let arch = model.architecture();
    let params = model.params();
    let seg = |id| arch.layout.slice(params, id);
    let upload = |v: &[f64]| b.upload(&reals::<T>(v));
    let linear = |l: &Linear, scale: f64, sets: usize, w: &[f64]| -> Result<_> {
        Ok((
            b.upload_linear(&LinearPlan::new(l, scale, sets)?)?,
            upload(w)?,
        ))
    };
    let dims = layer.radial.dims();
    let radial = layer
        .ids
        .radial
        .iter()
        .enumerate()
        .map(|(k, &id)| {
            // nequip scales the edge embedding by 2π/r_max² before the MLP: folded into α₀.
            let factor = if k == 0 { arch.edge_factor } else { 1.0 };
            Ok(DenseLayer {
                weights: upload(seg(id))?,
                fan_in: dims[k],
                fan_out: dims[k + 1],
                alpha: layer.radial.alphas()[k] * factor,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let sc = match (&layer.sc, layer.ids.sc) {
        (Some(sc), Some(id)) => {
            let eff = sc.effective_weights(seg(id), seg(arch.embed_id));
            Some(linear(sc.linear(), 1.0, arch.num_types, &eff)?)
        }
        _ => None,
    };
    Ok(DeviceLayer {
        dims: LayerDims {
            input: layer.irreps_in.dim(),
            message: layer.tp.irreps_out().dim(),
            gate_in: layer.gate.irreps_in().dim(),
            output: layer.gate.irreps_out().dim(),
            weights: layer.tp.weight_numel(),
        },
        // nequip's 1/√avg_num_neighbors on the messages is linear: folded into linear_1.
        linear_1: linear(
            &layer.linear_1,
            arch.message_norm,
            1,
            seg(layer.ids.linear_1),
        )?,
        radial,
        tp: b.upload_uvu(&UvuPlan::new(&layer.tp)?)?,
        linear_2: linear(&layer.linear_2, 1.0, 1, seg(layer.ids.linear_2))?,
        sc,
        gate: b.upload_gate(&GatePlan::from_gate(&layer.gate)?)?,
        resnet: layer.resnet,
    })
}

/// The readout `E_atom = scale[type] · w·x/√width` as a linear map with one weight vector per
/// type (the shifts are added per frame on the host).
fn upload_readout<B: Backend, T: DeviceReal>(
    b: &B,
    model: &Nequip,
) -> Result<(B::Linear<T>, B::Buf<T>)> {
    let arch = model.architecture();
    let params = model.params();
    let seg = |id| arch.layout.slice(params, id);
    let width = arch.readout_width;
    let even = Irrep::new(0, Parity::Even);
    let linear = Linear::new(
        Irreps::new(vec![MulIrrep::new(width, even)]),
        Irreps::new(vec![MulIrrep::new(1, even)]),
    )
    .map_err(mlff_cuda::CudaError::from)?;
    let path_weight = linear.paths().first().map_or(1.0, |p| p.path_weight);
    let alpha = 1.0 / (width as f64).sqrt();
    let w = seg(arch.readout_id);
    let per_type: Vec<f64> = seg(arch.scales_id)
        .iter()
        .flat_map(|&s| w.iter().map(move |&wc| s * wc))
        .collect();
    let plan = LinearPlan::new(&linear, alpha / path_weight, arch.num_types)?;
    Ok((b.upload_linear(&plan)?, b.upload(&reals::<T>(&per_type))?))
}

impl<B, T> Predictor for DeviceNequip<B, T>
where
    B: Backend,
    T: DeviceReal,
    Self: Send + Sync,
{
    fn model(&self) -> &Nequip {
        &self.model
    }
    fn predict_graph(&self, graph: &AtomicGraph) -> mlff_nequip::Result<Prediction> {
        self.predict(graph)
            .map_err(|e| mlff_nequip::NequipError::Executor {
                executor: self.backend.describe(),
                message: e.to_string(),
            })
    }
    fn executor(&self) -> String {
        self.backend.describe()
    }
}
