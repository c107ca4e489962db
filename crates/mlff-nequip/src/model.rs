//! The model: configuration, built architecture and parameter values.

use crate::architecture::Architecture;
use crate::config::{NequipConfig, Precision};
use crate::error::{NequipError, Result};
use crate::evaluate::{backward, forward};
use crate::graph::AtomicGraph;
use crate::types::TypeMap;
use mlff_e3::Scalar;
use mlff_e3::parallel::on_worker;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::any::{Any, TypeId};
use std::borrow::Cow;
use std::sync::OnceLock;

/// A NequIP potential: hyper-parameters, operations and weights.
#[derive(Clone, Debug)]
pub struct Nequip {
    config: NequipConfig,
    arch: Architecture,
    types: TypeMap,
    params: Vec<f64>,
    /// `params` rounded to f32 on first use: a float32 model's energy+forces pass would
    /// otherwise convert every parameter (millions in the paper's configuration) per call.
    params_f32: OnceLock<Vec<f32>>,
}

/// Energies (per frame) and forces (`atoms × 3`) of a batch, in the data's units.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// Total energy of each frame.
    pub energies: Vec<f64>,
    /// Forces on every atom of the batch, flat `atoms × 3`.
    pub forces: Vec<f64>,
}

impl Nequip {
    /// A freshly initialised model (nequip's initialisation: unit-variance normal embedding,
    /// linear and self-connection weights, uniform `±√3` MLP weights), seeded by
    /// `config.seed`; per-type scales and shifts from the configuration.
    pub fn new(config: NequipConfig) -> Result<Self> {
        let arch = Architecture::new(&config)?;
        let types = TypeMap::from_symbols(&config.type_names)?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut params = vec![0.0; arch.layout.len()];
        for seg in arch.layout.segments() {
            let values = &mut params[seg.range()];
            if seg.name.contains("edge_mlp") || seg.name.contains("readout") {
                let a = 3f64.sqrt();
                values.iter_mut().for_each(|v| *v = rng.random_range(-a..a));
            } else {
                values
                    .iter_mut()
                    .for_each(|v| *v = standard_normal(&mut rng));
            }
        }
        let mut model = Self {
            config,
            arch,
            types,
            params,
            params_f32: OnceLock::new(),
        };
        model.reset_fixed_parameters()?;
        Ok(model)
    }

    /// Builds a model from a configuration and a full parameter vector (checkpoint, import).
    pub fn with_params(config: NequipConfig, params: Vec<f64>) -> Result<Self> {
        let arch = Architecture::new(&config)?;
        let types = TypeMap::from_symbols(&config.type_names)?;
        if params.len() != arch.layout.len() {
            return Err(NequipError::Shape {
                what: "parameter vector".into(),
                expected: arch.layout.len(),
                got: params.len(),
            });
        }
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(NequipError::Weights(format!("parameter {i} is not finite")));
        }
        Ok(Self {
            config,
            arch,
            types,
            params,
            params_f32: OnceLock::new(),
        })
    }

    /// Writes Bessel frequencies and per-type scales/shifts from the configuration.
    fn reset_fixed_parameters(&mut self) -> Result<()> {
        let freqs = self.arch.bessel.default_frequencies::<f64>();
        let scales = self.config.energy_scales()?;
        let shifts = self.config.energy_shifts()?;
        let layout = &self.arch.layout;
        self.params[layout.segment(self.arch.bessel_id).range()].copy_from_slice(&freqs);
        self.params[layout.segment(self.arch.scales_id).range()].copy_from_slice(&scales);
        self.params[layout.segment(self.arch.shifts_id).range()].copy_from_slice(&shifts);
        self.params_f32 = OnceLock::new();
        Ok(())
    }

    /// Sets per-type energy shifts and scales (training statistics); updates the config.
    pub fn set_energy_scale_shift(&mut self, scales: &[f64], shifts: &[f64]) -> Result<()> {
        let n = self.types.len();
        for (what, v) in [("scales", scales), ("shifts", shifts)] {
            if v.len() != n || v.iter().any(|x| !x.is_finite()) {
                return Err(NequipError::Config(format!(
                    "per-type energy {what} need {n} finite values, got {v:?}"
                )));
            }
        }
        self.config.per_type_energy_scales = Some(crate::config::PerType::List(scales.to_vec()));
        self.config.per_type_energy_shifts = Some(crate::config::PerType::List(shifts.to_vec()));
        self.reset_fixed_parameters()
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &NequipConfig {
        &self.config
    }
    /// The operations and parameter layout.
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }
    /// The element ↔ type map.
    pub fn types(&self) -> &TypeMap {
        &self.types
    }
    /// All parameter values (flat; see [`Architecture::layout`](crate::Architecture)).
    pub fn params(&self) -> &[f64] {
        &self.params
    }
    /// Replaces all parameter values (length and finiteness checked).
    pub fn set_params(&mut self, params: &[f64]) -> Result<()> {
        if params.len() != self.params.len() {
            return Err(NequipError::Shape {
                what: "parameter vector".into(),
                expected: self.params.len(),
                got: params.len(),
            });
        }
        if let Some(i) = params.iter().position(|v| !v.is_finite()) {
            return Err(NequipError::Weights(format!("parameter {i} is not finite")));
        }
        self.params.copy_from_slice(params);
        self.params_f32 = OnceLock::new();
        Ok(())
    }

    /// The graph of some frames (atomic numbers, positions in Å) with this model's cutoff.
    pub fn graph<'a>(
        &self,
        frames: impl IntoIterator<Item = (&'a [u8], &'a [[f64; 3]])>,
    ) -> Result<AtomicGraph> {
        AtomicGraph::new(frames, &self.types, self.config.r_max)
    }

    /// Energies and forces of every frame of `graph`, in the model's precision.
    pub fn predict(&self, graph: &AtomicGraph) -> Result<Prediction> {
        match self.config.precision()? {
            Precision::F32 => self.predict_as::<f32>(graph),
            Precision::F64 => self.predict_as::<f64>(graph),
        }
    }

    /// Energies and forces computed in the scalar type `T` (f32 or f64).
    pub fn predict_as<T: Scalar + 'static>(&self, graph: &AtomicGraph) -> Result<Prediction> {
        on_worker(|| self.predict_on_worker::<T>(graph))
    }

    /// The parameters in `T`, without a copy when `T` is f64 or f32 (after the first call).
    fn params_as<T: Scalar + 'static>(&self) -> Cow<'_, [T]> {
        let stored: &dyn Any = if TypeId::of::<T>() == TypeId::of::<f32>() {
            self.params_f32
                .get_or_init(|| self.params.par_iter().map(|&v| v as f32).collect())
        } else {
            &self.params
        };
        match stored.downcast_ref::<Vec<T>>() {
            Some(params) => Cow::Borrowed(params),
            None => Cow::Owned(self.params.iter().map(|&v| T::from_f64(v)).collect()),
        }
    }

    fn predict_on_worker<T: Scalar + 'static>(&self, graph: &AtomicGraph) -> Result<Prediction> {
        let params = self.params_as::<T>();
        let pos: Vec<T> = graph.positions().iter().map(|&v| T::from_f64(v)).collect();
        let (energies, tape) = forward(&self.arch, &params, graph, &pos)?;
        let ones = vec![T::one(); graph.num_frames()];
        let grads = backward(&self.arch, &params, graph, &tape, &ones, false)?;
        Ok(Prediction {
            energies: energies.frames.iter().map(|v| v.value()).collect(),
            forces: grads.positions.iter().map(|v| -v.value()).collect(),
        })
    }

    /// Energies only (no backward pass), in f64.
    pub fn energies_f64(&self, graph: &AtomicGraph) -> Result<Vec<f64>> {
        let (energies, _) =
            on_worker(|| forward(&self.arch, &self.params, graph, graph.positions()))?;
        Ok(energies.frames)
    }
}

/// One standard-normal draw (Box–Muller), so initialisation needs no extra crate.
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
