//! MD-stability analysis (Fu et al., "Forces are not enough", TMLR 2023).
//!
//! A run *collapses* at the first frame where any bonded distance deviates by more than
//! 0.5 Å from its mean over a reference trajectory; its stability time is the simulated time
//! before that frame. h(r) is the density-normalised histogram of all interatomic distances
//! (500 bins on 0–10 Å), compared with the reference one by mean absolute error. All
//! trajectories are flat row-major `(T, N, 3)` arrays in Å.

use crate::error::{MdError, Result, invalid, is_positive_finite};
use crate::units::FS_PER_PS;

/// The collapse threshold of Fu et al., Å.
pub const DEFAULT_COLLAPSE_THRESHOLD_A: f64 = 0.5;

/// Number of frames of a flat `(T, N, 3)` array, checking its shape.
fn frame_count(positions: &[f64], n_atoms: usize) -> Result<usize> {
    if n_atoms == 0 || positions.is_empty() {
        return Err(MdError::Empty {
            what: "trajectory positions".into(),
        });
    }
    if !positions.len().is_multiple_of(3 * n_atoms) {
        return Err(MdError::ShapeMismatch {
            what: format!("positions length (multiple of 3·{n_atoms})"),
            expected: positions.len().div_ceil(3 * n_atoms) * 3 * n_atoms,
            got: positions.len(),
        });
    }
    Ok(positions.len() / (3 * n_atoms))
}

#[inline]
fn distance(frame: &[f64], i: usize, j: usize) -> f64 {
    let d = [
        frame[3 * i] - frame[3 * j],
        frame[3 * i + 1] - frame[3 * j + 1],
        frame[3 * i + 2] - frame[3 * j + 2],
    ];
    (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
}

fn check_bonds(bonds: &[(usize, usize)], n_atoms: usize) -> Result<()> {
    if bonds.is_empty() {
        return Err(MdError::Empty {
            what: "bonds".into(),
        });
    }
    match bonds
        .iter()
        .position(|&(i, j)| i >= n_atoms || j >= n_atoms || i == j)
    {
        Some(b) => Err(invalid(
            "bonds",
            format!("{:?}", bonds[b]),
            &format!("bond {b} is not a pair of distinct atoms < {n_atoms}"),
        )),
        None => Ok(()),
    }
}

/// Mean length (Å) of every bond over a reference trajectory.
pub fn mean_bond_lengths(
    positions: &[f64],
    n_atoms: usize,
    bonds: &[(usize, usize)],
) -> Result<Vec<f64>> {
    let t = frame_count(positions, n_atoms)?;
    check_bonds(bonds, n_atoms)?;
    let mut sums = vec![0.0; bonds.len()];
    for frame in positions.chunks_exact(3 * n_atoms) {
        for (s, &(i, j)) in sums.iter_mut().zip(bonds) {
            *s += distance(frame, i, j);
        }
    }
    Ok(sums.into_iter().map(|s| s / t as f64).collect())
}

/// A bond found broken by a [`BondCriterion`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BrokenBond {
    /// The two atoms.
    pub atoms: (usize, usize),
    /// Their distance in the frame, Å (NaN for non-finite positions).
    pub length_a: f64,
    /// The bond's reference mean length, Å.
    pub reference_a: f64,
}

/// Fu et al.'s collapse test of one frame: some bond deviates from its reference mean length
/// by more than a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct BondCriterion {
    n_atoms: usize,
    bonds: Vec<(usize, usize)>,
    means: Vec<f64>,
    threshold_a: f64,
}

impl BondCriterion {
    /// A criterion from `bonds` of an `n_atoms` molecule, their reference mean lengths (Å) and
    /// the threshold (Å).
    pub fn new(
        n_atoms: usize,
        bonds: Vec<(usize, usize)>,
        reference_means: Vec<f64>,
        threshold_a: f64,
    ) -> Result<Self> {
        check_bonds(&bonds, n_atoms)?;
        if reference_means.len() != bonds.len() {
            return Err(MdError::ShapeMismatch {
                what: "reference bond means".into(),
                expected: bonds.len(),
                got: reference_means.len(),
            });
        }
        if let Some(b) = reference_means.iter().position(|m| !m.is_finite()) {
            return Err(MdError::NonFinite {
                what: "reference bond means".into(),
                location: format!("bond {b}"),
            });
        }
        if !is_positive_finite(threshold_a) {
            return Err(invalid("threshold_a", threshold_a, "must be > 0"));
        }
        Ok(Self {
            n_atoms,
            bonds,
            means: reference_means,
            threshold_a,
        })
    }

    /// Fu et al.'s criterion: bond means over a flat `(T, N, 3)` reference trajectory,
    /// threshold [`DEFAULT_COLLAPSE_THRESHOLD_A`].
    pub fn from_reference(
        reference: &[f64],
        n_atoms: usize,
        bonds: Vec<(usize, usize)>,
    ) -> Result<Self> {
        let means = mean_bond_lengths(reference, n_atoms, &bonds)?;
        Self::new(n_atoms, bonds, means, DEFAULT_COLLAPSE_THRESHOLD_A)
    }

    /// Number of atoms of the molecule.
    pub fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    /// The bonds, as atom pairs.
    pub fn bonds(&self) -> &[(usize, usize)] {
        &self.bonds
    }

    /// Reference mean length of each bond, Å.
    pub fn reference_means(&self) -> &[f64] {
        &self.means
    }

    /// The collapse threshold, Å.
    pub fn threshold_a(&self) -> f64 {
        self.threshold_a
    }

    /// The first broken bond of one flat `(N, 3)` frame, if any (a NaN length counts as broken).
    pub fn broken_bond(&self, frame: &[f64]) -> Result<Option<BrokenBond>> {
        if frame.len() != 3 * self.n_atoms {
            return Err(MdError::ShapeMismatch {
                what: "frame coordinates (3·atoms)".into(),
                expected: 3 * self.n_atoms,
                got: frame.len(),
            });
        }
        Ok(self.first_broken(frame))
    }

    /// [`broken_bond`](Self::broken_bond) of a frame whose length is known to be right.
    fn first_broken(&self, frame: &[f64]) -> Option<BrokenBond> {
        self.bonds
            .iter()
            .zip(&self.means)
            .find_map(|(&(i, j), &mean)| {
                let d = distance(frame, i, j);
                (d.is_nan() || (d - mean).abs() > self.threshold_a).then_some(BrokenBond {
                    atoms: (i, j),
                    length_a: d,
                    reference_a: mean,
                })
            })
    }
}

/// First frame where some bond deviates from its reference mean by more than `threshold_a`.
pub fn collapse_frame(
    positions: &[f64],
    n_atoms: usize,
    bonds: &[(usize, usize)],
    reference_means: &[f64],
    threshold_a: f64,
) -> Result<Option<usize>> {
    frame_count(positions, n_atoms)?;
    let criterion = BondCriterion::new(
        n_atoms,
        bonds.to_vec(),
        reference_means.to_vec(),
        threshold_a,
    )?;
    Ok(positions
        .chunks_exact(3 * n_atoms)
        .position(|frame| criterion.first_broken(frame).is_some()))
}

/// Outcome of a stability run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StabilityReport {
    /// First collapsed frame, if any.
    pub collapse_frame: Option<usize>,
    /// Frames before the collapse (all frames if none).
    pub stable_frames: usize,
    /// Simulated time before the collapse, ps.
    pub stability_time_ps: f64,
}

/// Collapse analysis of `positions` against a reference trajectory (same atoms and bonds).
pub fn stability(
    positions: &[f64],
    reference: &[f64],
    n_atoms: usize,
    bonds: &[(usize, usize)],
    frame_dt_fs: f64,
) -> Result<StabilityReport> {
    if !is_positive_finite(frame_dt_fs) {
        return Err(invalid("frame_dt_fs", frame_dt_fs, "must be > 0"));
    }
    let means = mean_bond_lengths(reference, n_atoms, bonds)?;
    let t = frame_count(positions, n_atoms)?;
    let collapse = collapse_frame(
        positions,
        n_atoms,
        bonds,
        &means,
        DEFAULT_COLLAPSE_THRESHOLD_A,
    )?;
    let stable_frames = collapse.unwrap_or(t);
    Ok(StabilityReport {
        collapse_frame: collapse,
        stable_frames,
        stability_time_ps: stable_frames as f64 * frame_dt_fs / FS_PER_PS,
    })
}

/// Histogram settings of h(r).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramConfig {
    /// Number of bins (500 in Fu et al.).
    pub n_bins: usize,
    /// Upper edge, Å (10 in Fu et al.); the lower edge is 0.
    pub r_max: f64,
}

impl Default for HistogramConfig {
    fn default() -> Self {
        Self {
            n_bins: 500,
            r_max: 10.0,
        }
    }
}

/// h(r): density-normalised histogram of all interatomic distances over all frames (like
/// `numpy.histogram(..., density=True)`: distances ≥ `r_max` are dropped, the in-range
/// histogram integrates to 1).
pub fn distance_histogram(
    positions: &[f64],
    n_atoms: usize,
    config: HistogramConfig,
) -> Result<Vec<f64>> {
    frame_count(positions, n_atoms)?;
    if config.n_bins == 0 || !is_positive_finite(config.r_max) {
        return Err(invalid(
            "histogram",
            format!("{config:?}"),
            "needs n_bins ≥ 1 and r_max > 0",
        ));
    }
    if n_atoms < 2 {
        return Err(MdError::Empty {
            what: "atom pairs (need ≥ 2 atoms)".into(),
        });
    }
    let width = config.r_max / config.n_bins as f64;
    let mut counts = vec![0u64; config.n_bins];
    let mut total = 0u64;
    for frame in positions.chunks_exact(3 * n_atoms) {
        for i in 0..n_atoms {
            for j in i + 1..n_atoms {
                let d = distance(frame, i, j);
                if d < config.r_max {
                    counts[(d / width) as usize] += 1;
                    total += 1;
                }
            }
        }
    }
    if total == 0 {
        return Err(MdError::Empty {
            what: format!("distances below r_max = {} Å", config.r_max),
        });
    }
    Ok(counts
        .into_iter()
        .map(|c| c as f64 / (total as f64 * width))
        .collect())
}

/// Mean absolute difference of two histograms of equal length.
pub fn histogram_mae(a: &[f64], b: &[f64]) -> Result<f64> {
    if a.len() != b.len() {
        return Err(MdError::ShapeMismatch {
            what: "histogram bins".into(),
            expected: a.len(),
            got: b.len(),
        });
    }
    if a.is_empty() {
        return Err(MdError::Empty {
            what: "histograms".into(),
        });
    }
    Ok(a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64)
}

/// NVE energy drift: least-squares slope of the total energy (kcal/mol) sampled every
/// `frame_dt_fs`, in kcal/mol per ps per atom.
pub fn energy_drift_per_atom(
    total_energies: &[f64],
    frame_dt_fs: f64,
    n_atoms: usize,
) -> Result<f64> {
    if total_energies.len() < 2 {
        return Err(MdError::Empty {
            what: "energies (need ≥ 2 frames)".into(),
        });
    }
    if !is_positive_finite(frame_dt_fs) || n_atoms == 0 {
        return Err(invalid(
            "frame_dt_fs/n_atoms",
            format!("{frame_dt_fs}/{n_atoms}"),
            "must be > 0",
        ));
    }
    if let Some(t) = total_energies.iter().position(|e| !e.is_finite()) {
        return Err(MdError::NonFinite {
            what: "total energy".into(),
            location: format!("frame {t}"),
        });
    }
    let n = total_energies.len() as f64;
    let t_mean = (n - 1.0) / 2.0;
    let e_mean = total_energies.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (k, e) in total_energies.iter().enumerate() {
        let dt = k as f64 - t_mean;
        sxy += dt * (e - e_mean);
        sxx += dt * dt;
    }
    let slope_per_frame = sxy / sxx;
    Ok(slope_per_frame / (frame_dt_fs / FS_PER_PS) / n_atoms as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two atoms on the x axis at separations `d[t]` (a diatomic "trajectory").
    fn diatomic(d: &[f64]) -> Vec<f64> {
        d.iter()
            .flat_map(|&x| [0.0, 0.0, 0.0, x, 0.0, 0.0])
            .collect()
    }

    #[test]
    fn collapse_is_found_at_the_known_frame() {
        let reference = diatomic(&[1.0, 1.1, 0.9, 1.0]);
        let run = diatomic(&[1.0, 1.3, 1.45, 1.6, 1.0]);
        let report = stability(&run, &reference, 2, &[(0, 1)], 0.5).unwrap();
        assert_eq!(report.collapse_frame, Some(3));
        assert_eq!(report.stable_frames, 3);
        assert!((report.stability_time_ps - 0.0015).abs() < 1e-15);
        let stable = stability(&diatomic(&[1.0, 1.2]), &reference, 2, &[(0, 1)], 0.5).unwrap();
        assert_eq!(stable.collapse_frame, None);
        let nan = stability(&diatomic(&[1.0, f64::NAN]), &reference, 2, &[(0, 1)], 0.5).unwrap();
        assert_eq!(nan.collapse_frame, Some(1));
    }

    #[test]
    fn histogram_is_a_density_and_mae_vanishes_for_identical_runs() {
        let run = diatomic(&[1.01, 2.005, 2.015, 12.0]);
        let h = distance_histogram(&run, 2, HistogramConfig::default()).unwrap();
        assert_eq!(h.len(), 500);
        let integral: f64 = h.iter().sum::<f64>() * 0.02;
        assert!((integral - 1.0).abs() < 1e-12);
        assert!((h[50] - 1.0 / 3.0 / 0.02).abs() < 1e-9); // 1.01 Å → bin 50
        assert!((h[100] - 2.0 / 3.0 / 0.02).abs() < 1e-9); // 2.005, 2.015 Å → bin 100
        assert_eq!(histogram_mae(&h, &h).unwrap(), 0.0);
        let other = distance_histogram(&diatomic(&[3.0]), 2, HistogramConfig::default()).unwrap();
        // Disjoint unit-mass histograms: MAE = 2 / (n_bins · width).
        assert!((histogram_mae(&h, &other).unwrap() - 2.0 / (500.0 * 0.02)).abs() < 1e-9);
    }

    #[test]
    fn drift_of_a_linear_ramp_is_its_slope() {
        let e: Vec<f64> = (0..100).map(|k| 3.0 + 0.002 * k as f64).collect();
        // 0.002 kcal/mol per 0.5 fs frame = 4 kcal/mol/ps, over 4 atoms.
        let drift = energy_drift_per_atom(&e, 0.5, 4).unwrap();
        assert!((drift - 1.0).abs() < 1e-9);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(mean_bond_lengths(&[], 2, &[(0, 1)]).is_err());
        assert!(mean_bond_lengths(&[0.0; 7], 2, &[(0, 1)]).is_err());
        assert!(mean_bond_lengths(&[0.0; 6], 2, &[(0, 2)]).is_err());
        assert!(histogram_mae(&[1.0], &[1.0, 2.0]).is_err());
        assert!(energy_drift_per_atom(&[1.0], 0.5, 3).is_err());
        assert!(energy_drift_per_atom(&[1.0, f64::NAN], 0.5, 3).is_err());
    }
}
