//! The SOAP calculator: validated parameters plus precomputed basis tables.

use crate::error::SoapError;
use crate::expansion::{ExpansionShape, FrameAtoms, gto_coefficients, polynomial_coefficients};
use crate::gto::GtoBasis;
use crate::layout::FeatureLayout;
use crate::params::{Average, RadialBasisKind, SoapParams};
use crate::polynomial::PolynomialBasis;
use crate::power_spectrum::{power_spectrum, prefactors};
use crate::solid_harmonics::SolidHarmonics;
use ndarray::{Array2, Array3, Array4, ArrayView1, ArrayView2, ArrayView3, Axis};
use rayon::prelude::*;

/// Precomputed radial basis.
#[derive(Debug, Clone)]
enum RadialBasis {
    Gto(GtoBasis),
    Polynomial(PolynomialBasis),
}

/// A SOAP calculator (DScribe 2.1.2 conventions, finite systems). Build once, use for many
/// frames; it is `Sync`, so frames can be processed in parallel.
#[derive(Debug, Clone)]
pub struct Soap {
    params: SoapParams,
    species: Vec<u32>,
    basis: RadialBasis,
    harmonics: SolidHarmonics,
    layout: FeatureLayout,
    prefactor: Vec<f64>,
}

/// A frame's atoms checked against the calculator: species indices and positions.
struct CheckedFrame {
    species: Vec<usize>,
    positions: Vec<[f64; 3]>,
    centre_slot: Vec<Option<usize>>,
    n_centres: usize,
}

impl Soap {
    /// Validates the parameters and precomputes the basis.
    pub fn new(params: SoapParams) -> Result<Self, SoapError> {
        let species = params.validate()?;
        let eta = params.eta();
        let basis = match params.rbf {
            RadialBasisKind::Gto => RadialBasis::Gto(GtoBasis::new(
                params.r_cut,
                params.n_max,
                params.l_max,
                eta,
            )?),
            RadialBasisKind::Polynomial => {
                RadialBasis::Polynomial(PolynomialBasis::new(params.r_cut, params.n_max, eta)?)
            }
        };
        Ok(Self {
            harmonics: SolidHarmonics::new(params.l_max),
            layout: FeatureLayout::new(&species, params.n_max, params.l_max),
            prefactor: prefactors(params.l_max),
            species,
            basis,
            params,
        })
    }

    /// The parameters this calculator was built with.
    pub fn params(&self) -> &SoapParams {
        &self.params
    }

    /// The sorted species list.
    pub fn species(&self) -> &[u32] {
        &self.species
    }

    /// The column layout (species-pair blocks).
    pub fn layout(&self) -> &FeatureLayout {
        &self.layout
    }

    /// Value of the orthonormal radial basis function `g_nl(r)` (GTO) or `g_n(r)`
    /// (polynomial, independent of `l`) at `r` Å — for plots and independent checks.
    pub fn radial_function(&self, n: usize, l: usize, r: f64) -> f64 {
        match &self.basis {
            RadialBasis::Gto(b) => b.radial_function(l, n, r),
            RadialBasis::Polynomial(b) => b.radial_function(n, r),
        }
    }

    /// Number of power-spectrum columns.
    pub fn n_features(&self) -> usize {
        self.layout.n_features()
    }

    /// The same calculator with another averaging mode (shares nothing mutable; cheap clone).
    pub fn with_average(&self, average: Average) -> Self {
        let mut other = self.clone();
        other.params.average = average;
        other
    }

    fn shape(&self) -> ExpansionShape {
        ExpansionShape {
            n_species: self.species.len(),
            n_max: self.params.n_max,
            l_max: self.params.l_max,
        }
    }

    /// Checks one frame; `centres = None` selects every atom.
    fn check_frame(
        &self,
        numbers: ArrayView1<'_, u32>,
        positions: ArrayView2<'_, f64>,
        centres: Option<&[usize]>,
    ) -> Result<CheckedFrame, SoapError> {
        let n_atoms = numbers.len();
        if n_atoms == 0 {
            return Err(SoapError::EmptyInput("a frame has no atoms"));
        }
        if positions.dim() != (n_atoms, 3) {
            return Err(SoapError::ShapeMismatch {
                what: "positions",
                expected: format!("({n_atoms}, 3)"),
                got: format!("{:?}", positions.shape()),
            });
        }
        let species = numbers
            .iter()
            .enumerate()
            .map(|(atom, &z)| {
                self.species
                    .binary_search(&z)
                    .map_err(|_| SoapError::UnknownSpecies {
                        atom,
                        z,
                        species: self.species.clone(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut coords = Vec::with_capacity(n_atoms);
        for (i, row) in positions.outer_iter().enumerate() {
            let p = [row[0], row[1], row[2]];
            if let Some(k) = p.iter().position(|v| !v.is_finite()) {
                return Err(SoapError::NonFinite {
                    what: "positions",
                    index: 3 * i + k,
                });
            }
            coords.push(p);
        }
        let mut centre_slot = vec![None; n_atoms];
        let n_centres = match centres {
            None => {
                for (i, slot) in centre_slot.iter_mut().enumerate() {
                    *slot = Some(i);
                }
                n_atoms
            }
            Some([]) => return Err(SoapError::EmptyInput("the centre selection is empty")),
            Some(list) => {
                // A centre listed twice gets its own output row each time (as in DScribe);
                // the expansion writes the first row, the duplicates are copied afterwards.
                for (row, &index) in list.iter().enumerate() {
                    if index >= n_atoms {
                        return Err(SoapError::CentreOutOfRange { index, n_atoms });
                    }
                    centre_slot[index].get_or_insert(row);
                }
                list.len()
            }
        };
        Ok(CheckedFrame {
            species,
            positions: coords,
            centre_slot,
            n_centres,
        })
    }

    /// Expansion coefficients of a checked frame, one row of `shape.len()` per centre.
    fn frame_coefficients(&self, frame: &CheckedFrame, centres: Option<&[usize]>) -> Array2<f64> {
        let shape = self.shape();
        let cutoff = self.params.r_cut + self.params.cutoff_padding();
        let atoms = FrameAtoms {
            species: &frame.species,
            positions: &frame.positions,
            centre_slot: &frame.centre_slot,
            n_centres: frame.n_centres,
            cutoff2: cutoff * cutoff,
        };
        let mut out = Array2::zeros((frame.n_centres, shape.len()));
        let flat = out
            .as_slice_mut()
            .expect("freshly allocated arrays are contiguous");
        match &self.basis {
            RadialBasis::Gto(b) => gto_coefficients(&shape, b, &self.harmonics, &atoms, flat),
            RadialBasis::Polynomial(b) => {
                polynomial_coefficients(&shape, b, &self.harmonics, &atoms, flat)
            }
        }
        if let Some(list) = centres {
            for (row, &index) in list.iter().enumerate() {
                let first = frame.centre_slot[index].expect("every listed centre has a slot");
                if first != row {
                    let src = out.row(first).to_owned();
                    out.row_mut(row).assign(&src);
                }
            }
        }
        out
    }

    /// Expansion coefficients `(centres, species, n_max, (l_max+1)²)` with the m-index
    /// `l² + l + m` (real harmonics, sine terms at negative m). DScribe's coefficient array has
    /// the same shape and values up to the order and signs of m inside each l, which the power
    /// spectrum does not see.
    pub fn coefficients(
        &self,
        numbers: ArrayView1<'_, u32>,
        positions: ArrayView2<'_, f64>,
        centres: Option<&[usize]>,
    ) -> Result<Array4<f64>, SoapError> {
        let frame = self.check_frame(numbers, positions, centres)?;
        let raw = self.frame_coefficients(&frame, centres);
        let shape = self.shape();
        let nlm = (shape.l_max + 1) * (shape.l_max + 1);
        let mut out = Array4::zeros((raw.nrows(), shape.n_species, shape.n_max, nlm));
        for (c, row) in raw.outer_iter().enumerate() {
            for l in 0..=shape.l_max {
                let width = 2 * l + 1;
                for s in 0..shape.n_species {
                    for n in 0..shape.n_max {
                        let start = shape.l_offset(l) + (s * shape.n_max + n) * width;
                        for m in 0..width {
                            out[[c, s, n, l * l + m]] = row[start + m];
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// SOAP of one frame for every atom: `(atoms, features)`, or `(1, features)` when averaged.
    pub fn compute(
        &self,
        numbers: ArrayView1<'_, u32>,
        positions: ArrayView2<'_, f64>,
    ) -> Result<Array2<f64>, SoapError> {
        self.compute_centres_opt(numbers, positions, None)
    }

    /// SOAP of one frame for the listed centre atoms (indices into the frame): `(centres,
    /// features)`, or `(1, features)` averaged over those centres.
    pub fn compute_centres(
        &self,
        numbers: ArrayView1<'_, u32>,
        positions: ArrayView2<'_, f64>,
        centres: &[usize],
    ) -> Result<Array2<f64>, SoapError> {
        self.compute_centres_opt(numbers, positions, Some(centres))
    }

    /// SOAP of one frame; `centres = None` means every atom.
    pub fn compute_centres_opt(
        &self,
        numbers: ArrayView1<'_, u32>,
        positions: ArrayView2<'_, f64>,
        centres: Option<&[usize]>,
    ) -> Result<Array2<f64>, SoapError> {
        let frame = self.check_frame(numbers, positions, centres)?;
        let coeffs = self.frame_coefficients(&frame, centres);
        Ok(self.spectrum_from_coefficients(&coeffs))
    }

    /// Power spectra (or their average) from per-centre coefficient rows.
    fn spectrum_from_coefficients(&self, coeffs: &Array2<f64>) -> Array2<f64> {
        let shape = self.shape();
        let n_features = self.n_features();
        let mut scratch = Vec::new();
        let mut spectrum = |c: &[f64], out: &mut [f64]| {
            power_spectrum(&shape, &self.layout, &self.prefactor, c, &mut scratch, out)
        };
        let n_centres = coeffs.nrows();
        match self.params.average {
            Average::Off => {
                let mut out = Array2::zeros((n_centres, n_features));
                for (c, mut o) in coeffs.outer_iter().zip(out.outer_iter_mut()) {
                    spectrum(
                        c.as_slice().expect("contiguous"),
                        o.as_slice_mut().expect("contiguous"),
                    );
                }
                out
            }
            Average::Inner => {
                let mean = coeffs.mean_axis(Axis(0)).expect("at least one centre");
                let mut out = Array2::zeros((1, n_features));
                spectrum(
                    mean.as_slice().expect("contiguous"),
                    out.as_slice_mut().expect("contiguous"),
                );
                out
            }
            Average::Outer => {
                let mut sum = vec![0.0; n_features];
                let mut row = vec![0.0; n_features];
                for c in coeffs.outer_iter() {
                    spectrum(c.as_slice().expect("contiguous"), &mut row);
                    sum.iter_mut().zip(&row).for_each(|(s, r)| *s += r);
                }
                let inv = 1.0 / n_centres as f64;
                Array2::from_shape_fn((1, n_features), |(_, j)| sum[j] * inv)
            }
        }
    }

    /// Number of output rows per frame: the centres, or 1 when averaged.
    pub fn rows_per_frame(&self, n_centres: usize) -> usize {
        match self.params.average {
            Average::Off => n_centres,
            Average::Inner | Average::Outer => 1,
        }
    }

    /// SOAP of a batch of frames sharing one composition, in parallel over frames (rayon):
    /// `numbers (atoms,)`, `positions (frames, atoms, 3)` → `(frames, rows, features)` where
    /// rows = centres (all atoms if `None`) or 1 when averaged.
    pub fn compute_batch(
        &self,
        numbers: ArrayView1<'_, u32>,
        positions: ArrayView3<'_, f64>,
        centres: Option<&[usize]>,
    ) -> Result<Array3<f64>, SoapError> {
        let n_frames = positions.len_of(Axis(0));
        if n_frames == 0 {
            return Err(SoapError::EmptyInput("the batch has no frames"));
        }
        if positions.len_of(Axis(1)) != numbers.len() || positions.len_of(Axis(2)) != 3 {
            return Err(SoapError::ShapeMismatch {
                what: "batch positions",
                expected: format!("(frames, {}, 3)", numbers.len()),
                got: format!("{:?}", positions.shape()),
            });
        }
        let n_centres = centres.map_or(numbers.len(), <[usize]>::len);
        let rows = self.rows_per_frame(n_centres);
        let per_frame = rows * self.n_features();
        let mut out = Array3::zeros((n_frames, rows, self.n_features()));
        out.as_slice_mut()
            .expect("freshly allocated arrays are contiguous")
            .par_chunks_mut(per_frame)
            .enumerate()
            .try_for_each(|(f, dst)| {
                let soap =
                    self.compute_centres_opt(numbers, positions.index_axis(Axis(0), f), centres)?;
                dst.copy_from_slice(soap.as_slice().expect("contiguous"));
                Ok(())
            })?;
        Ok(out)
    }

    /// SOAP of frames of any composition, in parallel over frames (rayon), each as from
    /// [`Soap::compute`].
    pub fn compute_frames(&self, frames: &[FrameView<'_>]) -> Result<Vec<Array2<f64>>, SoapError> {
        if frames.is_empty() {
            return Err(SoapError::EmptyInput("no frames given"));
        }
        frames
            .par_iter()
            .map(|f| self.compute_centres_opt(f.numbers, f.positions, f.centres))
            .collect()
    }
}

/// A borrowed frame: atomic numbers `(atoms,)`, positions `(atoms, 3)` in Å, optional centres.
#[derive(Debug, Clone, Copy)]
pub struct FrameView<'a> {
    /// Atomic numbers.
    pub numbers: ArrayView1<'a, u32>,
    /// Cartesian positions in Å.
    pub positions: ArrayView2<'a, f64>,
    /// Centre atoms (indices), or `None` for all atoms.
    pub centres: Option<&'a [usize]>,
}
