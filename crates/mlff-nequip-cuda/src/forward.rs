//! The energy pass on the executor, keeping what the reverse pass needs.

use mlff_cuda::{Backend, DeviceReal, GemmShape, LinearDirection};

use crate::error::{DeviceModelError, Result};
use crate::graph::DeviceGraph;
use crate::model::{DenseLayer, DeviceLayer, DeviceNequip};

/// What the reverse pass needs of a forward pass; everything stays on the executor.
pub struct DeviceTape<B: Backend, T: DeviceReal> {
    pub(crate) vecs: B::Buf<T>,
    pub(crate) lengths: B::Buf<T>,
    pub(crate) sh: B::Buf<T>,
    pub(crate) emb: B::Buf<T>,
    pub(crate) layers: Vec<LayerTape<B, T>>,
    /// Final node features (readout input).
    pub(crate) features: B::Buf<T>,
}

/// One interaction layer's intermediates.
pub(crate) struct LayerTape<B: Backend, T: DeviceReal> {
    /// Layer input.
    pub(crate) x_in: B::Buf<T>,
    /// `linear_1` output gathered onto edges.
    pub(crate) h_edges: B::Buf<T>,
    /// Inputs of the radial MLP's layers after the first (hidden activations).
    pub(crate) mlp_hidden: Vec<B::Buf<T>>,
    /// SiLU slopes of the MLP's hidden layers.
    pub(crate) mlp_slopes: Vec<B::Buf<T>>,
    /// Per-edge tensor-product weights.
    pub(crate) w: B::Buf<T>,
    /// Messages summed per centre (`linear_2` input).
    pub(crate) aggregated: B::Buf<T>,
    pub(crate) pre_gate: B::Buf<T>,
}

/// The radial MLP's output with its hidden activations and their slopes.
struct RadialOutput<B: Backend, T: DeviceReal> {
    w: B::Buf<T>,
    hidden: Vec<B::Buf<T>>,
    slopes: Vec<B::Buf<T>>,
}

impl<B: Backend, T: DeviceReal> DeviceNequip<B, T> {
    /// Per-frame energies without the per-type shifts, and the tape of the pass.
    pub fn forward(
        &self,
        graph: &DeviceGraph<B>,
        positions: &B::Buf<T>,
    ) -> Result<(B::Buf<T>, DeviceTape<B, T>)> {
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
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let (out, tape) = self.layer_forward(layer, graph, x, &sh, &emb)?;
            layers.push(tape);
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
        let tape = DeviceTape {
            vecs,
            lengths,
            sh,
            emb,
            layers,
            features: x,
        };
        Ok((energies, tape))
    }

    fn layer_forward(
        &self,
        layer: &DeviceLayer<B, T>,
        graph: &DeviceGraph<B>,
        x_in: B::Buf<T>,
        sh: &B::Buf<T>,
        emb: &B::Buf<T>,
    ) -> Result<(B::Buf<T>, LayerTape<B, T>)> {
        let b = &*self.backend;
        let (n, e, d) = (graph.num_atoms, graph.num_edges, layer.dims);
        let forward = LinearDirection::Forward;
        let mut h = b.zeros(n * d.input)?;
        let (plan, wl) = &layer.linear_1;
        b.linear(plan, forward, &x_in, wl, None, &mut h)?;
        let mut h_edges = b.zeros(e * d.input)?;
        b.gather(&graph.from_neighbors, &h, d.input, &mut h_edges)?;
        let radial = self.radial_forward(layer, emb, e)?;
        let mut messages = b.zeros(e * d.message)?;
        b.tp_forward(&layer.tp, &h_edges, sh, &radial.w, &mut messages)?;
        let mut aggregated = b.zeros(n * d.message)?;
        b.scatter_sum(&graph.into_centers, &messages, d.message, &mut aggregated)?;
        let mut pre_gate = b.zeros(n * d.gate_in)?;
        let (plan, wl) = &layer.linear_2;
        b.linear(plan, forward, &aggregated, wl, None, &mut pre_gate)?;
        if let Some((plan, ws)) = &layer.sc {
            let mut s = b.zeros(n * d.gate_in)?;
            b.linear(plan, forward, &x_in, ws, Some(&graph.types), &mut s)?;
            b.add_scaled(1.0, &s, &mut pre_gate)?;
        }
        let mut out = b.zeros(n * d.output)?;
        b.gate_forward(&layer.gate, &pre_gate, &mut out)?;
        if layer.resnet {
            b.add_scaled(1.0, &x_in, &mut out)?;
        }
        let tape = LayerTape {
            x_in,
            h_edges,
            mlp_hidden: radial.hidden,
            mlp_slopes: radial.slopes,
            w: radial.w,
            aggregated,
            pre_gate,
        };
        Ok((out, tape))
    }

    /// The radial MLP on `rows` edges.
    fn radial_forward(
        &self,
        layer: &DeviceLayer<B, T>,
        emb: &B::Buf<T>,
        rows: usize,
    ) -> Result<RadialOutput<B, T>> {
        let b = &*self.backend;
        let (output, hidden_layers) = layer
            .radial
            .split_last()
            .ok_or_else(|| DeviceModelError::Unsupported("a radial MLP without layers".into()))?;
        // `x · αW` of one layer on the previous layer's output (the embedding for the first).
        let dense_layer = |dense: &DenseLayer<B, T>, input: &B::Buf<T>| -> Result<B::Buf<T>> {
            let shape = GemmShape::plain(rows, dense.fan_out, dense.fan_in, dense.alpha);
            let mut z = b.zeros(rows * dense.fan_out)?;
            b.gemm(shape, input, &dense.weights, &mut z)?;
            Ok(z)
        };
        let (mut hidden, mut slopes) = (Vec::new(), Vec::new());
        for dense in hidden_layers {
            let mut z = dense_layer(dense, hidden.last().unwrap_or(emb))?;
            let mut slope = b.zeros(rows * dense.fan_out)?;
            b.silu_with_slope(&mut z, &mut slope)?;
            slopes.push(slope);
            hidden.push(z);
        }
        let w = dense_layer(output, hidden.last().unwrap_or(emb))?;
        Ok(RadialOutput { w, hidden, slopes })
    }
}
