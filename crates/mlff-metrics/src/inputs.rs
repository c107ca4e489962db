//! Validated inputs: energies (T) and forces (T, N, 3), and the atomic numbers of the atoms.

use ndarray::{ArrayView1, ArrayView2, ArrayView3, CowArray, Ix3};

use crate::error::{MetricsError, Result, check_finite};

/// Energies and forces of T frames of N atoms (predicted or reference), in one energy unit.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    /// Total energy per frame, shape (T,).
    pub energies: ArrayView1<'a, f64>,
    /// Forces, shape (T, N, 3).
    pub forces: ArrayView3<'a, f64>,
}

impl<'a> Labels<'a> {
    /// Labels from ndarray views.
    pub fn new(energies: ArrayView1<'a, f64>, forces: ArrayView3<'a, f64>) -> Self {
        Self { energies, forces }
    }

    /// Labels from flat slices: `forces` holds T·N·3 values in (frame, atom, xyz) order.
    pub fn from_slices(energies: &'a [f64], forces: &'a [f64], n_atoms: usize) -> Result<Self> {
        let shape = (energies.len(), n_atoms, 3);
        let forces =
            ArrayView3::from_shape(shape, forces).map_err(|_| MetricsError::ShapeMismatch {
                what: "forces slice".into(),
                expected: vec![energies.len() * n_atoms * 3],
                got: vec![forces.len()],
            })?;
        Ok(Self {
            energies: ArrayView1::from(energies),
            forces,
        })
    }
}

/// Atomic numbers: one list for all frames (N,), or one per frame (T, N).
#[derive(Debug, Clone)]
pub enum AtomicNumbers<'a> {
    /// The same atoms in every frame.
    Shared(ArrayView1<'a, u8>),
    /// Atoms per frame.
    PerFrame(ArrayView2<'a, u8>),
}

impl AtomicNumbers<'_> {
    fn check(&self, n_frames: usize, n_atoms: usize) -> Result<()> {
        let (shape, values): (Vec<usize>, Vec<u8>) = match self {
            AtomicNumbers::Shared(z) => (vec![n_atoms], z.to_vec()),
            AtomicNumbers::PerFrame(z) => (vec![n_frames, n_atoms], z.iter().copied().collect()),
        };
        let got = match self {
            AtomicNumbers::Shared(z) => z.shape().to_vec(),
            AtomicNumbers::PerFrame(z) => z.shape().to_vec(),
        };
        if got != shape {
            return Err(MetricsError::ShapeMismatch {
                what: "atomic numbers".into(),
                expected: shape,
                got,
            });
        }
        match values.iter().position(|&z| z == 0 || z > 118) {
            Some(i) => Err(MetricsError::InvalidAtomicNumber {
                z: values[i],
                location: match self {
                    AtomicNumbers::Shared(_) => format!("atom {i}"),
                    AtomicNumbers::PerFrame(_) => {
                        format!("frame {}, atom {}", i / n_atoms, i % n_atoms)
                    }
                },
            }),
            None => Ok(()),
        }
    }
}

/// Predicted and reference labels checked for shape, emptiness and finiteness, with forces in
/// standard (row-major) layout for the hot loop.
pub(crate) struct CheckedPair<'a> {
    pub predicted_energies: Vec<f64>,
    pub reference_energies: Vec<f64>,
    pub predicted_forces: CowArray<'a, f64, Ix3>,
    pub reference_forces: CowArray<'a, f64, Ix3>,
    pub n_frames: usize,
    pub n_atoms: usize,
    /// Atomic numbers, N shared values or T·N per-frame values (row-major).
    species: Vec<u8>,
}

impl CheckedPair<'_> {
    /// Atomic numbers of the atoms of `frame`.
    pub fn species_of(&self, frame: usize) -> &[u8] {
        if self.species.len() == self.n_atoms {
            &self.species
        } else {
            &self.species[frame * self.n_atoms..(frame + 1) * self.n_atoms]
        }
    }
}

pub(crate) fn check_pair<'v>(
    predicted: &'v Labels<'_>,
    reference: &'v Labels<'_>,
    species: &AtomicNumbers<'_>,
) -> Result<CheckedPair<'v>> {
    let shape = reference.forces.shape().to_vec();
    let (n_frames, n_atoms) = (shape[0], shape[1]);
    if shape[2] != 3 {
        return Err(MetricsError::ShapeMismatch {
            what: "reference forces".into(),
            expected: vec![n_frames, n_atoms, 3],
            got: shape,
        });
    }
    let expect = |what: &str, got: &[usize], expected: Vec<usize>| {
        if got == expected.as_slice() {
            Ok(())
        } else {
            Err(MetricsError::ShapeMismatch {
                what: what.into(),
                expected,
                got: got.to_vec(),
            })
        }
    };
    expect("predicted forces", predicted.forces.shape(), shape.clone())?;
    expect(
        "reference energies",
        reference.energies.shape(),
        vec![n_frames],
    )?;
    expect(
        "predicted energies",
        predicted.energies.shape(),
        vec![n_frames],
    )?;
    if n_frames == 0 || n_atoms == 0 {
        return Err(MetricsError::Empty {
            what: format!("labels with {n_frames} frames of {n_atoms} atoms"),
        });
    }
    species.check(n_frames, n_atoms)?;
    let pair = CheckedPair {
        predicted_energies: predicted.energies.to_vec(),
        reference_energies: reference.energies.to_vec(),
        predicted_forces: predicted.forces.as_standard_layout(),
        reference_forces: reference.forces.as_standard_layout(),
        n_frames,
        n_atoms,
        species: match species {
            AtomicNumbers::Shared(z) => z.to_vec(),
            AtomicNumbers::PerFrame(z) => z.iter().copied().collect(),
        },
    };
    let frame = |i: usize| format!("frame {i}");
    check_finite("predicted energies", &pair.predicted_energies, frame)?;
    check_finite("reference energies", &pair.reference_energies, frame)?;
    let component = |i: usize| {
        format!(
            "frame {}, atom {}, component {}",
            i / (3 * n_atoms),
            i / 3 % n_atoms,
            i % 3
        )
    };
    check_finite(
        "predicted forces",
        pair.predicted_forces.as_slice().unwrap_or(&[]),
        component,
    )?;
    check_finite(
        "reference forces",
        pair.reference_forces.as_slice().unwrap_or(&[]),
        component,
    )?;
    Ok(pair)
}
