//! The operations a configuration builds, as nequip 0.19's `NequIPGNNModel` builds them.
//!
//! Per layer: hidden irreps `num_features[l] × (l, p)` for every `l ≤ l_max` and parity;
//! kept are the irreps some path (feature ⊗ edge harmonic) can produce; scalars go through
//! SiLU (even) or tanh (odd), higher orders are gated by extra scalars (`0e` when reachable,
//! else `0o`, with the same activation rule). The last layer outputs `num_features[0] × 0e`.

use crate::config::NequipConfig;
use crate::error::Result;
use crate::params::{ParamLayout, SegmentId};
use crate::radial_mlp::RadialMlp;
use crate::self_connection::SelfConnection;
use mlff_e3::{
    Activation, BesselEmbedding, Gate, Irrep, Irreps, Linear, MulIrrep, NormalizedActivation,
    Parity, ShNormalization, SphericalHarmonics, TensorProduct,
};

/// One interaction layer (`layer{i}_convnet`).
#[derive(Clone, Debug)]
pub struct ConvLayer {
    /// Node-feature irreps entering the layer.
    pub irreps_in: Irreps,
    /// `linear_1`: `irreps_in → irreps_in`.
    pub linear_1: Linear,
    /// Neighbour features ⊗ edge harmonics with per-edge weights.
    pub tp: TensorProduct,
    /// Edge embedding → tensor-product weights.
    pub radial: RadialMlp,
    /// `linear_2`: product output → gate input.
    pub linear_2: Linear,
    /// Self-connection `irreps_in ⊗ type embedding → gate input` (not on the first layer).
    pub sc: Option<SelfConnection>,
    /// The equivariant nonlinearity.
    pub gate: Gate,
    /// Whether the output is added to the input.
    pub resnet: bool,
    /// Parameter segments: linear_1, radial MLP layers, linear_2, self-connection.
    pub ids: LayerIds,
}

/// Where a layer's weights sit in the flat parameter vector ([`ParamLayout::slice`]).
#[derive(Clone, Debug)]
pub struct LayerIds {
    /// `linear_1.weight`.
    pub linear_1: SegmentId,
    /// `edge_mlp.mlp.{2k}.weight`, one per MLP layer.
    pub radial: Vec<SegmentId>,
    /// `linear_2.weight`.
    pub linear_2: SegmentId,
    /// `sc.weight`, when the layer has a self-connection.
    pub sc: Option<SegmentId>,
}

/// Everything fixed by the hyper-parameters: operations, shapes and the parameter layout.
#[derive(Clone, Debug)]
pub struct Architecture {
    /// Number of atom types.
    pub num_types: usize,
    /// Width of the type embedding (node attributes and first features).
    pub embed_width: usize,
    /// Edge spherical harmonics (normalised vectors, `component` normalisation).
    pub sh: SphericalHarmonics,
    /// Bessel × polynomial-cutoff edge-length encoding.
    pub bessel: BesselEmbedding,
    /// nequip's `ApplyFactor` on the edge embedding: `2π / r_max²`.
    pub edge_factor: f64,
    /// `1/√avg_num_neighbors` applied to the messages.
    pub message_norm: f64,
    /// The interaction layers.
    pub layers: Vec<ConvLayer>,
    /// Width of the final scalar features (readout input).
    pub readout_width: usize,
    /// Parameter layout (state_dict names).
    pub layout: ParamLayout,
    /// Segment of the type embedding table (`types × embed_width`).
    pub embed_id: SegmentId,
    /// Segment of the Bessel frequencies.
    pub bessel_id: SegmentId,
    /// Segment of the readout weights (`readout_width`).
    pub readout_id: SegmentId,
    /// Segment of the per-type energy scales.
    pub scales_id: SegmentId,
    /// Segment of the per-type energy shifts.
    pub shifts_id: SegmentId,
}

fn path_exists(a: &Irreps, b: &Irreps, ir: Irrep) -> bool {
    a.iter()
        .any(|x| b.iter().any(|y| x.ir.product(y.ir).any(|o| o == ir)))
}

fn activation_for(p: Parity) -> NormalizedActivation {
    NormalizedActivation::e3nn(match p {
        Parity::Even => Activation::Silu,
        Parity::Odd => Activation::Tanh,
    })
}

fn hidden_irreps(features: &[usize], parity: bool) -> Irreps {
    let mut blocks = Vec::new();
    for (l, &mul) in features.iter().enumerate() {
        let l = l as u32;
        let parities = if parity {
            vec![Parity::Even, Parity::Odd]
        } else {
            vec![Parity::of_spherical_harmonic(l)]
        };
        blocks.extend(
            parities
                .into_iter()
                .map(|p| MulIrrep::new(mul, Irrep::new(l, p))),
        );
    }
    Irreps::new(blocks)
}

fn build_gate(hidden: &Irreps, irreps_in: &Irreps, sh: &Irreps) -> Result<Gate> {
    let keep = |b: &&MulIrrep| path_exists(irreps_in, sh, b.ir);
    let scalars: Vec<MulIrrep> = hidden
        .iter()
        .filter(keep)
        .filter(|b| b.ir.l == 0)
        .copied()
        .collect();
    let gated: Vec<MulIrrep> = hidden
        .iter()
        .filter(keep)
        .filter(|b| b.ir.l > 0)
        .copied()
        .collect();
    let gate_ir = if path_exists(irreps_in, sh, Irrep::new(0, Parity::Even)) {
        Irrep::new(0, Parity::Even)
    } else {
        Irrep::new(0, Parity::Odd)
    };
    let gates: Vec<MulIrrep> = gated
        .iter()
        .map(|b| MulIrrep::new(b.mul, gate_ir))
        .collect();
    let scalar_acts: Vec<_> = scalars.iter().map(|b| activation_for(b.ir.p)).collect();
    let gate_acts: Vec<_> = gates.iter().map(|b| activation_for(b.ir.p)).collect();
    Ok(Gate::new(
        Irreps::new(scalars),
        &scalar_acts,
        Irreps::new(gates),
        &gate_acts,
        Irreps::new(gated),
    )?)
}

impl Architecture {
    /// Builds the operations and parameter layout of a (validated) configuration.
    pub fn new(config: &NequipConfig) -> Result<Self> {
        config.validate()?;
        let features = config.features_per_l()?;
        let embed_width = config.type_embed_width()?;
        let num_types = config.type_names.len();
        let sh = SphericalHarmonics::new(config.l_max, true, ShNormalization::Component);
        let sh_irreps = sh.irreps();
        let bessel =
            BesselEmbedding::new(config.num_bessels, config.r_max, config.polynomial_cutoff_p)?;
        let mut layout = ParamLayout::default();
        let embed_id = layout.push(
            "type_embed.embed_module.weight".into(),
            vec![num_types, embed_width],
            true,
        );
        let bessel_id = layout.push(
            "bessel_encode.bessel_weights".into(),
            vec![1, config.num_bessels],
            config.bessel_trainable,
        );
        let scalar_out: Irreps = Irreps::new(vec![MulIrrep::new(
            features[0],
            Irrep::new(0, Parity::Even),
        )]);
        let mut irreps_in = Irreps::new(vec![MulIrrep::new(
            embed_width,
            Irrep::new(0, Parity::Even),
        )]);
        let attrs = irreps_in.clone();
        let mut layers = Vec::with_capacity(config.num_layers);
        for i in 0..config.num_layers {
            let hidden = if i + 1 == config.num_layers {
                scalar_out.clone()
            } else {
                hidden_irreps(&features, config.parity)
            };
            let gate = build_gate(&hidden, &irreps_in, &sh_irreps)?;
            let conv_out = gate.irreps_in().simplify();
            let linear_1 = Linear::new(irreps_in.clone(), irreps_in.clone())?;
            let tp = TensorProduct::nequip_convolution(&irreps_in, &sh_irreps, &conv_out)?;
            let radial = RadialMlp::new(
                config.num_bessels,
                config.radial_mlp_depth,
                config.radial_mlp_width,
                tp.weight_numel(),
            );
            let linear_2 = Linear::new(tp.irreps_out().simplify(), conv_out.clone())?;
            let sc = if i > 0 && config.convnet_sc {
                Some(SelfConnection::new(&irreps_in, &attrs, &conv_out)?)
            } else {
                None
            };
            let prefix = format!("layer{i}_convnet.conv");
            let linear_1_id = layout.push(
                format!("{prefix}.linear_1.weight"),
                vec![linear_1.weight_numel()],
                true,
            );
            let radial_ids = radial
                .dims()
                .windows(2)
                .enumerate()
                .map(|(k, w)| {
                    layout.push(
                        format!("{prefix}.edge_mlp.mlp.{}.weight", 2 * k),
                        vec![w[0], w[1]],
                        true,
                    )
                })
                .collect();
            let linear_2_id = layout.push(
                format!("{prefix}.linear_2.weight"),
                vec![linear_2.weight_numel()],
                true,
            );
            let sc_id = sc.as_ref().map(|sc| {
                layout.push(format!("{prefix}.sc.weight"), vec![sc.weight_numel()], true)
            });
            let irreps_out = gate.irreps_out().clone();
            let resnet =
                i > 0 && config.convnet_resnet && irreps_out.simplify() == irreps_in.simplify();
            layers.push(ConvLayer {
                irreps_in: irreps_in.clone(),
                linear_1,
                tp,
                radial,
                linear_2,
                sc,
                gate,
                resnet,
                ids: LayerIds {
                    linear_1: linear_1_id,
                    radial: radial_ids,
                    linear_2: linear_2_id,
                    sc: sc_id,
                },
            });
            irreps_in = irreps_out;
        }
        let readout_width = irreps_in.dim();
        let readout_id = layout.push(
            "per_atom_energy_readout.mlp_module.mlp.0.weight".into(),
            vec![readout_width, 1],
            true,
        );
        let scales_id = layout.push(
            "per_type_energy_scale_shift.scales".into(),
            vec![num_types, 1],
            false,
        );
        let shifts_id = layout.push(
            "per_type_energy_scale_shift.shifts".into(),
            vec![num_types, 1],
            false,
        );
        Ok(Self {
            num_types,
            embed_width,
            sh,
            bessel,
            edge_factor: 2.0 * std::f64::consts::PI / (config.r_max * config.r_max),
            message_norm: 1.0 / config.avg_num_neighbors.unwrap_or(1.0).sqrt(),
            layers,
            readout_width,
            layout,
            embed_id,
            bessel_id,
            readout_id,
            scales_id,
            shifts_id,
        })
    }

    /// FLOPs of one forward pass (energies only) for a graph of this many atoms and edges:
    /// tensor products, radial MLPs and linears (the dominant terms).
    pub fn forward_flops(&self, atoms: usize, edges: usize) -> usize {
        let linear = |l: &Linear| -> usize {
            l.paths()
                .iter()
                .map(|p| 2 * p.mul_in * p.mul_out * p.dim)
                .sum()
        };
        self.layers
            .iter()
            .map(|l| {
                edges * (l.tp.forward_flops_per_sample() + l.radial.forward_flops_per_row())
                    + atoms * (linear(&l.linear_1) + linear(&l.linear_2))
                    + atoms * l.sc.as_ref().map_or(0, |sc| sc.flops_per_atom())
            })
            .sum()
    }
}
