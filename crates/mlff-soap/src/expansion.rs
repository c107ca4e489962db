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
//! sums over neighbours are first collected on the primitive Gaussians and mapped to the
//! orthonormal basis by one `n_max × n_max` matrix product per (centre, species, l) at the end,
//! instead of once per neighbour.

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
pub(crate) fn gto_coefficients(
    shape: &ExpansionShape,
    basis: &GtoBasis,
    harmonics: &SolidHarmonics,
    frame: &FrameAtoms<'_>,
    out: &mut [f64],
) {
    let len = shape.len();
    let n_max = shape.n_max;
    let mut rlm = vec![0.0; harmonics.len()];
    let mut gauss = vec![0.0; basis.decay.len()];
    // Primitive-Gaussian sums, same layout as the output (row = species·n_max + k).
    let mut acc = vec![0.0; frame.n_centres * len];
    let y00 = 0.5 / PI.sqrt();
    let n_atoms = frame.positions.len();
    for a in 0..n_atoms {
        if let Some(slot) = frame.centre_slot[a] {
            // The centre's own Gaussian: only l = 0, exp(0) = 1 for every primitive.
            let base = frame.species[a] * n_max;
            for v in &mut acc[slot * len + base..slot * len + base + n_max] {
                *v += y00;
            }
        }
        for b in (a + 1)..n_atoms {
            let (slot_a, slot_b) = (frame.centre_slot[a], frame.centre_slot[b]);
            if slot_a.is_none() && slot_b.is_none() {
                continue;
            }
            let (pa, pb) = (frame.positions[a], frame.positions[b]);
            let d = [pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]];
            let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            if r2 > frame.cutoff2 {
                continue;
            }
            harmonics.compute(d, &mut rlm);
            for (g, &decay) in gauss.iter_mut().zip(&basis.decay) {
                *g = (decay * r2).exp();
            }
            if let Some(slot) = slot_a {
                let acc_a = &mut acc[slot * len..(slot + 1) * len];
                accumulate_pair(shape, acc_a, frame.species[b], &gauss, &rlm, false);
            }
            if let Some(slot) = slot_b {
                let acc_b = &mut acc[slot * len..(slot + 1) * len];
                accumulate_pair(shape, acc_b, frame.species[a], &gauss, &rlm, true);
            }
        }
    }
    for (acc_c, out_c) in acc.chunks_exact(len).zip(out.chunks_exact_mut(len)) {
        primitive_to_orthonormal(shape, basis, acc_c, out_c);
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
