//! A dataset at a glance: the statistics `cargo xtask data info` prints.

use crate::dataset::{Dataset, TimeOrder};
use crate::elements;
use serde::Serialize;
use std::fmt;

/// Mean, standard deviation, minimum and maximum of a set of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Arithmetic mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Stats {
    /// Statistics of `values` (Welford's update keeps the variance accurate for large offsets
    /// such as total energies near -10⁵ kcal/mol); `None` when empty.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Stats> {
        let (mut n, mut mean, mut m2) = (0u64, 0.0, 0.0);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            n += 1;
            let delta = v - mean;
            mean += delta / n as f64;
            m2 += delta * (v - mean);
            min = min.min(v);
            max = max.max(v);
        }
        (n > 0).then(|| Stats {
            mean,
            std: (m2 / n as f64).sqrt(),
            min,
            max,
        })
    }
}

/// Summary statistics of a dataset.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Format name.
    pub format: String,
    /// Molecule name, if known.
    pub molecule: Option<String>,
    /// Level of theory, if known.
    pub theory: Option<String>,
    /// Number of frames.
    pub frames: usize,
    /// Atoms per frame.
    pub atoms: usize,
    /// Element symbols with their count per frame (for a fixed molecule), in order of Z.
    pub composition: Vec<(String, usize)>,
    /// Units, as text.
    pub units: String,
    /// Statistics of total energies.
    pub energy: Option<Stats>,
    /// Statistics of force components.
    pub force_components: Option<Stats>,
    /// Root mean square of force components.
    pub force_rms: Option<f64>,
    /// Largest force-vector norm.
    pub force_max_norm: Option<f64>,
    /// How the trajectory order is known: `sequential`, `indexed` or `unknown`.
    pub time_order: &'static str,
    /// Time between trajectory steps in fs, if known.
    pub time_step_fs: Option<f64>,
}

impl Summary {
    /// Computes the summary of `data`.
    pub fn of(data: &Dataset) -> Summary {
        let first = data.species().of_frame(0);
        let composition = data
            .species()
            .elements()
            .into_iter()
            .map(|z| {
                let symbol = elements::symbol(z).unwrap_or("?").to_owned();
                (symbol, first.iter().filter(|&&x| x == z).count())
            })
            .collect();
        let forces = data.forces();
        let p = data.provenance();
        Summary {
            format: p.format.map_or("in memory", |f| f.name()).to_owned(),
            molecule: p.molecule.clone(),
            theory: p.theory.clone(),
            frames: data.len(),
            atoms: data.n_atoms(),
            composition,
            units: data.units().to_string(),
            energy: data.energies().and_then(|e| Stats::of(e.iter().copied())),
            force_components: forces.and_then(|f| Stats::of(f.iter().copied())),
            force_rms: forces
                .map(|f| (f.iter().map(|x| x * x).sum::<f64>() / f.len() as f64).sqrt()),
            force_max_norm: forces.map(|f| {
                f.rows()
                    .into_iter()
                    .map(|r| r.dot(&r).sqrt())
                    .fold(0.0, f64::max)
            }),
            time_order: match data.time_order() {
                TimeOrder::Sequential => "sequential (frames are in trajectory order)",
                TimeOrder::Indexed(_) => "indexed (each frame records its trajectory step)",
                TimeOrder::Unknown => "unknown",
            },
            time_step_fs: p.time_step_fs,
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_unknown = |s: &Option<String>| s.clone().unwrap_or_else(|| "unknown".into());
        writeln!(f, "  format       {}", self.format)?;
        writeln!(f, "  molecule     {}", or_unknown(&self.molecule))?;
        writeln!(f, "  theory       {}", or_unknown(&self.theory))?;
        let formula: Vec<String> = self
            .composition
            .iter()
            .map(|(s, n)| format!("{s}{n}"))
            .collect();
        writeln!(f, "  frames       {}", self.frames)?;
        writeln!(f, "  atoms        {} ({})", self.atoms, formula.join(" "))?;
        writeln!(f, "  units        {}", self.units)?;
        match &self.energy {
            Some(e) => writeln!(
                f,
                "  energy       mean {:.4}  std {:.4}  min {:.4}  max {:.4}",
                e.mean, e.std, e.min, e.max
            )?,
            None => writeln!(f, "  energy       none (geometries only)")?,
        }
        match (&self.force_components, self.force_rms, self.force_max_norm) {
            (Some(c), Some(rms), Some(max)) => writeln!(
                f,
                "  forces       component mean {:.4}  rms {:.4}  max |F| {:.4}",
                c.mean, rms, max
            )?,
            _ => writeln!(f, "  forces       none")?,
        }
        write!(f, "  time order   {}", self.time_order)?;
        if let Some(dt) = self.time_step_fs {
            write!(f, ", {dt} fs per step")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_accurate_with_a_large_offset() {
        let s = Stats::of([
            -97000.0 + 1.0,
            -97000.0 - 1.0,
            -97000.0 + 1.0,
            -97000.0 - 1.0,
        ])
        .unwrap();
        assert_eq!(s.mean, -97000.0);
        assert!((s.std - 1.0).abs() < 1e-12);
        assert_eq!((s.min, s.max), (-97001.0, -96999.0));
        assert!(Stats::of([]).is_none());
    }
}
