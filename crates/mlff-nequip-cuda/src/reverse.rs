//! The reverse pass on the executor: gradients of `Σ_f g_f E_f` with respect to positions and,
//! on request, to every parameter.
//!
//! Run on dual numbers with a position tangent `v`, the parameter gradient's tangent is
//! `∂/∂θ (∇_r E · v)`, the force-loss term of the training gradient (mlff-nequip's design B).
//! Parameter gradients are computed on the executor; each segment is copied to the host once
//! per pass (the self-connection's and readout's small per-type contractions finish there).

use mlff_cuda::{Backend, DeviceReal, GemmShape, LinearDirection, Transpose};
use mlff_nequip::ConvLayer;
use mlff_nequip::params::SegmentId;

use crate::error::Result;
use crate::forward::{DeviceTape, LayerTape};
use crate::graph::DeviceGraph;
use crate::model::{DeviceLayer, DeviceNequip};

/// Gradients of a reverse pass.
pub struct DeviceGradients<B: Backend, T: DeviceReal> {
    /// With respect to positions (`atoms × 3`), on the executor; forces are its negative.
    pub positions: B::Buf<T>,
    /// With respect to every parameter (the model's flat layout, non-trainable entries zero),
    /// on the host; `None` unless requested.
    pub params: Option<Vec<T>>,
}

/// The host-side parameter gradient being filled.
struct ParamGrads<T> {
    values: Vec<T>,
    /// `∂/∂ attrs_by_type` from the self-connections (joins the embedding table's gradient).
    attrs: Vec<T>,
}

impl<B: Backend, T: DeviceReal> DeviceNequip<B, T> {
    /// Gradients of `Σ_f grad_energies[f] · E_f` (per-type shifts do not depend on anything
    /// trainable) from a [`DeviceNequip::forward`] tape.
    pub fn backward(
        &self,
        graph: &DeviceGraph<B>,
        tape: &DeviceTape<B, T>,
        grad_energies: &B::Buf<T>,
        with_params: bool,
    ) -> Result<DeviceGradients<B, T>> {
        let b = &*self.backend;
        let arch = self.model.architecture();
        let (n, e) = (graph.num_atoms, graph.num_edges);
        let mut gp = with_params.then(|| ParamGrads {
            values: vec![T::zero(); arch.layout.len()],
            attrs: vec![T::zero(); arch.num_types * arch.embed_width],
        });

        let mut g_atom = b.zeros(n)?;
        b.gather(&graph.atom_frames, grad_energies, 1, &mut g_atom)?;
        let (plan, w) = &self.readout;
        let types = Some(&graph.types);
        let mut g_x = b.zeros(n * self.readout_width)?;
        b.linear(
            plan,
            LinearDirection::Transpose,
            &g_atom,
            w,
            types,
            &mut g_x,
        )?;
        if let Some(gp) = gp.as_mut() {
            self.readout_weight_grad(graph, &tape.features, &g_atom, gp)?;
        }

        let mut g_sh = b.zeros(e * self.sh.dim())?;
        let mut g_emb = b.zeros(e * self.radial.num_basis())?;
        let layers = self.layers.iter().zip(&arch.layers).zip(&tape.layers);
        for ((layer, conv), lt) in layers.rev() {
            let sinks = (&mut g_sh, &mut g_emb);
            g_x = self.layer_backward(
                layer, conv, graph, lt, &tape.sh, &tape.emb, g_x, sinks, &mut gp,
            )?;
        }

        let mut g_len = b.zeros(e)?;
        let mut g_freq = b.zeros(self.radial.num_basis())?;
        let mut scratch = b.zeros(e * self.radial.num_basis())?;
        b.bessel_backward(
            &self.radial,
            &tape.lengths,
            &self.frequencies,
            &g_emb,
            &mut g_len,
            &mut g_freq,
            &mut scratch,
        )?;
        let mut g_vec = b.zeros(3 * e)?;
        b.sh_vjp(&self.sh, &tape.vecs, &g_sh, &mut g_vec)?;
        b.edge_lengths_vjp(&tape.vecs, &tape.lengths, &g_len, &mut g_vec)?;
        let mut g_pos = b.zeros(3 * n)?;
        b.edge_vectors_vjp(&graph.edges, &g_vec, &mut g_pos)?;

        let params = match gp {
            None => None,
            Some(mut gp) => {
                self.store(&mut gp, arch.bessel_id, &g_freq)?;
                // Type embedding: first-layer features and node attributes are its rows.
                let mut g_table = b.zeros(arch.num_types * self.embed_width)?;
                b.scatter_sum(&graph.by_type, &g_x, self.embed_width, &mut g_table)?;
                self.store(&mut gp, arch.embed_id, &g_table)?;
                let table = &mut gp.values[arch.layout.segment(arch.embed_id).range()];
                table.iter_mut().zip(&gp.attrs).for_each(|(t, &a)| *t += a);
                let mask = arch.layout.trainable_mask();
                gp.values
                    .iter_mut()
                    .zip(mask)
                    .filter(|(_, trainable)| !trainable)
                    .for_each(|(g, _)| *g = T::zero());
                Some(gp.values)
            }
        };
        Ok(DeviceGradients {
            positions: g_pos,
            params,
        })
    }

    /// Copies a segment's gradient from the executor into the host vector.
    fn store(&self, gp: &mut ParamGrads<T>, id: SegmentId, grad: &B::Buf<T>) -> Result<()> {
        let range = self.model.architecture().layout.segment(id).range();
        gp.values[range].copy_from_slice(&self.backend.download(grad)?);
        Ok(())
    }

    /// Readout weights: `E_atom = scale[type] · (w · x)/√width`, so the per-type weight
    /// gradients (summed per type on the executor) contract with the scales.
    fn readout_weight_grad(
        &self,
        graph: &DeviceGraph<B>,
        features: &B::Buf<T>,
        g_atom: &B::Buf<T>,
        gp: &mut ParamGrads<T>,
    ) -> Result<()> {
        let b = &*self.backend;
        let arch = self.model.architecture();
        let width = self.readout_width;
        let mut per_type = b.zeros(arch.num_types * width)?;
        let (plan, _) = &self.readout;
        b.linear_weight_grad(plan, features, g_atom, Some(&graph.types), &mut per_type)?;
        let per_type = b.download(&per_type)?;
        let scales = arch.layout.slice(&self.host_params, arch.scales_id);
        let g = &mut gp.values[arch.layout.segment(arch.readout_id).range()];
        for (row, &s) in per_type.chunks_exact(width).zip(scales) {
            g.iter_mut().zip(row).for_each(|(gc, &r)| *gc += s * r);
        }
        Ok(())
    }

    /// Reverse pass of one layer: returns the gradient of its input; adds the edge-harmonic
    /// and edge-embedding gradients into `sinks` and, when `gp` is given, writes the layer's
    /// weight gradients.
    #[allow(clippy::too_many_arguments)]
    fn layer_backward(
        &self,
        layer: &DeviceLayer<B, T>,
        conv: &ConvLayer,
        graph: &DeviceGraph<B>,
        tape: &LayerTape<B, T>,
        sh: &B::Buf<T>,
        emb: &B::Buf<T>,
        g_out: B::Buf<T>,
        (g_sh, g_emb): (&mut B::Buf<T>, &mut B::Buf<T>),
        gp: &mut Option<ParamGrads<T>>,
    ) -> Result<B::Buf<T>> {
        let b = &*self.backend;
        let (n, e, d) = (graph.num_atoms, graph.num_edges, layer.dims);
        let transpose = LinearDirection::Transpose;
        let mut g_pre = b.zeros(n * d.gate_in)?;
        b.gate_backward(&layer.gate, &tape.pre_gate, &g_out, &mut g_pre)?;
        let mut g_x = b.zeros(n * d.input)?;
        if layer.resnet {
            b.add_scaled(1.0, &g_out, &mut g_x)?;
        }
        if let Some((plan, ws)) = &layer.sc {
            let mut g_sc = b.zeros(n * d.input)?;
            b.linear(plan, transpose, &g_pre, ws, Some(&graph.types), &mut g_sc)?;
            b.add_scaled(1.0, &g_sc, &mut g_x)?;
        }
        let mut g_agg = b.zeros(n * d.message)?;
        let (plan, wl) = &layer.linear_2;
        b.linear(plan, transpose, &g_pre, wl, None, &mut g_agg)?;
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
        let g_emb_layer = self.radial_backward(layer, conv, tape, emb, g_w, e, gp)?;
        b.add_scaled(1.0, &g_emb_layer, g_emb)?;
        let mut g_h = b.zeros(n * d.input)?;
        b.scatter_sum(&graph.into_neighbors, &g_he, d.input, &mut g_h)?;
        let mut g_lin = b.zeros(n * d.input)?;
        let (plan, wl) = &layer.linear_1;
        b.linear(plan, transpose, &g_h, wl, None, &mut g_lin)?;
        b.add_scaled(1.0, &g_lin, &mut g_x)?;
        if let Some(gp) = gp.as_mut() {
            self.layer_weight_grads(layer, conv, graph, tape, &g_pre, &g_h, gp)?;
        }
        Ok(g_x)
    }

    /// `linear_1`, `linear_2` and self-connection weight gradients of one layer.
    #[allow(clippy::too_many_arguments)]
    fn layer_weight_grads(
        &self,
        layer: &DeviceLayer<B, T>,
        conv: &ConvLayer,
        graph: &DeviceGraph<B>,
        tape: &LayerTape<B, T>,
        g_pre: &B::Buf<T>,
        g_h: &B::Buf<T>,
        gp: &mut ParamGrads<T>,
    ) -> Result<()> {
        let b = &*self.backend;
        let arch = self.model.architecture();
        for ((plan, w), x, g, id) in [
            (&layer.linear_1, &tape.x_in, g_h, conv.ids.linear_1),
            (&layer.linear_2, &tape.aggregated, g_pre, conv.ids.linear_2),
        ] {
            let mut gw = b.zeros(B::len(w))?;
            b.linear_weight_grad(plan, x, g, None, &mut gw)?;
            self.store(gp, id, &gw)?;
        }
        let (Some((plan, ws)), Some(sc), Some(id)) = (&layer.sc, &conv.sc, conv.ids.sc) else {
            return Ok(());
        };
        // Per-type effective weights on the executor, their chain to the product's weights and
        // to the type embedding on the host (|W| · types multiply-adds).
        let mut g_eff = b.zeros(B::len(ws))?;
        b.linear_weight_grad(plan, &tape.x_in, g_pre, Some(&graph.types), &mut g_eff)?;
        let g_eff = b.download(&g_eff)?;
        let table = arch.layout.slice(&self.host_params, arch.embed_id);
        let w = arch.layout.slice(&self.host_params, id);
        let range = arch.layout.segment(id).range();
        sc.type_weights_vjp(&g_eff, table, w, &mut gp.values[range], &mut gp.attrs);
        Ok(())
    }

    /// Gradient of the MLP input (the edge embedding) from that of its output; with `gp`, also
    /// each layer's weight gradient `α Xᵀ ∂Z`.
    #[allow(clippy::too_many_arguments)]
    fn radial_backward(
        &self,
        layer: &DeviceLayer<B, T>,
        conv: &ConvLayer,
        tape: &LayerTape<B, T>,
        emb: &B::Buf<T>,
        g_out: B::Buf<T>,
        rows: usize,
        gp: &mut Option<ParamGrads<T>>,
    ) -> Result<B::Buf<T>> {
        let b = &*self.backend;
        let mut g = g_out;
        for (i, dense) in layer.radial.iter().enumerate().rev() {
            if let Some(gp) = gp.as_mut() {
                let input = if i == 0 { emb } else { &tape.mlp_hidden[i - 1] };
                let shape = GemmShape {
                    trans_a: Transpose::Yes,
                    ..GemmShape::plain(dense.fan_in, dense.fan_out, rows, dense.alpha)
                };
                let mut gw = b.zeros(dense.fan_in * dense.fan_out)?;
                b.gemm(shape, input, &g, &mut gw)?;
                self.store(gp, conv.ids.radial[i], &gw)?;
            }
            // ∂x = α ∂z Wᵀ
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
