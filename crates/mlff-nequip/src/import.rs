//! Import of models trained with pip nequip: a state_dict exported as npz plus its config.
//!
//! The npz holds every tensor under its state_dict name (`model.func.<module path>`).
//! Parameters we know are copied after a shape check; buffers that carry no information for
//! the forward pass (e3nn's `output_mask`s, cached Wigner 3j tables, empty placeholders) are
//! skipped; anything else non-empty is an error, so a model with a feature we do not
//! implement (a pair potential, trainable shifts under another name …) is refused rather
//! than evaluated wrongly.

use crate::config::NequipConfig;
use crate::error::{NequipError, Result};
use crate::model::Nequip;
use mlff_data::format::NpzReader;
use std::path::Path;

const PREFIX: &str = "model.func.";

fn is_known_buffer(name: &str) -> bool {
    name.ends_with("output_mask")
        || name.contains("._w3j_")
        || name.ends_with("._empty")
        || name.ends_with("edge_norm._rmax_recip")
}

/// Loads `dir/config.{json,yaml,yml,toml}` and `dir/weights.npz` (the fixture layout).
pub fn load_nequip_dir(dir: &Path) -> Result<Nequip> {
    let config_path = ["config.json", "config.yaml", "config.yml", "config.toml"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| NequipError::ConfigFile {
            path: dir.to_path_buf(),
            reason: "no config.json/config.yaml/config.toml in this directory".into(),
        })?;
    let config = NequipConfig::from_file(&config_path)?;
    load_state_dict(config, &dir.join("weights.npz"))
}

/// A model with `config`'s architecture and the weights of a nequip state_dict npz.
pub fn load_state_dict(config: NequipConfig, weights: &Path) -> Result<Nequip> {
    let template = Nequip::new(config.clone())?;
    let layout = template.architecture().layout.clone();
    let mut params = template.params().to_vec();
    let mut reader = NpzReader::open(weights)?;
    let names = reader.names().to_vec();
    let mut seen = vec![false; layout.segments().len()];
    for name in &names {
        let array = reader
            .floats(name)?
            .ok_or_else(|| NequipError::Weights(format!("{name} vanished from the archive")))?;
        let short = name.strip_prefix(PREFIX).unwrap_or(name);
        if let Some((k, seg)) = layout
            .segments()
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == short)
        {
            if array.values.len() != seg.len() {
                return Err(NequipError::Weights(format!(
                    "{name} has shape {:?}, the configuration implies {:?}",
                    array.shape, seg.shape
                )));
            }
            params[seg.range()].copy_from_slice(&array.values);
            seen[k] = true;
        } else if short.ends_with("_rmax_recip") {
            let expected = 1.0 / config.r_max;
            if array.values.iter().any(|v| (v - expected).abs() > 1e-12) {
                return Err(NequipError::Weights(format!(
                    "{name} = {:?} disagrees with r_max = {}",
                    array.values, config.r_max
                )));
            }
        } else if !array.values.is_empty() && !is_known_buffer(short) {
            return Err(NequipError::Weights(format!(
                "{name} ({:?}) is not a parameter of this architecture",
                array.shape
            )));
        }
    }
    // Scales/shifts and Bessel frequencies may come from the config instead of the file.
    let optional = [
        "per_type_energy_scale_shift",
        "bessel_encode.bessel_weights",
    ];
    if let Some(missing) = layout
        .segments()
        .iter()
        .zip(&seen)
        .find(|(s, seen)| !**seen && !optional.iter().any(|o| s.name.starts_with(o)))
    {
        return Err(NequipError::Weights(format!(
            "{PREFIX}{} missing from {}",
            missing.0.name,
            weights.display()
        )));
    }
    Nequip::with_params(config, params)
}
