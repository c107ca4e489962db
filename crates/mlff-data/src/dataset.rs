//! The [`Dataset`] type: frames of one molecular system, with labels, units, time order and
//! provenance, validated on construction so downstream code never sees NaN or ragged arrays.

use crate::elements;
use crate::error::{DataError, Result};
use mlff_units::{EnergyUnit, LengthUnit, Units};
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The atomic numbers of a dataset's atoms.
#[derive(Debug, Clone, PartialEq)]
pub enum Species {
    /// One molecule: the same atomic numbers `(N)` in every frame (the usual case).
    Fixed(Array1<u8>),
    /// Atomic numbers given per frame `(T, N)` (MD17's `z` sometimes has this shape).
    PerFrame(Array2<u8>),
}

impl Species {
    /// The atomic numbers of frame `frame`.
    pub fn of_frame(&self, frame: usize) -> ArrayView1<'_, u8> {
        match self {
            Species::Fixed(z) => z.view(),
            Species::PerFrame(z) => z.row(frame),
        }
    }

    /// The number of atoms per frame.
    pub fn n_atoms(&self) -> usize {
        match self {
            Species::Fixed(z) => z.len(),
            Species::PerFrame(z) => z.ncols(),
        }
    }

    /// Collapses per-frame species to [`Species::Fixed`] when every frame agrees.
    pub fn simplified(self) -> Species {
        match self {
            Species::PerFrame(z)
                if z.nrows() > 0 && z.rows().into_iter().all(|r| r == z.row(0)) =>
            {
                Species::Fixed(z.row(0).to_owned())
            }
            other => other,
        }
    }

    /// The sorted distinct atomic numbers present.
    pub fn elements(&self) -> Vec<u8> {
        let mut all: Vec<u8> = match self {
            Species::Fixed(z) => z.to_vec(),
            Species::PerFrame(z) => z.iter().copied().collect(),
        };
        all.sort_unstable();
        all.dedup();
        all
    }

    fn select(&self, indices: &[usize]) -> Species {
        match self {
            Species::Fixed(z) => Species::Fixed(z.clone()),
            Species::PerFrame(z) => Species::PerFrame(z.select(Axis(0), indices)),
        }
    }
}

/// What is known of the order in which the frames were visited by the simulation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeOrder {
    /// Frames are stored in trajectory order (MD17): frame `i` is step `i`.
    Sequential,
    /// Each frame carries its step in the original trajectory (rMD17's `old_indices`).
    Indexed(Vec<u64>),
    /// Nothing is known (e.g. a shuffled extended-XYZ file).
    Unknown,
}

/// The on-disk format a dataset came from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// rMD17 npz: `nuclear_charges`, `coords`, `energies`, `forces`, `old_indices`.
    Rmd17Npz,
    /// MD17 / sGDML-dataset npz: `R`, `z`, `E`, `F` and string metadata.
    Md17Npz,
    /// An sGDML model npz that embeds its training frames (`R`, `T`, `TG`).
    SgdmlModelNpz,
    /// Extended XYZ as ASE writes it.
    ExtXyz,
    /// Plain XYZ geometries (no labels).
    Xyz,
    /// Built in memory.
    InMemory,
}

impl Format {
    /// A short human-readable name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Rmd17Npz => "rMD17 npz",
            Format::Md17Npz => "MD17 npz",
            Format::SgdmlModelNpz => "sGDML model npz (embedded training frames)",
            Format::ExtXyz => "extended XYZ",
            Format::Xyz => "plain XYZ",
            Format::InMemory => "in memory",
        }
    }
}

/// Where a dataset came from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Provenance {
    /// The file it was read from, if any.
    pub file: Option<PathBuf>,
    /// The format it was read from, if any.
    pub format: Option<Format>,
    /// The molecule's name (from the file's metadata or its name).
    pub molecule: Option<String>,
    /// The level of theory of the labels, when the file (or its layout) says.
    pub theory: Option<String>,
    /// Time between consecutive trajectory steps in fs, when known.
    pub time_step_fs: Option<f64>,
}

impl Provenance {
    /// A label for error messages: the file, or `<in memory>`.
    pub fn label(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from("<in memory>"))
    }
}

/// Frames of one molecular system: positions `(T,N,3)`, optional energies `(T)` and forces
/// `(T,N,3)`, atomic numbers, units, time order and provenance.
///
/// Invariants (checked by [`Dataset::new`]): at least one frame and one atom, consistent shapes,
/// valid atomic numbers, every number finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    species: Species,
    positions: Array3<f64>,
    energies: Option<Array1<f64>>,
    forces: Option<Array3<f64>>,
    time_order: TimeOrder,
    units: Units,
    provenance: Provenance,
}

/// The parts a [`Dataset`] is built from, before validation.
#[derive(Debug, Clone)]
pub struct DatasetParts {
    /// Atomic numbers.
    pub species: Species,
    /// Positions `(T, N, 3)`.
    pub positions: Array3<f64>,
    /// Energies `(T)`, if labelled.
    pub energies: Option<Array1<f64>>,
    /// Forces `(T, N, 3)`, if labelled.
    pub forces: Option<Array3<f64>>,
    /// Trajectory order.
    pub time_order: TimeOrder,
    /// Units of positions, energies and forces.
    pub units: Units,
    /// Where the data came from.
    pub provenance: Provenance,
}

/// One frame, borrowed from a dataset.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// The frame's index in its dataset.
    pub index: usize,
    /// Atomic numbers `(N)`.
    pub atomic_numbers: ArrayView1<'a, u8>,
    /// Positions `(N, 3)`.
    pub positions: ArrayView2<'a, f64>,
    /// Total energy, if labelled.
    pub energy: Option<f64>,
    /// Forces `(N, 3)`, if labelled.
    pub forces: Option<ArrayView2<'a, f64>>,
    /// The frame's step in its trajectory, if known.
    pub time_index: Option<u64>,
}

impl Dataset {
    /// Validates `parts` and builds a dataset; shapes, atomic numbers and finiteness are checked.
    pub fn new(parts: DatasetParts) -> Result<Self> {
        let DatasetParts {
            species,
            positions,
            energies,
            forces,
            time_order,
            units,
            provenance,
        } = parts;
        let file = provenance.label();
        let (t, n, three) = positions.dim();
        let mismatch = |detail: String| DataError::ShapeMismatch {
            file: file.clone(),
            detail,
        };
        if three != 3 {
            return Err(mismatch(format!(
                "positions have shape {:?}, expected (T, N, 3)",
                positions.dim()
            )));
        }
        if t == 0 || n == 0 {
            return Err(DataError::Empty {
                file,
                what: format!("{t} frames of {n} atoms"),
            });
        }
        match &species {
            Species::Fixed(z) if z.len() != n => {
                return Err(mismatch(format!(
                    "{} atomic numbers for {n} atoms per frame",
                    z.len()
                )));
            }
            Species::PerFrame(z) if z.dim() != (t, n) => {
                return Err(mismatch(format!(
                    "atomic numbers {:?} vs positions ({t}, {n}, 3)",
                    z.dim()
                )));
            }
            _ => {}
        }
        if let Some(bad) = species
            .elements()
            .into_iter()
            .find(|&z| !elements::is_valid(z))
        {
            return Err(DataError::UnknownElement {
                file,
                element: bad.to_string(),
                location: "atomic numbers".into(),
            });
        }
        if let Some(e) = &energies
            && e.len() != t
        {
            return Err(mismatch(format!("{} energies for {t} frames", e.len())));
        }
        if let Some(f) = &forces
            && f.dim() != (t, n, 3)
        {
            return Err(mismatch(format!(
                "forces {:?} vs positions ({t}, {n}, 3)",
                f.dim()
            )));
        }
        if let TimeOrder::Indexed(idx) = &time_order
            && idx.len() != t
        {
            return Err(mismatch(format!(
                "{} time indices for {t} frames",
                idx.len()
            )));
        }
        check_finite(&file, "positions", positions.iter(), 3 * n)?;
        if let Some(e) = &energies {
            check_finite(&file, "energies", e.iter(), 1)?;
        }
        if let Some(f) = &forces {
            check_finite(&file, "forces", f.iter(), 3 * n)?;
        }
        Ok(Dataset {
            species: species.simplified(),
            positions,
            energies,
            forces,
            time_order,
            units,
            provenance,
        })
    }

    /// The dataset's parts, for callers that need to take it apart.
    pub fn into_parts(self) -> DatasetParts {
        DatasetParts {
            species: self.species,
            positions: self.positions,
            energies: self.energies,
            forces: self.forces,
            time_order: self.time_order,
            units: self.units,
            provenance: self.provenance,
        }
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.positions.dim().0
    }

    /// Always false: a dataset holds at least one frame.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of atoms per frame.
    pub fn n_atoms(&self) -> usize {
        self.positions.dim().1
    }

    /// Atomic numbers.
    pub fn species(&self) -> &Species {
        &self.species
    }

    /// Positions `(T, N, 3)`.
    pub fn positions(&self) -> &Array3<f64> {
        &self.positions
    }

    /// Energies `(T)`, if labelled.
    pub fn energies(&self) -> Option<&Array1<f64>> {
        self.energies.as_ref()
    }

    /// Forces `(T, N, 3)`, if labelled.
    pub fn forces(&self) -> Option<&Array3<f64>> {
        self.forces.as_ref()
    }

    /// Energies, or an error naming the file when the dataset holds geometries only.
    pub fn require_energies(&self) -> Result<&Array1<f64>> {
        self.energies
            .as_ref()
            .ok_or_else(|| DataError::MissingLabels {
                file: self.provenance.label(),
                what: "energies",
            })
    }

    /// Forces, or an error naming the file when the dataset holds geometries only.
    pub fn require_forces(&self) -> Result<&Array3<f64>> {
        self.forces
            .as_ref()
            .ok_or_else(|| DataError::MissingLabels {
                file: self.provenance.label(),
                what: "forces",
            })
    }

    /// What is known of the trajectory order.
    pub fn time_order(&self) -> &TimeOrder {
        &self.time_order
    }

    /// Units of positions, energies and forces.
    pub fn units(&self) -> Units {
        self.units
    }

    /// Where the data came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// Mutable provenance, e.g. to name the molecule of an extended-XYZ file.
    pub fn provenance_mut(&mut self) -> &mut Provenance {
        &mut self.provenance
    }

    /// Replaces the time order (e.g. to declare a plain XYZ file time-ordered).
    pub fn set_time_order(&mut self, order: TimeOrder) -> Result<()> {
        if let TimeOrder::Indexed(idx) = &order
            && idx.len() != self.len()
        {
            return Err(DataError::ShapeMismatch {
                file: self.provenance.label(),
                detail: format!("{} time indices for {} frames", idx.len(), self.len()),
            });
        }
        self.time_order = order;
        Ok(())
    }

    /// The step of frame `frame` in its trajectory, if known.
    pub fn time_index(&self, frame: usize) -> Option<u64> {
        match &self.time_order {
            TimeOrder::Sequential => u64::try_from(frame).ok(),
            TimeOrder::Indexed(idx) => idx.get(frame).copied(),
            TimeOrder::Unknown => None,
        }
    }

    /// Frame `index`, borrowed.
    pub fn frame(&self, index: usize) -> Result<Frame<'_>> {
        if index >= self.len() {
            return Err(DataError::IndexOutOfRange {
                index,
                len: self.len(),
            });
        }
        Ok(self.frame_unchecked(index))
    }

    fn frame_unchecked(&self, index: usize) -> Frame<'_> {
        Frame {
            index,
            atomic_numbers: self.species.of_frame(index),
            positions: self.positions.index_axis(Axis(0), index),
            energy: self.energies.as_ref().map(|e| e[index]),
            forces: self.forces.as_ref().map(|f| f.index_axis(Axis(0), index)),
            time_index: self.time_index(index),
        }
    }

    /// Every frame in storage order.
    pub fn frames(&self) -> impl ExactSizeIterator<Item = Frame<'_>> + '_ {
        (0..self.len()).map(|i| self.frame_unchecked(i))
    }

    /// A view of the frames at `indices` (in that order), without copying any array.
    pub fn select(&self, indices: &[usize]) -> Result<Subset<'_>> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(DataError::IndexOutOfRange {
                index: bad,
                len: self.len(),
            });
        }
        Ok(Subset {
            dataset: self,
            indices: indices.to_vec(),
        })
    }

    /// A view of every frame in trajectory order: storage order for [`TimeOrder::Sequential`],
    /// sorted by time index for [`TimeOrder::Indexed`], an error when no order is known.
    pub fn time_ordered(&self) -> Result<Subset<'_>> {
        let indices = match &self.time_order {
            TimeOrder::Sequential => (0..self.len()).collect(),
            TimeOrder::Indexed(idx) => {
                let mut order: Vec<usize> = (0..self.len()).collect();
                order.sort_by_key(|&i| (idx[i], i));
                order
            }
            TimeOrder::Unknown => {
                return Err(DataError::NoTimeOrder {
                    file: self.provenance.label(),
                    reason: format!(
                        "{} files carry no trajectory index; give one explicitly if the frames are in order",
                        self.provenance.format.unwrap_or(Format::InMemory).name()
                    ),
                });
            }
        };
        Ok(Subset {
            dataset: self,
            indices,
        })
    }

    /// The same data with energies (and forces) converted to `energy` units: an explicit copy.
    pub fn converted(&self, units: Units) -> Dataset {
        let e = self.units.energy.factor_to(units.energy);
        let l = self.units.length.factor_to(units.length);
        Dataset {
            positions: &self.positions * l,
            energies: self.energies.as_ref().map(|x| x * e),
            forces: self.forces.as_ref().map(|x| x * (e / l)),
            units,
            ..self.clone()
        }
    }

    /// Shorthand for [`Dataset::converted`] keeping the length unit.
    pub fn with_energy_unit(&self, energy: EnergyUnit) -> Dataset {
        self.converted(Units {
            energy,
            length: self.units.length,
        })
    }

    /// Shorthand for [`Dataset::converted`] keeping the energy unit.
    pub fn with_length_unit(&self, length: LengthUnit) -> Dataset {
        self.converted(Units {
            energy: self.units.energy,
            length,
        })
    }
}

/// Frames of a dataset selected by index, borrowed: load a 100,000-frame file once and split it
/// many ways without copying.
#[derive(Debug, Clone)]
pub struct Subset<'a> {
    dataset: &'a Dataset,
    indices: Vec<usize>,
}

impl<'a> Subset<'a> {
    /// The dataset the frames come from.
    pub fn dataset(&self) -> &'a Dataset {
        self.dataset
    }

    /// The selected frame indices into the dataset, in view order.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// Number of selected frames.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The `i`-th selected frame.
    pub fn frame(&self, i: usize) -> Result<Frame<'a>> {
        let &index = self.indices.get(i).ok_or(DataError::IndexOutOfRange {
            index: i,
            len: self.indices.len(),
        })?;
        Ok(self.dataset.frame_unchecked(index))
    }

    /// The selected frames in view order.
    pub fn frames(&self) -> impl ExactSizeIterator<Item = Frame<'a>> + '_ {
        self.indices
            .iter()
            .map(|&i| self.dataset.frame_unchecked(i))
    }

    /// A narrower view: positions `range` of this view, e.g. a contiguous window of a
    /// time-ordered view.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Result<Subset<'a>> {
        if range.start > range.end || range.end > self.indices.len() {
            return Err(DataError::IndexOutOfRange {
                index: range.end,
                len: self.indices.len(),
            });
        }
        Ok(Subset {
            dataset: self.dataset,
            indices: self.indices[range].to_vec(),
        })
    }

    /// Copies the selected frames into a dataset of their own (time indices kept).
    pub fn to_dataset(&self) -> Result<Dataset> {
        let d = self.dataset;
        let idx = &self.indices;
        let time_order = match &d.time_order {
            TimeOrder::Unknown => TimeOrder::Unknown,
            _ => TimeOrder::Indexed(self.frames().filter_map(|f| f.time_index).collect()),
        };
        Dataset::new(DatasetParts {
            species: d.species.select(idx),
            positions: d.positions.select(Axis(0), idx),
            energies: d.energies.as_ref().map(|e| e.select(Axis(0), idx)),
            forces: d.forces.as_ref().map(|f| f.select(Axis(0), idx)),
            time_order,
            units: d.units,
            provenance: d.provenance.clone(),
        })
    }
}

/// Fails on the first NaN or infinity; `values` iterate in (frame, …) order, `per_frame` at a time.
fn check_finite<'v>(
    file: &std::path::Path,
    field: &'static str,
    values: impl Iterator<Item = &'v f64>,
    per_frame: usize,
) -> Result<()> {
    match values.enumerate().find(|(_, v)| !v.is_finite()) {
        None => Ok(()),
        Some((i, &value)) => Err(DataError::NonFinite {
            file: file.to_path_buf(),
            field,
            frame: i / per_frame.max(1),
            value,
        }),
    }
}
