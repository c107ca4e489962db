//! NequIP hyper-parameters under nequip's own names, loadable from YAML, TOML or JSON.

use crate::error::{NequipError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Feature multiplicities: one number for every `l`, or one per `l = 0..=l_max` (nequip's
/// `num_features`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumFeatures {
    /// The same multiplicity for every `l`.
    Uniform(usize),
    /// One multiplicity per `l`.
    PerL(Vec<usize>),
}

/// A per-type value as nequip accepts it: one number for all types, a list in `type_names`
/// order, or a map from type name to value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerType {
    /// One value for every type.
    Uniform(f64),
    /// Values in `type_names` order.
    List(Vec<f64>),
    /// Values by type name.
    Map(BTreeMap<String, f64>),
}

impl PerType {
    /// The values in `type_names` order.
    pub fn resolve(&self, what: &str, type_names: &[String]) -> Result<Vec<f64>> {
        let values = match self {
            PerType::Uniform(v) => vec![*v; type_names.len()],
            PerType::List(v) if v.len() == type_names.len() => v.clone(),
            PerType::List(v) => {
                return Err(NequipError::Config(format!(
                    "{what} has {} values for {} types",
                    v.len(),
                    type_names.len()
                )));
            }
            PerType::Map(m) => type_names
                .iter()
                .map(|t| {
                    m.get(t).copied().ok_or_else(|| {
                        NequipError::Config(format!("{what} has no value for type {t}"))
                    })
                })
                .collect::<Result<_>>()?,
        };
        if let Some(v) = values.iter().find(|v| !v.is_finite()) {
            return Err(NequipError::Config(format!("{what} contains {v}")));
        }
        Ok(values)
    }
}

fn default_num_layers() -> usize {
    4
}
fn default_l_max() -> u32 {
    1
}
fn default_true() -> bool {
    true
}
fn default_num_features() -> NumFeatures {
    NumFeatures::Uniform(32)
}
fn default_radial_mlp_depth() -> usize {
    2
}
fn default_radial_mlp_width() -> usize {
    64
}
fn default_num_bessels() -> usize {
    8
}
fn default_polynomial_cutoff_p() -> u32 {
    6
}
fn default_model_dtype() -> String {
    "float32".into()
}

/// The model's hyper-parameters, named and defaulted as nequip 0.19's `NequIPGNNModel`.
///
/// Keys a nequip config holds for other purposes (training, data) are ignored, so a model
/// section of a nequip YAML loads as it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NequipConfig {
    /// Element symbols of the atom types, in type-index order.
    pub type_names: Vec<String>,
    /// Cutoff radius (Å).
    pub r_max: f64,
    /// Number of interaction (convnet) layers.
    #[serde(default = "default_num_layers")]
    pub num_layers: usize,
    /// Highest rotation order of features and edge spherical harmonics.
    #[serde(default = "default_l_max")]
    pub l_max: u32,
    /// Whether features carry both parities (E(3)) or only `(-1)^l` (SE(3)).
    #[serde(default = "default_true")]
    pub parity: bool,
    /// Feature multiplicities.
    #[serde(default = "default_num_features")]
    pub num_features: NumFeatures,
    /// Hidden layers of each radial MLP.
    #[serde(default = "default_radial_mlp_depth")]
    pub radial_mlp_depth: usize,
    /// Width of each hidden layer of the radial MLPs.
    #[serde(default = "default_radial_mlp_width")]
    pub radial_mlp_width: usize,
    /// Number of Bessel functions of the edge-length encoding.
    #[serde(default = "default_num_bessels")]
    pub num_bessels: usize,
    /// Whether the Bessel frequencies are trained.
    #[serde(default)]
    pub bessel_trainable: bool,
    /// Exponent `p` of the polynomial cutoff envelope.
    #[serde(default = "default_polynomial_cutoff_p")]
    pub polynomial_cutoff_p: u32,
    /// Average number of neighbours (message sums are divided by its square root); `None`
    /// means 1 (no normalisation).
    #[serde(default)]
    pub avg_num_neighbors: Option<f64>,
    /// Per-type energy shifts added to the atomic energies (energy unit of the data).
    #[serde(default)]
    pub per_type_energy_shifts: Option<PerType>,
    /// Per-type scales multiplying the atomic energies.
    #[serde(default)]
    pub per_type_energy_scales: Option<PerType>,
    /// Width of the type embedding (default: the number of `l = 0` features).
    #[serde(default)]
    pub type_embed_num_features: Option<usize>,
    /// Self-connection from the second layer on.
    #[serde(default = "default_true")]
    pub convnet_sc: bool,
    /// Residual update when a layer's input and output irreps agree (from the second layer on).
    #[serde(default)]
    pub convnet_resnet: bool,
    /// `float32` or `float64`: the precision the model computes in.
    #[serde(default = "default_model_dtype")]
    pub model_dtype: String,
    /// Seed of the weight initialisation.
    #[serde(default)]
    pub seed: u64,
}

/// Arithmetic precision of evaluation and training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

impl NequipConfig {
    /// A configuration with nequip's defaults for the given types and cutoff.
    pub fn new(type_names: Vec<String>, r_max: f64) -> Self {
        Self {
            type_names,
            r_max,
            num_layers: default_num_layers(),
            l_max: default_l_max(),
            parity: true,
            num_features: default_num_features(),
            radial_mlp_depth: default_radial_mlp_depth(),
            radial_mlp_width: default_radial_mlp_width(),
            num_bessels: default_num_bessels(),
            bessel_trainable: false,
            polynomial_cutoff_p: default_polynomial_cutoff_p(),
            avg_num_neighbors: None,
            per_type_energy_shifts: None,
            per_type_energy_scales: None,
            type_embed_num_features: None,
            convnet_sc: true,
            convnet_resnet: false,
            model_dtype: default_model_dtype(),
            seed: 0,
        }
    }

    /// Reads a YAML (`.yaml`/`.yml`), TOML (`.toml`) or JSON file. A nequip 0.19 config whose
    /// model sits under `training_module: model:` (or `model:`) is accepted; `${name}`
    /// references to top-level keys are resolved.
    pub fn from_file(path: &Path) -> Result<Self> {
        let fail = |reason: String| NequipError::ConfigFile {
            path: path.to_path_buf(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let value: serde_json::Value = match ext {
            "toml" => toml::from_str(&text).map_err(|e| fail(e.to_string()))?,
            "json" => serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?,
            _ => serde_yaml::from_str(&text).map_err(|e| fail(e.to_string()))?,
        };
        Self::from_value(value).map_err(|e| fail(e.to_string()))
    }

    /// Builds a configuration from a parsed document (see [`Self::from_file`]).
    pub fn from_value(root: serde_json::Value) -> Result<Self> {
        let model = root
            .pointer("/training_module/model")
            .or_else(|| root.get("model").filter(|m| m.is_object()))
            .cloned()
            .unwrap_or_else(|| root.clone());
        let model = resolve_references(model, &root);
        let config: NequipConfig =
            serde_json::from_value(model).map_err(|e| NequipError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value and their consistency.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(NequipError::Config(m));
        if self.type_names.is_empty() {
            return bad("type_names is empty".into());
        }
        for t in &self.type_names {
            if mlff_data::elements::atomic_number(t).is_none() {
                return bad(format!("type name {t:?} is not an element symbol"));
            }
        }
        if !(self.r_max.is_finite() && self.r_max > 0.0) {
            return bad(format!("r_max = {} must be positive", self.r_max));
        }
        if self.num_layers == 0 {
            return bad("num_layers must be at least 1".into());
        }
        if self.l_max > 6 {
            return bad(format!("l_max = {} is above the supported 6", self.l_max));
        }
        let features = self.features_per_l()?;
        if features.contains(&0) {
            return bad("num_features must be positive".into());
        }
        if self.num_bessels == 0 || self.radial_mlp_width == 0 && self.radial_mlp_depth > 0 {
            return bad("num_bessels and radial_mlp_width must be positive".into());
        }
        if self.polynomial_cutoff_p < 2 {
            return bad("polynomial_cutoff_p must be at least 2".into());
        }
        if let Some(a) = self.avg_num_neighbors
            && !(a.is_finite() && a > 0.0)
        {
            return bad(format!("avg_num_neighbors = {a} must be positive"));
        }
        self.precision()?;
        self.energy_shifts()?;
        self.energy_scales()?;
        Ok(())
    }

    /// `num_features` expanded to one multiplicity per `l`.
    pub fn features_per_l(&self) -> Result<Vec<usize>> {
        let n = self.l_max as usize + 1;
        match &self.num_features {
            NumFeatures::Uniform(f) => Ok(vec![*f; n]),
            NumFeatures::PerL(v) if v.len() == n => Ok(v.clone()),
            NumFeatures::PerL(v) => Err(NequipError::Config(format!(
                "num_features has {} entries, l_max + 1 = {n}",
                v.len()
            ))),
        }
    }

    /// The type-embedding width.
    pub fn type_embed_width(&self) -> Result<usize> {
        Ok(self
            .type_embed_num_features
            .unwrap_or(self.features_per_l()?[0]))
    }

    /// Per-type shifts in type order (0 when unset).
    pub fn energy_shifts(&self) -> Result<Vec<f64>> {
        match &self.per_type_energy_shifts {
            Some(p) => p.resolve("per_type_energy_shifts", &self.type_names),
            None => Ok(vec![0.0; self.type_names.len()]),
        }
    }

    /// Per-type scales in type order (1 when unset).
    pub fn energy_scales(&self) -> Result<Vec<f64>> {
        match &self.per_type_energy_scales {
            Some(p) => p.resolve("per_type_energy_scales", &self.type_names),
            None => Ok(vec![1.0; self.type_names.len()]),
        }
    }

    /// The compute precision named by `model_dtype`.
    pub fn precision(&self) -> Result<Precision> {
        match self.model_dtype.as_str() {
            "float32" | "f32" => Ok(Precision::F32),
            "float64" | "f64" => Ok(Precision::F64),
            other => Err(NequipError::Config(format!(
                "model_dtype {other:?} is not float32 or float64"
            ))),
        }
    }
}

/// Replaces string values `"${key}"` by the top-level value of `key` (hydra's simplest
/// interpolation, which nequip configs use for `r_max`, `type_names` …).
fn resolve_references(value: serde_json::Value, root: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if s.starts_with("${") && s.ends_with('}') => {
            let key = &s[2..s.len() - 1];
            root.get(key).cloned().unwrap_or(Value::String(s))
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, resolve_references(v, root)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| resolve_references(v, root))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nequip_yaml_with_training_module_and_references_loads() {
        let yaml = "
r_max: 4.0
type_names: [H, C, O]
training_module:
  model:
    r_max: ${r_max}
    type_names: ${type_names}
    num_layers: 3
    l_max: 2
    num_features: [16, 8, 4]
    per_type_energy_shifts: {H: -1.0, C: -2.0, O: -3.0}
    avg_num_neighbors: 5.0
  loss: ignored
";
        let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
        let c = NequipConfig::from_value(value).unwrap();
        assert_eq!(c.r_max, 4.0);
        assert_eq!(c.num_layers, 3);
        assert_eq!(c.features_per_l().unwrap(), vec![16, 8, 4]);
        assert_eq!(c.energy_shifts().unwrap(), vec![-1.0, -2.0, -3.0]);
        assert_eq!(c.energy_scales().unwrap(), vec![1.0; 3]);
        assert_eq!(c.radial_mlp_width, 64);
    }

    #[test]
    fn inconsistent_values_are_rejected() {
        let mut c = NequipConfig::new(vec!["H".into(), "Xx".into()], 4.0);
        assert!(c.validate().is_err());
        c.type_names = vec!["H".into()];
        c.num_features = NumFeatures::PerL(vec![8]);
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("num_features")
        );
        c.num_features = NumFeatures::Uniform(8);
        c.per_type_energy_shifts = Some(PerType::List(vec![1.0, 2.0]));
        assert!(c.validate().is_err());
        c.per_type_energy_shifts = None;
        c.r_max = -1.0;
        assert!(c.validate().is_err());
        c.r_max = 4.0;
        c.model_dtype = "float16".into();
        assert!(c.validate().is_err());
    }
}
