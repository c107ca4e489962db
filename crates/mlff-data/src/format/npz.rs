//! The npz layouts of the MD17 family: rMD17, MD17 (and sGDML datasets), and sGDML model files
//! that embed their training frames. numpy writes either `<f4` or `<f8`, any integer width, C or
//! Fortran order; all are accepted and converted to `f64` / `u8` atomic numbers.

use crate::dataset::{Dataset, DatasetParts, Format, Provenance, Species, TimeOrder};
use crate::error::{DataError, Result};
use mlff_units::{EnergyUnit, Units};
use ndarray::{Array1, Array2, Array3, ArrayD, IxDyn, ShapeBuilder};
use npyz::npz::{NpzArchive, NpzWriter};
use npyz::zip::write::FileOptions;
use npyz::{DType, TypeChar, TypeStr, WriterBuilder};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Level of theory of rMD17 (Christensen & von Lilienfeld 2020).
pub const RMD17_THEORY: &str = "PBE/def2-SVP";
/// MD17's trajectory step.
pub const MD17_TIME_STEP_FS: f64 = 0.5;

/// Which npz layout a file follows, decided from its array names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NpzLayout {
    Rmd17,
    Md17,
    SgdmlModel,
}

/// An open npz archive with typed, dtype-tolerant accessors: the one place numpy's dtype and
/// memory-order variants are handled (also used for sGDML model files by `mlff-md`).
pub struct NpzReader {
    file: PathBuf,
    archive: NpzArchive<BufReader<File>>,
    names: Vec<String>,
}

/// A numeric array read from npz: values in C order and the shape.
#[derive(Debug, Clone, PartialEq)]
pub struct NumericArray<T> {
    /// Values in C (row-major) order.
    pub values: Vec<T>,
    /// The array's shape.
    pub shape: Vec<usize>,
}

impl NpzReader {
    /// Opens `file`, failing with [`DataError::CorruptArchive`] if it is not a readable zip.
    pub fn open(file: &Path) -> Result<Self> {
        let handle = File::open(file).map_err(|source| DataError::Io {
            file: file.to_path_buf(),
            source,
        })?;
        let archive =
            NpzArchive::new(BufReader::new(handle)).map_err(|e| DataError::CorruptArchive {
                file: file.to_path_buf(),
                reason: e.to_string(),
            })?;
        let names = archive.array_names().map(str::to_owned).collect();
        Ok(NpzReader {
            file: file.to_path_buf(),
            archive,
            names,
        })
    }

    /// The array names in the archive.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn has(&self, key: &str) -> bool {
        self.names.iter().any(|n| n == key)
    }

    /// The layout implied by the array names.
    pub(crate) fn layout(&self) -> Result<NpzLayout> {
        if self.has("Rt_desc") || self.has("Rt_d_desc_alpha") {
            return if self.has("R") && self.has("TG") {
                Ok(NpzLayout::SgdmlModel)
            } else {
                Err(DataError::NotADataset {
                    file: self.file.clone(),
                })
            };
        }
        if self.has("coords") || self.has("nuclear_charges") {
            return Ok(NpzLayout::Rmd17);
        }
        if self.has("R") || self.has("z") {
            return Ok(NpzLayout::Md17);
        }
        Err(DataError::UnknownFormat {
            file: self.file.clone(),
            reason: format!(
                "npz archive with arrays {:?}: neither rMD17 (coords, nuclear_charges, …) nor MD17 (R, z, E, F)",
                self.names
            ),
        })
    }

    /// Reads array `key` with element type chosen by `read`, which sees the dtype's type string.
    fn numeric<T>(
        &mut self,
        key: &str,
        expected: &'static str,
        read: impl FnOnce(
            &TypeStr,
            npyz::NpyFile<npyz::zip::read::ZipFile<'_>>,
        ) -> Option<std::io::Result<Vec<T>>>,
    ) -> Result<Option<NumericArray<T>>>
    where
        T: Clone,
    {
        let file = self.file.clone();
        let corrupt = |e: &dyn std::fmt::Display| DataError::CorruptArchive {
            file: file.clone(),
            reason: format!("array `{key}`: {e}"),
        };
        let wrong_dtype = |dtype: &DType| DataError::WrongDtype {
            file: file.clone(),
            key: key.to_owned(),
            dtype: dtype.descr(),
            expected,
        };
        let npy = match self.archive.by_name(key) {
            Ok(Some(npy)) => npy,
            Ok(None) => return Ok(None),
            Err(e) => return Err(corrupt(&e)),
        };
        let dtype = npy.dtype();
        let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
        let fortran = npy.order() == npyz::Order::Fortran;
        let DType::Plain(type_str) = &dtype else {
            return Err(wrong_dtype(&dtype));
        };
        let values = match read(type_str, npy) {
            None => return Err(wrong_dtype(&dtype)),
            Some(Err(e)) => return Err(corrupt(&e)),
            Some(Ok(v)) => v,
        };
        let expected_len: usize = shape.iter().product();
        if values.len() != expected_len {
            return Err(corrupt(&format!(
                "{} values for shape {shape:?}",
                values.len()
            )));
        }
        let values = if fortran && shape.len() > 1 {
            let f = ArrayD::from_shape_vec(IxDyn(&shape).f(), values).map_err(|e| corrupt(&e))?;
            f.as_standard_layout().iter().cloned().collect()
        } else {
            values
        };
        Ok(Some(NumericArray { values, shape }))
    }

    /// A floating-point array (`<f4`, `<f8`, either endianness) as `f64`; `None` if absent.
    pub fn floats(&mut self, key: &str) -> Result<Option<NumericArray<f64>>> {
        self.numeric(key, "a float array (f4 or f8)", |ts, npy| {
            let little = ts.endianness() == npyz::Endianness::Little;
            let widen = |v: Vec<f32>| v.into_iter().map(f64::from).collect();
            match (ts.type_char(), ts.size_field()) {
                (TypeChar::Float, 8) if little => Some(read_le_floats(npy, f64::from_bits)),
                (TypeChar::Float, 4) if little => {
                    Some(read_le_floats(npy, f32::from_bits).map(widen))
                }
                (TypeChar::Float, 8) => Some(npy.into_vec::<f64>()),
                (TypeChar::Float, 4) => Some(npy.into_vec::<f32>().map(widen)),
                _ => None,
            }
        })
    }

    /// An integer array of any width and signedness as `i64`; `None` if absent.
    pub fn integers(&mut self, key: &str) -> Result<Option<NumericArray<i64>>> {
        fn widen<T: Into<i64>>(r: std::io::Result<Vec<T>>) -> std::io::Result<Vec<i64>> {
            r.map(|v| v.into_iter().map(Into::into).collect())
        }
        self.numeric(key, "an integer array", |ts, npy| {
            match (ts.type_char(), ts.size_field()) {
                (TypeChar::Int, 1) => Some(widen(npy.into_vec::<i8>())),
                (TypeChar::Int, 2) => Some(widen(npy.into_vec::<i16>())),
                (TypeChar::Int, 4) => Some(widen(npy.into_vec::<i32>())),
                (TypeChar::Int, 8) => Some(npy.into_vec::<i64>()),
                (TypeChar::Uint, 1) => Some(widen(npy.into_vec::<u8>())),
                (TypeChar::Uint, 2) => Some(widen(npy.into_vec::<u16>())),
                (TypeChar::Uint, 4) => Some(widen(npy.into_vec::<u32>())),
                (TypeChar::Uint, 8) => Some(npy.into_vec::<u64>().map(|v| {
                    v.into_iter()
                        .map(|x| i64::try_from(x).unwrap_or(i64::MAX))
                        .collect()
                })),
                _ => None,
            }
        })
    }

    /// A 0-d (or 1-element) string array such as MD17's `name` or `theory`; `None` if absent.
    pub fn string(&mut self, key: &str) -> Result<Option<String>> {
        let s = self.numeric(key, "a unicode string", |ts, npy| match ts.type_char() {
            TypeChar::UnicodeStr | TypeChar::ByteStr => Some(npy.into_vec::<String>()),
            _ => None,
        })?;
        Ok(s.and_then(|s| s.values.into_iter().next()))
    }

    /// The trajectory step: our `dt_fs` key (NaN meaning unknown), else MD17's 0.5 fs.
    fn time_step_fs(&mut self) -> Result<Option<f64>> {
        match self
            .floats("dt_fs")?
            .and_then(|n| n.values.first().copied())
        {
            Some(dt) if dt.is_finite() && dt > 0.0 => Ok(Some(dt)),
            Some(_) => Ok(None),
            None => Ok(Some(MD17_TIME_STEP_FS)),
        }
    }

    fn require<T>(&self, value: Option<T>, key: &str, layout: &'static str) -> Result<T> {
        value.ok_or_else(|| DataError::MissingKey {
            file: self.file.clone(),
            key: key.to_owned(),
            layout,
        })
    }

    fn invalid(&self, field: &str, detail: String) -> DataError {
        DataError::InvalidValue {
            file: self.file.clone(),
            field: field.to_owned(),
            detail,
        }
    }

    fn mismatch(&self, detail: String) -> DataError {
        DataError::ShapeMismatch {
            file: self.file.clone(),
            detail,
        }
    }

    /// `(T, N, 3)` array from an array that must have that shape.
    fn frames_xyz(&self, key: &str, a: NumericArray<f64>) -> Result<Array3<f64>> {
        match a.shape[..] {
            [t, n, 3] => Ok(Array3::from_shape_vec((t, n, 3), a.values)
                .map_err(|e| self.mismatch(e.to_string()))?),
            _ => Err(self.mismatch(format!(
                "`{key}` has shape {:?}, expected (T, N, 3)",
                a.shape
            ))),
        }
    }

    /// `(T)` energies from `(T)` or `(T, 1)`.
    fn energies(&self, key: &str, a: NumericArray<f64>) -> Result<Array1<f64>> {
        match a.shape[..] {
            [_] | [_, 1] => Ok(Array1::from(a.values)),
            _ => Err(self.mismatch(format!(
                "`{key}` has shape {:?}, expected (T) or (T, 1)",
                a.shape
            ))),
        }
    }

    /// Atomic numbers from `(N)` or `(T, N)` integers.
    fn species(&self, key: &str, a: NumericArray<i64>) -> Result<Species> {
        let mut z = Vec::with_capacity(a.values.len());
        for v in a.values {
            match u8::try_from(v)
                .ok()
                .filter(|&number| crate::elements::is_valid(number))
            {
                Some(number) => z.push(number),
                None => {
                    return Err(DataError::UnknownElement {
                        file: self.file.clone(),
                        element: v.to_string(),
                        location: format!("array `{key}`"),
                    });
                }
            }
        }
        match a.shape[..] {
            [_] => Ok(Species::Fixed(Array1::from(z))),
            [t, n] => Ok(Species::PerFrame(
                Array2::from_shape_vec((t, n), z).map_err(|e| self.mismatch(e.to_string()))?,
            )),
            _ => Err(self.mismatch(format!(
                "`{key}` has shape {:?}, expected (N) or (T, N)",
                a.shape
            ))),
        }
    }

    /// Non-negative integer trajectory indices.
    fn time_indices(&self, key: &str, a: NumericArray<i64>) -> Result<Vec<u64>> {
        a.values
            .into_iter()
            .map(|v| {
                u64::try_from(v).map_err(|_| self.invalid(key, format!("negative frame index {v}")))
            })
            .collect()
    }

    /// Provenance of an MD17-family trajectory file: `name` (else the file name), `theory`
    /// (absent → `default_theory`, empty → unknown) and the time step.
    fn trajectory_provenance(
        &mut self,
        format: Format,
        default_theory: Option<&str>,
    ) -> Result<Provenance> {
        let theory = match self.string("theory")? {
            None => default_theory.map(str::to_owned),
            Some(t) if t.is_empty() => None,
            Some(t) => Some(t),
        };
        Ok(Provenance {
            file: Some(self.file.clone()),
            format: Some(format),
            molecule: self
                .string("name")?
                .or_else(|| molecule_from_file_name(&self.file)),
            theory,
            time_step_fs: self.time_step_fs()?,
        })
    }

    fn units(&mut self) -> Result<Units> {
        let mut units = Units::KCAL_MOL_ANGSTROM;
        if let Some(e) = self.string("energy_unit")? {
            units.energy = EnergyUnit::parse(&e)
                .ok_or_else(|| self.invalid("energy_unit", format!("unknown unit `{e}`")))?;
        }
        if let Some(l) = self.string("length_unit")? {
            units.length = super::xyz::parse_length_unit(&l)
                .ok_or_else(|| self.invalid("length_unit", format!("unknown unit `{l}`")))?;
        }
        Ok(units)
    }
}

/// Molecule name from the distributed file names `rmd17_aspirin.npz` / `md17_ethanol.npz`.
fn molecule_from_file_name(file: &Path) -> Option<String> {
    let stem = file.file_stem()?.to_str()?;
    let name = stem
        .strip_prefix("rmd17_")
        .or_else(|| stem.strip_prefix("md17_"))?;
    Some(name.to_owned())
}

/// Reads a little-endian float array straight into its final buffer: the element-wise decoder
/// of `npyz` costs seconds on an rMD17-sized file, a bulk read tens of milliseconds.
fn read_le_floats<F, B>(
    npy: npyz::NpyFile<impl Read>,
    from_bits: impl Fn(B) -> F,
) -> std::io::Result<Vec<F>>
where
    F: bytemuck::Pod + Default,
    B: bytemuck::Pod + LittleEndianBits,
{
    let len: u64 = npy.shape().iter().product();
    let len = usize::try_from(len)
        .map_err(|_| std::io::Error::other("array too large for this machine"))?;
    let mut values = vec![F::default(); len];
    npy.into_inner()
        .read_exact(bytemuck::cast_slice_mut(&mut values))?;
    if cfg!(target_endian = "big") {
        for v in &mut values {
            *v = from_bits(bytemuck::cast::<F, B>(*v).le_to_native());
        }
    }
    Ok(values)
}

/// Byte-order conversion of the bit patterns of `f32`/`f64`.
trait LittleEndianBits {
    fn le_to_native(self) -> Self;
}
impl LittleEndianBits for u32 {
    fn le_to_native(self) -> Self {
        u32::from_le(self)
    }
}
impl LittleEndianBits for u64 {
    fn le_to_native(self) -> Self {
        u64::from_le(self)
    }
}

/// Reads any of the npz layouts.
pub(crate) fn read(file: &Path) -> Result<Dataset> {
    let mut npz = NpzReader::open(file)?;
    match npz.layout()? {
        NpzLayout::Rmd17 => read_rmd17(&mut npz),
        NpzLayout::Md17 => read_md17(&mut npz),
        NpzLayout::SgdmlModel => read_sgdml_model(&mut npz),
    }
}

/// The array names of one npz layout.
struct LayoutKeys {
    layout: &'static str,
    species: &'static str,
    positions: &'static str,
    energies: &'static str,
    forces: &'static str,
}

const RMD17_KEYS: LayoutKeys = LayoutKeys {
    layout: "rMD17",
    species: "nuclear_charges",
    positions: "coords",
    energies: "energies",
    forces: "forces",
};
const MD17_KEYS: LayoutKeys = LayoutKeys {
    layout: "MD17",
    species: "z",
    positions: "R",
    energies: "E",
    forces: "F",
};
const SGDML_MODEL_KEYS: LayoutKeys = LayoutKeys {
    layout: "sGDML model",
    species: "z",
    positions: "R",
    energies: "T",
    forces: "TG",
};

/// Reads the frame arrays common to every layout (species and positions required, labels
/// optional) into parts whose order, units and provenance the layout's reader fills in.
fn read_frames(npz: &mut NpzReader, keys: &LayoutKeys) -> Result<DatasetParts> {
    let z = npz.integers(keys.species)?;
    let species = npz.species(keys.species, npz.require(z, keys.species, keys.layout)?)?;
    let r = npz.floats(keys.positions)?;
    let positions = npz.frames_xyz(keys.positions, npz.require(r, keys.positions, keys.layout)?)?;
    let energies = npz
        .floats(keys.energies)?
        .map(|e| npz.energies(keys.energies, e))
        .transpose()?;
    let forces = npz
        .floats(keys.forces)?
        .map(|f| npz.frames_xyz(keys.forces, f))
        .transpose()?;
    Ok(DatasetParts {
        species,
        positions,
        energies,
        forces,
        time_order: TimeOrder::Unknown,
        units: Units::KCAL_MOL_ANGSTROM,
        provenance: Provenance::default(),
    })
}

fn read_rmd17(npz: &mut NpzReader) -> Result<Dataset> {
    let frames = read_frames(npz, &RMD17_KEYS)?;
    let time_order = match npz.integers("old_indices")? {
        Some(idx) => TimeOrder::Indexed(npz.time_indices("old_indices", idx)?),
        None => TimeOrder::Unknown,
    };
    let units = npz.units()?;
    // rMD17 files carry no `theory`: absent means the published PBE/def2-SVP.
    let provenance = npz.trajectory_provenance(Format::Rmd17Npz, Some(RMD17_THEORY))?;
    Dataset::new(DatasetParts {
        time_order,
        units,
        provenance,
        ..frames
    })
}

fn read_md17(npz: &mut NpzReader) -> Result<Dataset> {
    let frames = read_frames(npz, &MD17_KEYS)?;
    let time_order = match (npz.integers("time_index")?, npz.string("time_order")?) {
        (Some(idx), _) => TimeOrder::Indexed(npz.time_indices("time_index", idx)?),
        (None, Some(order)) if order == "unknown" => TimeOrder::Unknown,
        (None, _) => TimeOrder::Sequential,
    };
    let units = npz.units()?;
    let provenance = npz.trajectory_provenance(Format::Md17Npz, None)?;
    Dataset::new(DatasetParts {
        time_order,
        units,
        provenance,
        ..frames
    })
}

fn read_sgdml_model(npz: &mut NpzReader) -> Result<Dataset> {
    // `layout()` only classifies a model file as a dataset when it holds `R` and `TG`.
    let frames = read_frames(npz, &SGDML_MODEL_KEYS)?;
    let theory = npz.string("theory_level")?.filter(|t| t != "unknown");
    let molecule = npz
        .string("dataset")?
        .or_else(|| molecule_from_file_name(&npz.file));
    Dataset::new(DatasetParts {
        provenance: Provenance {
            file: Some(npz.file.clone()),
            format: Some(Format::SgdmlModelNpz),
            molecule,
            theory,
            time_step_fs: None,
        },
        ..frames
    })
}

/// Writes named arrays into an npz archive that `numpy.load` reads: the building block of the
/// dataset writers, public for other npz outputs (predictions, descriptors).
pub struct NpzArrayWriter<W: Write + Seek> {
    writer: NpzWriter<W>,
}

impl<W: Write + Seek> NpzArrayWriter<W> {
    /// Starts an archive on `out`.
    pub fn new(out: W) -> Self {
        NpzArrayWriter {
            writer: NpzWriter::new(out),
        }
    }

    /// Completes the archive (writes the zip directory) and flushes the output.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.writer
            .zip_writer()
            .finish()
            .map_err(std::io::Error::other)?
            .flush()
    }

    /// An `<f8` array of `shape` whose values (C order) `fill` pushes in pieces, so an array
    /// larger than memory streams straight into the archive.
    pub fn floats_streamed<E: From<std::io::Error>>(
        &mut self,
        key: &str,
        shape: &[usize],
        fill: impl FnOnce(&mut dyn FnMut(&[f64]) -> std::io::Result<()>) -> Result<(), E>,
    ) -> Result<(), E> {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut w = self
            .writer
            .array::<f64>(key, stored_entry())?
            .default_dtype()
            .shape(&shape)
            .begin_nd()?;
        fill(&mut |values: &[f64]| w.extend(values.iter().copied()))?;
        w.finish()?;
        Ok(())
    }

    /// An `<f8` array of `shape` from `values` in C order.
    pub fn floats<'a>(
        &mut self,
        key: &str,
        shape: &[usize],
        values: impl IntoIterator<Item = &'a f64>,
    ) -> std::io::Result<()> {
        self.floats_streamed(key, shape, |push| {
            let mut buffer = Vec::with_capacity(4096);
            for &v in values {
                buffer.push(v);
                if buffer.len() == buffer.capacity() {
                    push(&buffer)?;
                    buffer.clear();
                }
            }
            push(&buffer)
        })
    }

    /// An integer array (dtype from `T`) of `shape` from `values` in C order.
    pub fn integers<T>(
        &mut self,
        key: &str,
        shape: &[usize],
        values: impl IntoIterator<Item = T>,
    ) -> std::io::Result<()>
    where
        T: npyz::AutoSerialize,
    {
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut w = self
            .writer
            .array::<T>(key, stored_entry())?
            .default_dtype()
            .shape(&shape)
            .begin_nd()?;
        w.extend(values)?;
        w.finish()
    }

    /// A 0-d unicode string, as numpy stores `np.array("aspirin")`.
    pub fn string(&mut self, key: &str, value: &str) -> std::io::Result<()> {
        let len = value.chars().count().max(1) as u64;
        let type_str: TypeStr = format!("<U{len}")
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
        let dtype = DType::new_scalar(type_str);
        let mut w = self
            .writer
            .array::<str>(key, stored_entry())?
            .dtype(dtype)
            .shape(&[])
            .begin_nd()?;
        w.push(value)?;
        w.finish()
    }
}

/// The npz layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpzWriteLayout {
    /// `R`, `z`, `E (T,1)`, `F`, `name`, `theory` (+ `time_index` when the order is indexed).
    Md17,
    /// `nuclear_charges`, `coords`, `energies`, `forces`, `old_indices`.
    Rmd17,
}

/// Writes `data` as npz in `layout` to `out` (any seekable writer; see
/// [`crate::write_atomically`] for files).
pub fn write_npz<W: Write + Seek>(data: &Dataset, layout: NpzWriteLayout, out: W) -> Result<()> {
    let unwritable = |reason: String| DataError::Unwritable {
        format: match layout {
            NpzWriteLayout::Md17 => "MD17 npz",
            NpzWriteLayout::Rmd17 => "rMD17 npz",
        },
        reason,
    };
    let io = |e: std::io::Error| unwritable(e.to_string());
    let (t, n) = (data.len(), data.n_atoms());
    let mut out = NpzArrayWriter::new(out);
    let (z_key, r_key, e_key, f_key) = match layout {
        NpzWriteLayout::Md17 => ("z", "R", "E", "F"),
        NpzWriteLayout::Rmd17 => ("nuclear_charges", "coords", "energies", "forces"),
    };
    match data.species() {
        Species::Fixed(z) => out.integers(z_key, &[n], z.iter().copied()).map_err(io)?,
        Species::PerFrame(z) if layout == NpzWriteLayout::Md17 => out
            .integers(z_key, &[t, n], z.iter().copied())
            .map_err(io)?,
        Species::PerFrame(_) => {
            return Err(unwritable(
                "rMD17 holds one set of atomic numbers; this dataset's differ between frames"
                    .into(),
            ));
        }
    }
    out.floats(r_key, &[t, n, 3], data.positions().iter())
        .map_err(io)?;
    if let Some(e) = data.energies() {
        let shape: &[usize] = if layout == NpzWriteLayout::Md17 {
            &[t, 1]
        } else {
            &[t]
        };
        out.floats(e_key, shape, e.iter()).map_err(io)?;
    }
    if let Some(f) = data.forces() {
        out.floats(f_key, &[t, n, 3], f.iter()).map_err(io)?;
    }
    let index_key = if layout == NpzWriteLayout::Md17 {
        "time_index"
    } else {
        "old_indices"
    };
    match data.time_order() {
        TimeOrder::Indexed(idx) => out
            .integers(index_key, &[t], idx.iter().map(|&i| i as i64))
            .map_err(io)?,
        TimeOrder::Sequential if layout == NpzWriteLayout::Rmd17 => {
            out.integers(index_key, &[t], 0..t as i64).map_err(io)?
        }
        TimeOrder::Unknown if layout == NpzWriteLayout::Md17 => {
            out.string("time_order", "unknown").map_err(io)?
        }
        _ => {}
    }
    let p = data.provenance();
    if let Some(name) = &p.molecule {
        out.string("name", name).map_err(io)?;
    }
    // An empty string records "unknown", so the reader does not assume rMD17's level of theory.
    out.string("theory", p.theory.as_deref().unwrap_or(""))
        .map_err(io)?;
    // NaN records "unknown", so the reader does not fall back to MD17's 0.5 fs.
    out.floats("dt_fs", &[], [p.time_step_fs.unwrap_or(f64::NAN)].iter())
        .map_err(io)?;
    out.string("energy_unit", data.units().energy.symbol())
        .map_err(io)?;
    out.string(
        "length_unit",
        super::xyz::length_unit_name(data.units().length),
    )
    .map_err(io)?;
    out.finish().map_err(io)
}

/// Writes an npz file at `path` atomically, with arrays added by `fill`.
pub fn write_npz_arrays(
    path: &Path,
    fill: impl FnOnce(&mut NpzArrayWriter<BufWriter<&mut File>>) -> std::io::Result<()>,
) -> Result<()> {
    crate::atomic::write_atomically(path, |file| {
        let mut out = NpzArrayWriter::new(BufWriter::new(file));
        fill(&mut out)
            .and_then(|()| out.finish())
            .map_err(|source| DataError::Io {
                file: path.to_path_buf(),
                source,
            })
    })
}

/// Writes `data` as an npz file at `path`, atomically.
pub(crate) fn write_npz_file(data: &Dataset, layout: NpzWriteLayout, path: &Path) -> Result<()> {
    crate::atomic::write_atomically(path, |file| write_npz(data, layout, BufWriter::new(file)))
}

/// Zip options of every array written: uncompressed (as numpy's `savez`), ZIP64 for large
/// arrays, and a fixed modification time so the same data gives the same bytes whenever it is
/// written (the zip clock would otherwise change files written a second apart).
pub fn stored_entry() -> FileOptions {
    FileOptions::default()
        .compression_method(npyz::zip::CompressionMethod::Stored)
        .large_file(true)
        .last_modified_time(npyz::zip::DateTime::default())
}
