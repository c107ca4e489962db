//! Density expansion coefficients `c^{Z}_{nlm}` of every selected centre in a frame.
//!
//! Per-centre storage ("l-major"): for each `l` a block of `n_species · n_max` rows
//! (row `s · n_max + n`) by `2l + 1` columns (m = -l..=l), at offset `n_species · n_max · l²`.
//! Keeping the m-values of one (species, n) contiguous makes the power spectrum a set of
//! small dense dot products.
//!
//! GTO basis (the fast path): each unordered atom pair within the cutoff is visited once.
//! Its solid harmonics `R_lm(d)` and the `n_max · (l_max+1)` Gaussian factors
//! `exp(-αη/(α+η)|d|²)` are computed once and added to *both* centres, with the parity
//! `R_lm(-d) = (-1)^l R_lm(d)` for the reversed pair — halving the transcendental work. The
//! map from the primitive Gaussians to the orthonormal basis is applied either once per pair
//! (small neighbourhoods) or once per (centre, species, l) after summing (large ones),
//! whichever costs fewer operations.

use crate::gto::GtoBasis;
use crate::polynomial::PolynomialBasis;
use crate::solid_harmonics::SolidHarmonics;
use std::f64::consts::PI;

/// Geometry and sizes shared by the coefficient routines.
pub(crate) struct ExpansionShape {
    pub(crate) n_species: usize,
    pub(crate) n_max: usize,
    pub(crate) l_max: usize,
}

impl ExpansionShape {
    /// Coefficients per centre: `n_species · n_max · (l_max+1)²`.
    pub(crate) fn len(&self) -> usize {
        self.n_species * self.n_max * (self.l_max + 1) * (self.l_max + 1)
    }

    /// Offset of the l-block.
    #[inline]
    pub(crate) fn l_offset(&self, l: usize) -> usize {
        self.n_species * self.n_max * l * l
    }
}

/// A frame reduced to what the expansion needs.
pub(crate) struct FrameAtoms<'a> {
    /// Species index of every atom.
    pub(crate) species: &'a [usize],
    /// Cartesian positions, one `[x, y, z]` per atom.
    pub(crate) positions: &'a [[f64; 3]],
    /// For every atom, its output row if it is a centre.
    pub(crate) centre_slot: &'a [Option<usize>],
    /// Number of centres.
    pub(crate) n_centres: usize,
    /// Squared neighbour cutoff (`(r_cut + padding)²`).
    pub(crate) cutoff2: f64,
}

/// Adds one neighbour's primitive-Gaussian contributions to a centre's accumulator.
#[inline]
fn accumulate_pair(
    shape: &ExpansionShape,
    acc: &mut [f64],
    species: usize,
    gauss: &[f64],
    harmonics: &[f64],
    parity_flip: bool,
) {
    let n_max = shape.n_max;
    for l in 0..=shape.l_max {
        let width = 2 * l + 1;
        let sign = if parity_flip && l % 2 == 1 { -1.0 } else { 1.0 };
        let rlm = &harmonics[l * l..l * l + width];
        let base = shape.l_offset(l) + species * n_max * width;
        let block = &mut acc[base..base + n_max * width];
        for (k, row) in block.chunks_exact_mut(width).enumerate() {
            let g = sign * gauss[l * n_max + k];
            for (a, &r) in row.iter_mut().zip(rlm) {
                *a += g * r;
            }
        }
    }
}

/// GTO coefficients of all centres into `out` (`n_centres × shape.len()`, zeroed by caller).
///
/// Two equivalent orders of the orthonormalisation, picked by cost: per pair (map the
/// `n_max` primitive factors to the orthonormal radial values once per pair, shared by both
/// centres: `n_max² (l_max+1)` per pair) when neighbourhoods are small, as in molecules; or
/// deferred (accumulate on primitives, map once per centre and species:
/// `S n_max² (l_max+1)²` per centre) when there are more than `S (l_max+1)` pairs per centre.
pub(crate) fn gto_coefficients(
    shape: &ExpansionShape,
    basis: &GtoBasis,
    harmonics: &SolidHarmonics,
    frame: &FrameAtoms<'_>,
    out: &mut [f64],
) {
    let n_pairs = frame.count_pairs();
    if n_pairs < frame.n_centres * shape.n_species * (shape.l_max + 1) {
        accumulate_frame(shape, basis, harmonics, frame, true, out);
    } else {
        let len = shape.len();
        let mut acc = vec![0.0; frame.n_centres * len];
        accumulate_frame(shape, basis, harmonics, frame, false, &mut acc);
        for (acc_c, out_c) in acc.chunks_exact(len).zip(out.chunks_exact_mut(len)) {
            primitive_to_orthonormal(shape, basis, acc_c, out_c);
        }
    }
}

impl FrameAtoms<'_> {
    /// Unordered pairs within the cutoff that involve at least one centre.
    fn count_pairs(&self) -> usize {
        let n = self.positions.len();
        (0..n)
            .map(|a| {
                ((a + 1)..n)
                    .filter(|&b| {
                        (self.centre_slot[a].is_some() || self.centre_slot[b].is_some())
                            && distance2(self.positions[a], self.positions[b]) <= self.cutoff2
                    })
                    .count()
            })
            .sum()
    }
}

#[inline]
fn distance2(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|k| (b[k] - a[k]) * (b[k] - a[k])).sum()
}

/// Sums every pair's contributions into `target` (one row of `shape.len()` per centre):
/// in the orthonormal basis when `orthonormal`, else on the primitive Gaussians.
fn accumulate_frame(
    shape: &ExpansionShape,
    basis: &GtoBasis,
    harmonics: &SolidHarmonics,
    frame: &FrameAtoms<'_>,
    orthonormal: bool,
    target: &mut [f64],
) {
    let len = shape.len();
    let n_max = shape.n_max;
    let mut rlm = vec![0.0; harmonics.len()];
    let mut gauss = vec![0.0; basis.decay.len()];
    let mut radial = vec![0.0; basis.decay.len()];
    let y00 = 0.5 / PI.sqrt();
    // The centre's own Gaussian: only l = 0, exp(0) = 1 for every primitive.
    let own: Vec<f64> = (0..n_max)
        .map(|n| {
            if orthonormal {
                y00 * basis.transform[n * n_max..(n + 1) * n_max]
                    .iter()
                    .sum::<f64>()
            } else {
                y00
            }
        })
        .collect();
    let n_atoms = frame.positions.len();
    for a in 0..n_atoms {
        if let Some(slot) = frame.centre_slot[a] {
            let base = slot * len + frame.species[a] * n_max;
            for (v, o) in target[base..base + n_max].iter_mut().zip(&own) {
                *v += o;
            }
        }
        for b in (a + 1)..n_atoms {
            let (slot_a, slot_b) = (frame.centre_slot[a], frame.centre_slot[b]);
            if slot_a.is_none() && slot_b.is_none() {
                continue;
            }
            let (pa, pb) = (frame.positions[a], frame.positions[b]);
            let r2 = distance2(pa, pb);
            if r2 > frame.cutoff2 {
                continue;
            }
            harmonics.compute([pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]], &mut rlm);
            for (g, &decay) in gauss.iter_mut().zip(&basis.decay) {
                *g = (decay * r2).exp();
            }
            let factors = if orthonormal {
                for (l_rows, (l_gauss, l_t)) in radial.chunks_exact_mut(n_max).zip(
                    gauss
                        .chunks_exact(n_max)
                        .zip(basis.transform.chunks_exact(n_max * n_max)),
                ) {
                    for (r, t_row) in l_rows.iter_mut().zip(l_t.chunks_exact(n_max)) {
                        *r = t_row.iter().zip(l_gauss).map(|(t, g)| t * g).sum();
                    }
                }
                &radial
            } else {
                &gauss
            };
            if let Some(slot) = slot_a {
                let row = &mut target[slot * len..(slot + 1) * len];
                accumulate_pair(shape, row, frame.species[b], factors, &rlm, false);
            }
            if let Some(slot) = slot_b {
                let row = &mut target[slot * len..(slot + 1) * len];
                accumulate_pair(shape, row, frame.species[a], factors, &rlm, true);
            }
        }
    }
}

/// `c[l][s][n][m] = Σ_k T[l,n,k] · acc[l][s][k][m]` for one centre.
fn primitive_to_orthonormal(
    shape: &ExpansionShape,
    basis: &GtoBasis,
    acc: &[f64],
    out: &mut [f64],
) {
    let n_max = shape.n_max;
    for l in 0..=shape.l_max {
        let width = 2 * l + 1;
        let t = &basis.transform[l * n_max * n_max..(l + 1) * n_max * n_max];
        for s in 0..shape.n_species {
            let base = shape.l_offset(l) + s * n_max * width;
            let src = &acc[base..base + n_max * width];
            if src.iter().all(|&v| v == 0.0) {
                continue; // species absent from this environment
            }
            let dst = &mut out[base..base + n_max * width];
            for (n, dst_row) in dst.chunks_exact_mut(width).enumerate() {
                for (k, src_row) in src.chunks_exact(width).enumerate() {
                    let w = t[n * n_max + k];
                    for (d, &v) in dst_row.iter_mut().zip(src_row) {
                        *d += w * v;
                    }
                }
            }
        }
    }
}

/// Polynomial-basis coefficients of all centres into `out` (zeroed by caller).
pub(crate) fn polynomial_coefficients(
    shape: &ExpansionShape,
    basis: &PolynomialBasis,
    harmonics: &SolidHarmonics,
    frame: &FrameAtoms<'_>,
    out: &mut [f64],
) {
    let len = shape.len();
    let (n_max, l_max) = (shape.n_max, shape.l_max);
    let nl = l_max + 1;
    let mut rlm = vec![0.0; harmonics.len()];
    let mut bessel = vec![0.0; nl * basis.radii.len()];
    let mut h = vec![0.0; n_max * nl];
    let y00 = 0.5 / PI.sqrt();
    let centre_terms: Vec<f64> = (0..n_max).map(|n| y00 * basis.centre_integral(n)).collect();
    for (a, slot) in frame.centre_slot.iter().enumerate() {
        let Some(slot) = *slot else { continue };
        let c = &mut out[slot * len..(slot + 1) * len];
        let pa = frame.positions[a];
        for (b, pb) in frame.positions.iter().enumerate() {
            let d = [pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]];
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if r2 > frame.cutoff2 {
                continue;
            }
            let s = frame.species[b];
            if r2 <= 1e-12 {
                for (n, &t) in centre_terms.iter().enumerate() {
                    c[s * n_max + n] += t;
                }
                continue;
            }
            let r = r2.sqrt();
            harmonics.compute(d, &mut rlm);
            basis.radial_integrals(r, l_max, &mut bessel, &mut h);
            let mut inv_rl = 1.0;
            for l in 0..=l_max {
                let width = 2 * l + 1;
                let base = shape.l_offset(l) + s * n_max * width;
                let ylm = &rlm[l * l..l * l + width];
                for n in 0..n_max {
                    let w = h[n * nl + l] * inv_rl;
                    let row = &mut c[base + n * width..base + (n + 1) * width];
                    for (x, &y) in row.iter_mut().zip(ylm) {
                        *x += w * y;
                    }
                }
                inv_rl /= r;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-pair and deferred orthonormalisation orders give the same coefficients.
    #[test]
    fn per_pair_and_deferred_orders_agree() {
        let shape = ExpansionShape {
            n_species: 2,
            n_max: 5,
            l_max: 4,
        };
        let basis = GtoBasis::new(4.0, 5, 4, 2.0).unwrap();
        let harmonics = SolidHarmonics::new(4);
        let positions: Vec<[f64; 3]> = (0..7)
            .map(|i| {
                let t = i as f64;
                [(1.3 * t).sin() * 1.5, (0.7 * t).cos() * 1.2, 0.4 * t - 1.0]
            })
            .collect();
        let species = [0, 1, 1, 0, 1, 0, 0];
        let centre_slot = [Some(0), None, Some(1), Some(2), None, Some(3), None];
        let frame = FrameAtoms {
            species: &species,
            positions: &positions,
            centre_slot: &centre_slot,
            n_centres: 4,
            cutoff2: 25.0,
        };
        let len = shape.len();
        let mut direct = vec![0.0; 4 * len];
        accumulate_frame(&shape, &basis, &harmonics, &frame, true, &mut direct);
        let mut acc = vec![0.0; 4 * len];
        accumulate_frame(&shape, &basis, &harmonics, &frame, false, &mut acc);
        let mut deferred = vec![0.0; 4 * len];
        for (a, o) in acc.chunks_exact(len).zip(deferred.chunks_exact_mut(len)) {
            primitive_to_orthonormal(&shape, &basis, a, o);
        }
        let scale = direct.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in direct.iter().zip(&deferred) {
            assert!((x - y).abs() <= 1e-12 * scale, "{x} vs {y}");
        }
    }
}
