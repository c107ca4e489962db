//! A NequIP model's operations and weights on a [`Backend`]; the passes are in `forward.rs`
//! and `reverse.rs`.

use mlff_cuda::{Backend, DeviceReal, GatePlan, LinearPlan, RadialPlan, ShPlan, UvuPlan};
use mlff_e3::{Irrep, Irreps, Linear, MulIrrep, Parity};
use mlff_nequip::{AtomicGraph, ConvLayer, Nequip, Prediction, Predictor};

use std::sync::Arc;

use crate::error::Result;
use crate::graph::DeviceGraph;

/// One dense layer of the radial MLP: `x ↦ α x W` (`W`: `fan_in × fan_out`).
pub(crate) struct DenseLayer<B: Backend, T: DeviceReal> {
    pub(crate) weights: B::Buf<T>,
    pub(crate) fan_in: usize,
    pub(crate) fan_out: usize,
    pub(crate) alpha: f64,
}

/// One interaction layer's tables and weights.
pub(crate) struct DeviceLayer<B: Backend, T: DeviceReal> {
    pub(crate) dims: LayerDims,
    pub(crate) linear_1: (B::Linear<T>, B::Buf<T>),
    pub(crate) radial: Vec<DenseLayer<B, T>>,
    pub(crate) tp: B::Uvu<T>,
    pub(crate) linear_2: (B::Linear<T>, B::Buf<T>),
    /// Self-connection as one linear map per atom type.
    pub(crate) sc: Option<(B::Linear<T>, B::Buf<T>)>,
    pub(crate) gate: B::Gate<T>,
    pub(crate) resnet: bool,
}

#[derive(Clone, Copy)]
pub(crate) struct LayerDims {
    /// Features in (and after `linear_1`).
    pub(crate) input: usize,
    /// Tensor-product output.
    pub(crate) message: usize,
    /// Gate input.
    pub(crate) gate_in: usize,
    /// Layer output.
    pub(crate) output: usize,
    /// Per-edge weights.
    pub(crate) weights: usize,
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
    pub(crate) backend: Arc<B>,
    pub(crate) model: Nequip,
    pub(crate) sh: ShPlan,
    pub(crate) radial: RadialPlan,
    pub(crate) frequencies: B::Buf<T>,
    pub(crate) embed: B::Buf<T>,
    pub(crate) embed_width: usize,
    pub(crate) layers: Vec<DeviceLayer<B, T>>,
    pub(crate) readout: (B::Linear<T>, B::Buf<T>),
    pub(crate) readout_width: usize,
    /// The parameters in `T`, for the host side of the parameter gradient.
    pub(crate) host_params: Vec<T>,
}

pub(crate) fn reals<T: DeviceReal>(values: &[f64]) -> Vec<T> {
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
            host_params: reals(params),
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
        let (energies, tape) = self.forward(graph, positions)?;
        let ones = b.upload(&vec![T::one(); graph.num_frames])?;
        let grads = self.backward(graph, &tape, &ones, false)?;
        let mut forces = b.zeros(3 * graph.num_atoms)?;
        b.add_scaled(-1.0, &grads.positions, &mut forces)?;
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
            let eff = sc.type_weights(seg(id), seg(arch.embed_id));
            Some(linear(sc.linear(), 1.0, arch.num_types, eff.as_slice())?)
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
