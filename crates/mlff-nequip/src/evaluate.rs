//! The forward pass (energies) and its reverse pass (gradients with respect to positions and
//! parameters), generic over the scalar.
//!
//! Running both passes over `Dual<T>` with a position tangent `v` gives, in the tangent of the
//! parameter gradient, `∂/∂θ (∇_r E · v)`: the force-loss term of the training gradient
//! (design B of the design notes, §5). Nothing here allocates per element; buffers are per
//! pass and per layer.

use crate::architecture::{Architecture, ConvLayer};
use crate::error::Result;
use crate::graph::AtomicGraph;
use crate::radial_mlp::MlpTape;
use crate::self_connection::TypeWeights;
use mlff_e3::parallel::zeros;
use mlff_e3::{Linear, MessageEdges, Scalar, edge_vectors, edge_vectors_vjp};

/// Energies of a forward pass.
#[derive(Clone, Debug)]
pub struct Energies<T> {
    /// Total energy of each frame.
    pub frames: Vec<T>,
    /// Energy of each atom (after per-type scale and shift).
    pub atoms: Vec<T>,
}

/// Gradients of `Σ_f g_f E_f` for cotangents `g_f`.
#[derive(Clone, Debug)]
pub struct Gradients<T> {
    /// With respect to positions (`atoms × 3`); forces are its negative for `g = 1`.
    pub positions: Vec<T>,
    /// With respect to every parameter (flat layout), when requested.
    pub params: Option<Vec<T>>,
}

struct LayerTape<T> {
    x_in: Vec<T>,
    h: Vec<T>,
    mlp: MlpTape<T>,
    w: Vec<T>,
    agg: Vec<T>,
    pre_gate: Vec<T>,
    /// The self-connection's per-type weights (formed once, used by both passes).
    sc_weights: Option<TypeWeights<T>>,
}

/// Intermediate values of a forward pass, consumed by [`backward`].
pub struct Tape<T> {
    vecs: Vec<T>,
    lengths: Vec<T>,
    sh: Vec<T>,
    layers: Vec<LayerTape<T>>,
    features: Vec<T>,
}

impl<T> Tape<T> {
    /// Edge spherical harmonics (`edges × (l_max+1)²`), nequip's `edge_attrs`.
    pub fn edge_attrs(&self) -> &[T] {
        &self.sh
    }
    /// Edge lengths.
    pub fn edge_lengths(&self) -> &[T] {
        &self.lengths
    }
    /// Node features after each interaction layer (`atoms × dim`), nequip's
    /// `layer{i}_convnet/node_features`.
    pub fn layer_outputs(&self) -> Vec<&[T]> {
        self.layers
            .iter()
            .skip(1)
            .map(|l| l.x_in.as_slice())
            .chain(std::iter::once(self.features.as_slice()))
            .collect()
    }
}

fn segment<'a, T>(arch: &Architecture, params: &'a [T], id: usize) -> &'a [T] {
    arch.layout.slice(params, id)
}

fn radial_weights<'a, T>(arch: &Architecture, params: &'a [T], layer: &ConvLayer) -> Vec<&'a [T]> {
    layer
        .ids
        .radial
        .iter()
        .map(|&id| segment(arch, params, id))
        .collect()
}

/// Energies of the frames of `graph` at `positions` (`atoms × 3`, same atoms as the graph).
pub fn forward<T: Scalar>(
    arch: &Architecture,
    params: &[T],
    graph: &AtomicGraph,
    positions: &[T],
) -> Result<(Energies<T>, Tape<T>)> {
    let (n, e) = (graph.num_atoms(), graph.num_edges());
    let mut vecs = zeros(e * 3);
    edge_vectors(positions, graph.centers(), graph.neighbors(), &mut vecs)?;
    let lengths: Vec<T> = vecs
        .chunks_exact(3)
        .map(|v| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt())
        .collect();
    let mut sh = zeros(e * arch.sh.dim());
    arch.sh.forward(&vecs, &mut sh)?;
    let nb = arch.bessel.num_basis();
    let mut emb = zeros(e * nb);
    arch.bessel
        .forward(&lengths, segment(arch, params, arch.bessel_id), &mut emb)?;
    let factor = T::from_f64(arch.edge_factor);
    emb.iter_mut().for_each(|v| *v *= factor);

    let width = arch.embed_width;
    let table = segment(arch, params, arch.embed_id);
    let attrs: Vec<T> = graph
        .types()
        .iter()
        .flat_map(|&t| table[t * width..(t + 1) * width].iter().copied())
        .collect();

    let mut x = attrs;
    let mut layers = Vec::with_capacity(arch.layers.len());
    for layer in &arch.layers {
        let (out, tape) = layer_forward(arch, layer, params, graph, &sh, &emb, table, x)?;
        layers.push(tape);
        x = out;
    }

    let w = segment(arch, params, arch.readout_id);
    let alpha = T::from_f64(1.0 / (arch.readout_width as f64).sqrt());
    let (scales, shifts) = (
        segment(arch, params, arch.scales_id),
        segment(arch, params, arch.shifts_id),
    );
    let atoms: Vec<T> = x
        .chunks_exact(arch.readout_width)
        .zip(graph.types())
        .map(|(f, &t)| {
            let raw = alpha * f.iter().zip(w).map(|(&a, &b)| a * b).sum::<T>();
            scales[t] * raw + shifts[t]
        })
        .collect();
    let frames = graph
        .frame_offsets()
        .windows(2)
        .map(|r| atoms[r[0]..r[1]].iter().copied().sum())
        .collect();
    debug_assert_eq!(atoms.len(), n);
    let tape = Tape {
        vecs,
        lengths,
        sh,
        layers,
        features: x,
    };
    Ok((Energies { frames, atoms }, tape))
}

#[allow(clippy::too_many_arguments)]
fn layer_forward<T: Scalar>(
    arch: &Architecture,
    layer: &ConvLayer,
    params: &[T],
    graph: &AtomicGraph,
    sh: &[T],
    emb: &[T],
    attrs_by_type: &[T],
    x_in: Vec<T>,
) -> Result<(Vec<T>, LayerTape<T>)> {
    let (n, e) = (graph.num_atoms(), graph.num_edges());
    let din = layer.irreps_in.dim();
    let mut h = zeros(n * din);
    layer
        .linear_1
        .forward(&x_in, segment(arch, params, layer.ids.linear_1), &mut h)?;
    let norm = T::from_f64(arch.message_norm);
    h.iter_mut().for_each(|v| *v *= norm);
    let radial_w = radial_weights(arch, params, layer);
    let (w, mlp) = layer.radial.forward(emb, &radial_w, e);
    let dmid = layer.tp.irreps_out().dim();
    let mut agg = zeros(n * dmid);
    layer
        .tp
        .convolve(&h, sh, &w, message_edges(graph), &mut agg)?;
    let dconv = layer.linear_2.irreps_out().dim();
    let mut pre_gate = zeros(n * dconv);
    layer.linear_2.forward(
        &agg,
        segment(arch, params, layer.ids.linear_2),
        &mut pre_gate,
    )?;
    let sc_weights = match (&layer.sc, layer.ids.sc) {
        (Some(sc), Some(id)) => {
            let weights = sc.type_weights(segment(arch, params, id), attrs_by_type);
            let mut s = zeros(n * dconv);
            sc.forward(&x_in, graph.types(), &weights, &mut s)?;
            pre_gate.iter_mut().zip(&s).for_each(|(a, &b)| *a += b);
            Some(weights)
        }
        _ => None,
    };
    let mut out = zeros(n * layer.gate.irreps_out().dim());
    layer.gate.forward(&pre_gate, &mut out)?;
    if layer.resnet {
        out.iter_mut().zip(&x_in).for_each(|(o, &x)| *o += x);
    }
    let tape = LayerTape {
        x_in,
        h,
        mlp,
        w,
        agg,
        pre_gate,
        sc_weights,
    };
    Ok((out, tape))
}

/// Gradients of `Σ_f grad_energies[f] · E_f` from a forward pass's tape.
pub fn backward<T: Scalar>(
    arch: &Architecture,
    params: &[T],
    graph: &AtomicGraph,
    tape: &Tape<T>,
    grad_energies: &[T],
    with_params: bool,
) -> Result<Gradients<T>> {
    let (n, e) = (graph.num_atoms(), graph.num_edges());
    let layout = &arch.layout;
    let mut gp = with_params.then(|| zeros(layout.len()));

    // Readout and per-type scale/shift.
    let width = arch.readout_width;
    let w = segment(arch, params, arch.readout_id);
    let alpha = T::from_f64(1.0 / (width as f64).sqrt());
    let scales = segment(arch, params, arch.scales_id);
    let g_raw: Vec<T> = graph
        .types()
        .iter()
        .zip(graph.frame_of_atom())
        .map(|(&t, &f)| grad_energies[f] * scales[t])
        .collect();
    let mut g_x: Vec<T> = g_raw
        .iter()
        .flat_map(|&g| w.iter().map(move |&wc| g * alpha * wc))
        .collect();
    if let Some(gp) = gp.as_mut() {
        let gw = &mut gp[layout.segment(arch.readout_id).range()];
        for (f, &g) in tape.features.chunks_exact(width).zip(&g_raw) {
            for (gwc, &fc) in gw.iter_mut().zip(f) {
                *gwc += alpha * g * fc;
            }
        }
    }

    let mut g_sh = zeros(e * arch.sh.dim());
    let mut g_emb = zeros(e * arch.bessel.num_basis());
    let mut g_attrs = zeros(arch.num_types * arch.embed_width);
    for (layer, lt) in arch.layers.iter().zip(&tape.layers).rev() {
        g_x = layer_backward(
            arch,
            layer,
            lt,
            params,
            graph,
            tape,
            g_x,
            &mut g_sh,
            &mut g_emb,
            &mut g_attrs,
            gp.as_deref_mut(),
        )?;
    }

    // Type embedding: node attributes and first-layer features are the same table rows.
    if let Some(gp) = gp.as_mut() {
        let ew = arch.embed_width;
        let table = &mut gp[layout.segment(arch.embed_id).range()];
        add(table, &g_attrs);
        for (a, &t) in graph.types().iter().enumerate() {
            for c in 0..ew {
                table[t * ew + c] += g_x[a * ew + c];
            }
        }
    }

    // Edge embedding → lengths (and Bessel frequencies); harmonics → vectors.
    let factor = T::from_f64(arch.edge_factor);
    g_emb.iter_mut().for_each(|v| *v *= factor);
    let mut g_len = zeros(e);
    let mut g_freq = zeros(arch.bessel.num_basis());
    arch.bessel.backward(
        &tape.lengths,
        segment(arch, params, arch.bessel_id),
        &g_emb,
        &mut g_len,
        &mut g_freq,
    )?;
    if let Some(gp) = gp.as_mut() {
        gp[layout.segment(arch.bessel_id).range()].copy_from_slice(&g_freq);
    }
    let mut g_vec = zeros(e * 3);
    arch.sh.vjp(&tape.vecs, &g_sh, &mut g_vec)?;
    for ((gv, v), (&gl, &r)) in g_vec
        .chunks_exact_mut(3)
        .zip(tape.vecs.chunks_exact(3))
        .zip(g_len.iter().zip(&tape.lengths))
    {
        let s = gl / r;
        for k in 0..3 {
            gv[k] += s * v[k];
        }
    }
    let mut g_pos = zeros(n * 3);
    edge_vectors_vjp(&g_vec, graph.by_neighbor(), graph.by_center(), &mut g_pos)?;
    if let Some(gp) = gp.as_mut() {
        for frozen in layout.segments().iter().filter(|s| !s.trainable) {
            gp[frozen.range()].fill(T::zero());
        }
    }
    Ok(Gradients {
        positions: g_pos,
        params: gp,
    })
}

#[allow(clippy::too_many_arguments)]
fn layer_backward<T: Scalar>(
    arch: &Architecture,
    layer: &ConvLayer,
    lt: &LayerTape<T>,
    params: &[T],
    graph: &AtomicGraph,
    tape: &Tape<T>,
    g_out: Vec<T>,
    g_sh: &mut [T],
    g_emb: &mut [T],
    g_attrs: &mut [T],
    mut gp: Option<&mut [T]>,
) -> Result<Vec<T>> {
    let n = graph.num_atoms();
    let layout = &arch.layout;
    let din = layer.irreps_in.dim();
    let dconv = layer.linear_2.irreps_out().dim();
    let dmid = layer.tp.irreps_out().dim();
    let mut g_x_in = if layer.resnet {
        g_out.clone()
    } else {
        zeros(n * din)
    };
    let mut g_pre = zeros(n * dconv);
    layer.gate.backward(&lt.pre_gate, &g_out, &mut g_pre)?;

    let mut scratch_x = zeros(n * din);
    if let (Some(sc), Some(id), Some(tw)) = (&layer.sc, layer.ids.sc, &lt.sc_weights) {
        let (x, types) = (&lt.x_in[..], graph.types());
        match gp.as_deref_mut() {
            Some(gp) => {
                let (table, w) = (
                    segment(arch, params, arch.embed_id),
                    segment(arch, params, id),
                );
                // The segment is still zero: the product's gradient adds straight into it.
                let g_w = &mut gp[layout.segment(id).range()];
                let (gx, ga) = (&mut scratch_x, &mut *g_attrs);
                sc.backward(x, types, (table, w), tw, &g_pre, gx, g_w, ga)?;
            }
            None => sc.backward_input(x, types, tw, &g_pre, &mut scratch_x)?,
        }
        add(&mut g_x_in, &scratch_x);
    }

    let mut g_agg = zeros(n * dmid);
    linear_vjp(
        &layer.linear_2,
        (&lt.agg, segment(arch, params, layer.ids.linear_2)),
        &g_pre,
        &mut g_agg,
        param_grad(gp.as_deref_mut(), arch, layer.ids.linear_2),
    )?;
    let mut g_h = zeros(n * din);
    let mut g_sh_layer = zeros(g_sh.len());
    let mut g_w = zeros(lt.w.len());
    layer.tp.convolve_backward(
        &lt.h,
        &tape.sh,
        &lt.w,
        message_edges(graph),
        &g_agg,
        &mut g_h,
        &mut g_sh_layer,
        &mut g_w,
    )?;
    drop(g_agg);
    add(g_sh, &g_sh_layer);
    let radial_w = radial_weights(arch, params, layer);
    let g_emb_layer = match gp.as_deref_mut() {
        Some(gp) => {
            let mut grads: Vec<Vec<T>> = layer
                .ids
                .radial
                .iter()
                .map(|&id| zeros(layout.segment(id).len()))
                .collect();
            let mut views: Vec<&mut [T]> = grads.iter_mut().map(|g| g.as_mut_slice()).collect();
            let g = layer
                .radial
                .backward(&lt.mlp, &radial_w, &g_w, Some(&mut views));
            for (&id, grad) in layer.ids.radial.iter().zip(&grads) {
                gp[layout.segment(id).range()].copy_from_slice(grad);
            }
            g
        }
        None => layer.radial.backward(&lt.mlp, &radial_w, &g_w, None),
    };
    add(g_emb, &g_emb_layer);

    let norm = T::from_f64(arch.message_norm);
    g_h.iter_mut().for_each(|v| *v *= norm);
    linear_vjp(
        &layer.linear_1,
        (&lt.x_in, segment(arch, params, layer.ids.linear_1)),
        &g_h,
        &mut scratch_x,
        param_grad(gp, arch, layer.ids.linear_1),
    )?;
    add(&mut g_x_in, &scratch_x);
    Ok(g_x_in)
}

/// VJP of a linear map at `(x, weights)`: overwrites `grad_x` and, when given, the weight
/// gradient (energy+forces passes skip it).
fn linear_vjp<T: Scalar>(
    linear: &Linear,
    (x, weights): (&[T], &[T]),
    grad_out: &[T],
    grad_x: &mut [T],
    grad_weights: Option<&mut [T]>,
) -> Result<()> {
    match grad_weights {
        Some(gw) => linear.backward(x, weights, grad_out, grad_x, gw)?,
        None => linear.backward_input(x, weights, grad_out, grad_x)?,
    }
    Ok(())
}

/// The gradient segment of parameter `id`, when parameter gradients are formed.
fn param_grad<'a, T>(
    gp: Option<&'a mut [T]>,
    arch: &Architecture,
    id: usize,
) -> Option<&'a mut [T]> {
    gp.map(|gp| &mut gp[arch.layout.segment(id).range()])
}

/// NequIP's message direction: from the neighbour (`edge_index[1]`) to the centre.
fn message_edges(graph: &AtomicGraph) -> MessageEdges<'_> {
    MessageEdges {
        sources: graph.neighbors(),
        targets: graph.centers(),
        by_source: graph.by_neighbor(),
        by_target: graph.by_center(),
    }
}

fn add<T: Scalar>(acc: &mut [T], x: &[T]) {
    acc.iter_mut().zip(x).for_each(|(a, &b)| *a += b);
}
