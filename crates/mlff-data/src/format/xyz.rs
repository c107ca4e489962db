//! Extended XYZ (as ASE writes it) and plain XYZ geometries.
//!
//! An extended-XYZ frame is a count line, a comment line of `key=value` pairs (values may be
//! quoted) whose `Properties=name:type:count:…` entry names the per-atom columns, then one line
//! per atom. Energy and force key names vary between codes (`energy`, `REF_energy`, `forces`,
//! `REF_forces`, …): they are configurable, and the common ones are detected.

use crate::dataset::{Dataset, DatasetParts, Format, Provenance, Species, TimeOrder};
use crate::elements;
use crate::error::{DataError, Result};
use mlff_units::{EnergyUnit, LengthUnit, Units};
use ndarray::{Array1, Array2, Array3};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Energy keys tried, in order, when none is configured.
pub const ENERGY_KEYS: [&str; 6] = [
    "energy",
    "REF_energy",
    "Energy",
    "DFT_energy",
    "free_energy",
    "E",
];
/// Force keys tried, in order, when none is configured.
pub const FORCE_KEYS: [&str; 5] = ["forces", "REF_forces", "force", "DFT_forces", "F"];

/// How to read extended XYZ.
#[derive(Debug, Clone, Default)]
pub struct XyzOptions {
    /// The info key holding the energy; `None` tries [`ENERGY_KEYS`].
    pub energy_key: Option<String>,
    /// The per-atom property holding forces; `None` tries [`FORCE_KEYS`].
    pub forces_key: Option<String>,
    /// The unit of energies when the file does not state one (`energy_unit=` key); `None` means
    /// kcal/mol, the MD17 family's unit. ASE users with eV files must say so.
    pub energy_unit: Option<EnergyUnit>,
}

/// One parsed frame, before the frames are stacked.
struct RawFrame {
    species: Vec<u8>,
    positions: Vec<f64>,
    forces: Option<Vec<f64>>,
    energy: Option<f64>,
    info: Vec<(String, String)>,
}

/// A per-atom column block of the `Properties` entry.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: char,
    count: usize,
    offset: usize,
}

/// Splits an extended-XYZ comment line into `key=value` pairs; bare keys get the value `T`.
pub(crate) fn parse_info(line: &str) -> std::result::Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    let mut chars = line.trim().chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(_) = chars.peek() else { break };
        let key = read_token(&mut chars)?;
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let value = if chars.next_if_eq(&'=').is_some() {
            while chars.next_if(|c| c.is_whitespace()).is_some() {}
            read_token(&mut chars)?
        } else {
            "T".to_owned()
        };
        pairs.push((key, value));
    }
    Ok(pairs)
}

fn read_token(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> std::result::Result<String, String> {
    let mut token = String::new();
    match chars.peek() {
        Some(&q @ ('"' | '\'' | '{' | '[')) => {
            chars.next();
            let close = match q {
                '{' => '}',
                '[' => ']',
                other => other,
            };
            loop {
                match chars.next() {
                    Some(c) if c == close => break,
                    Some('\\') => token.extend(chars.next()),
                    Some(c) => token.push(c),
                    None => return Err(format!("unterminated {q}…{close} in comment line")),
                }
            }
        }
        _ => {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '=') {
                token.push(c);
            }
        }
    }
    Ok(token)
}

fn parse_properties(spec: &str) -> std::result::Result<Vec<Column>, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    if !parts.len().is_multiple_of(3) {
        return Err(format!(
            "Properties=`{spec}` is not a list of name:type:count triples"
        ));
    }
    let mut offset = 0;
    parts
        .chunks(3)
        .map(|c| {
            let kind = c[1]
                .chars()
                .next()
                .filter(|k| "SRIL".contains(*k))
                .ok_or(format!("unknown column type `{}`", c[1]))?;
            let count: usize = c[2]
                .parse()
                .map_err(|_| format!("bad column count `{}`", c[2]))?;
            let col = Column {
                name: c[0].to_owned(),
                kind,
                count,
                offset,
            };
            offset += count;
            Ok(col)
        })
        .collect()
}

/// Line-oriented reader that tracks line numbers for error messages.
struct Lines<'a> {
    file: &'a Path,
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    last: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        let (i, l) = self.lines.next()?;
        self.last = i + 1;
        Some((i + 1, l))
    }

    fn expect_line(&mut self, what: &str) -> Result<(usize, &'a str)> {
        self.next_line().ok_or_else(|| DataError::Parse {
            file: self.file.to_path_buf(),
            line: self.last + 1,
            message: format!("file ends early: expected {what}"),
        })
    }

    fn error(&self, line: usize, message: impl Into<String>) -> DataError {
        DataError::Parse {
            file: self.file.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

fn parse_element(file: &Path, token: &str, line: usize) -> Result<u8> {
    let z = match token.parse::<u8>() {
        Ok(z) if elements::is_valid(z) => Some(z),
        Ok(_) => None,
        Err(_) => elements::atomic_number(token),
    };
    z.ok_or_else(|| DataError::UnknownElement {
        file: file.to_path_buf(),
        element: token.to_owned(),
        location: format!("line {line}"),
    })
}

fn parse_float(lines: &Lines<'_>, token: &str, line: usize, what: &str) -> Result<f64> {
    token
        .parse::<f64>()
        .map_err(|_| lines.error(line, format!("cannot read {what} `{token}` as a number")))
}

/// Reads one frame; `extended` selects extended-XYZ parsing of the comment line.
fn read_frame(
    lines: &mut Lines<'_>,
    count_line: (usize, &str),
    extended: bool,
    opts: &XyzOptions,
) -> Result<RawFrame> {
    let (count_no, count_text) = count_line;
    let n: usize = count_text.trim().parse().map_err(|_| {
        lines.error(
            count_no,
            format!("expected an atom count, found `{}`", count_text.trim()),
        )
    })?;
    if n == 0 {
        return Err(lines.error(count_no, "a frame with zero atoms"));
    }
    let (comment_no, comment) = lines.expect_line("the comment line")?;
    let (info, columns, declared) = if extended {
        let info = parse_info(comment).map_err(|m| lines.error(comment_no, m))?;
        let spec = info
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("Properties"))
            .map(|(_, v)| v.as_str());
        let columns = parse_properties(spec.unwrap_or("species:S:1:pos:R:3"))
            .map_err(|m| lines.error(comment_no, m))?;
        let declared = spec.is_some();
        (info, columns, declared)
    } else {
        (
            Vec::new(),
            parse_properties("species:S:1:pos:R:3").map_err(|m| lines.error(comment_no, m))?,
            false,
        )
    };
    let find = |names: &[&str]| {
        columns
            .iter()
            .find(|c| names.iter().any(|n| c.name == *n))
            .cloned()
    };
    let species_col = find(&["species", "Z"])
        .ok_or_else(|| lines.error(comment_no, "no `species` or `Z` column in Properties"))?;
    let pos_col = find(&["pos", "positions"])
        .ok_or_else(|| lines.error(comment_no, "no `pos` column in Properties"))?;
    let forces_col = match &opts.forces_key {
        Some(k) => Some(
            find(&[k.as_str()])
                .ok_or_else(|| lines.error(comment_no, format!("no `{k}` column in Properties")))?,
        ),
        None => find(&FORCE_KEYS),
    };
    for col in [Some(&pos_col), forces_col.as_ref()].into_iter().flatten() {
        if col.count != 3 || col.kind != 'R' {
            return Err(lines.error(comment_no, format!("column `{}` must be R:3", col.name)));
        }
    }
    let energy = match &opts.energy_key {
        Some(k) => Some(
            info.iter()
                .find(|(key, _)| key == k)
                .ok_or_else(|| {
                    lines.error(comment_no, format!("no `{k}=` entry in the comment line"))
                })?
                .1
                .as_str(),
        ),
        None => ENERGY_KEYS.iter().find_map(|k| {
            info.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        }),
    };
    let energy = energy
        .map(|e| parse_float(lines, e, comment_no, "the energy"))
        .transpose()?;
    let width = columns.iter().map(|c| c.count).sum::<usize>();
    // The count line is the file's claim, not a fact: reserve no more than a large molecule
    // needs (a corrupt count like 10^17 would otherwise abort the allocator); the atom lines
    // themselves then prove it, or end the file early with an error.
    let reserve = n.min(MAX_PREALLOCATED_ATOMS);
    let mut frame = RawFrame {
        species: Vec::with_capacity(reserve),
        positions: Vec::with_capacity(3 * reserve),
        forces: forces_col.as_ref().map(|_| Vec::with_capacity(3 * reserve)),
        energy,
        info,
    };
    for _ in 0..n {
        let (no, text) = lines.expect_line(&format!("{n} atom lines"))?;
        let tokens: Vec<&str> = text.split_whitespace().collect();
        // Every column must be named: extra ones would be read as nothing (forces dropped
        // without a word) or shift what the next reader sees.
        if tokens.len() != width {
            let message = if tokens.len() > width && !declared {
                format!(
                    "{} columns, but without a Properties= entry only the species and x y z are \
                     defined; if the extra columns are forces, add \
                     Properties=species:S:1:pos:R:3:forces:R:3 (ASE's layout) to the comment line",
                    tokens.len()
                )
            } else {
                format!(
                    "expected {width} columns{}, found {}",
                    if declared {
                        " (as Properties= declares)"
                    } else {
                        ""
                    },
                    tokens.len()
                )
            };
            return Err(lines.error(no, message));
        }
        frame
            .species
            .push(parse_element(lines.file, tokens[species_col.offset], no)?);
        for k in 0..3 {
            frame.positions.push(parse_float(
                lines,
                tokens[pos_col.offset + k],
                no,
                "a coordinate",
            )?);
        }
        if let (Some(col), Some(f)) = (&forces_col, frame.forces.as_mut()) {
            for k in 0..3 {
                f.push(parse_float(lines, tokens[col.offset + k], no, "a force")?);
            }
        }
    }
    Ok(frame)
}

/// Reads a (plain or extended) XYZ file with one or more frames.
pub(crate) fn read(file: &Path, text: &str, extended: bool, opts: &XyzOptions) -> Result<Dataset> {
    let mut lines = Lines {
        file,
        lines: text.lines().enumerate(),
        last: 0,
    };
    let mut frames = Vec::new();
    while let Some((no, l)) = lines.next_line() {
        if l.trim().is_empty() {
            continue;
        }
        frames.push(read_frame(&mut lines, (no, l), extended, opts)?);
    }
    stack(file, frames, extended, opts)
}

fn info_value<'a>(frame: &'a RawFrame, key: &str) -> Option<&'a str> {
    frame
        .info
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Stacks frames into a dataset, checking they agree on atom count and labels.
fn stack(file: &Path, frames: Vec<RawFrame>, extended: bool, opts: &XyzOptions) -> Result<Dataset> {
    let first = frames.first().ok_or_else(|| DataError::Empty {
        file: file.to_path_buf(),
        what: "no frames".into(),
    })?;
    let n = first.species.len();
    let t = frames.len();
    let has_energy = first.energy.is_some();
    let has_forces = first.forces.is_some();
    let has_time = info_value(first, "time_index").is_some();
    let mismatch = |i: usize, what: &str| DataError::ShapeMismatch {
        file: file.to_path_buf(),
        detail: format!("frame {i} {what} (frame 0 differs); one dataset holds one molecule"),
    };
    let mut z = Array2::<u8>::zeros((t, n));
    let mut positions = Vec::with_capacity(t * n * 3);
    let mut energies = Vec::with_capacity(t);
    let mut forces = Vec::with_capacity(if has_forces { t * n * 3 } else { 0 });
    let mut time_index = Vec::with_capacity(t);
    for (i, f) in frames.iter().enumerate() {
        if f.species.len() != n {
            return Err(mismatch(i, &format!("has {} atoms", f.species.len())));
        }
        if f.energy.is_some() != has_energy || f.forces.is_some() != has_forces {
            return Err(mismatch(i, "has a different set of labels (energy/forces)"));
        }
        z.row_mut(i).assign(&Array1::from(f.species.clone()));
        positions.extend_from_slice(&f.positions);
        energies.extend(f.energy);
        if let Some(fs) = &f.forces {
            forces.extend_from_slice(fs);
        }
        match (has_time, info_value(f, "time_index")) {
            (true, Some(v)) => {
                time_index.push(v.parse::<u64>().map_err(|_| DataError::InvalidValue {
                    file: file.to_path_buf(),
                    field: "time_index".into(),
                    detail: format!("frame {i} has `{v}`, not a whole number of time steps"),
                })?)
            }
            (false, None) => {}
            _ => {
                return Err(mismatch(
                    i,
                    "has time_index where others do not (or the reverse)",
                ));
            }
        }
    }
    let energy_unit = match info_value(first, "energy_unit") {
        Some(u) => EnergyUnit::parse(u).ok_or_else(|| DataError::Parse {
            file: file.to_path_buf(),
            line: 2,
            message: format!("unknown energy_unit `{u}`"),
        })?,
        None => opts.energy_unit.unwrap_or(EnergyUnit::KcalPerMol),
    };
    let time_order = if has_time {
        TimeOrder::Indexed(time_index)
    } else {
        TimeOrder::Unknown
    };
    let shape_err = |e: ndarray::ShapeError| DataError::ShapeMismatch {
        file: file.to_path_buf(),
        detail: e.to_string(),
    };
    Dataset::new(DatasetParts {
        species: Species::PerFrame(z),
        positions: Array3::from_shape_vec((t, n, 3), positions).map_err(shape_err)?,
        energies: has_energy.then(|| Array1::from(energies)),
        forces: if has_forces {
            Some(Array3::from_shape_vec((t, n, 3), forces).map_err(shape_err)?)
        } else {
            None
        },
        time_order,
        units: Units {
            energy: energy_unit,
            length: match info_value(first, "length_unit") {
                Some(l) => parse_length_unit(l).ok_or_else(|| DataError::Parse {
                    file: file.to_path_buf(),
                    line: 2,
                    message: format!("unknown length_unit `{l}`"),
                })?,
                None => LengthUnit::Angstrom,
            },
        },
        provenance: Provenance {
            file: Some(PathBuf::from(file)),
            format: Some(if extended {
                Format::ExtXyz
            } else {
                Format::Xyz
            }),
            molecule: info_value(first, "molecule").map(str::to_owned),
            theory: info_value(first, "theory").map(str::to_owned),
            time_step_fs: info_value(first, "dt_fs").and_then(|v| v.parse().ok()),
        },
    })
}

/// The name a length unit has in our files' metadata.
pub(crate) fn length_unit_name(unit: LengthUnit) -> &'static str {
    match unit {
        LengthUnit::Angstrom => "angstrom",
        LengthUnit::Bohr => "bohr",
    }
}

/// Parses a length unit name from file metadata.
pub(crate) fn parse_length_unit(name: &str) -> Option<LengthUnit> {
    match name.trim().to_ascii_lowercase().as_str() {
        "angstrom" | "å" | "a" | "ang" => Some(LengthUnit::Angstrom),
        "bohr" | "au" => Some(LengthUnit::Bohr),
        _ => None,
    }
}

/// Atoms per frame reserved ahead of reading them (larger frames grow as they are read).
const MAX_PREALLOCATED_ATOMS: usize = 1 << 16;

fn quote(value: &str) -> String {
    if value.is_empty() || value.contains(|c: char| c.is_whitespace() || c == '"' || c == '=') {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        value.to_owned()
    }
}

/// Writes `data` as extended XYZ: ASE reads it back with `ase.io.read(path, ":")`.
///
/// Besides ASE's `energy` and `forces`, each comment line carries `energy_unit`, and where known
/// `time_index`, `molecule`, `theory` and `dt_fs`, so a round trip loses nothing.
pub fn write_extxyz<W: Write>(data: &Dataset, mut out: W) -> Result<()> {
    let io = |e: std::io::Error| DataError::Unwritable {
        format: "extended XYZ",
        reason: e.to_string(),
    };
    let p = data.provenance();
    let mut fixed_info = format!("energy_unit={}", data.units().energy.symbol());
    if data.units().length != LengthUnit::Angstrom {
        let _ = write!(
            fixed_info,
            " length_unit={}",
            length_unit_name(data.units().length)
        );
    }
    for (key, value) in [("molecule", &p.molecule), ("theory", &p.theory)] {
        if let Some(v) = value {
            let _ = write!(fixed_info, " {key}={}", quote(v));
        }
    }
    if let Some(dt) = p.time_step_fs {
        let _ = write!(fixed_info, " dt_fs={dt}");
    }
    let properties = if data.forces().is_some() {
        "species:S:1:pos:R:3:forces:R:3"
    } else {
        "species:S:1:pos:R:3"
    };
    let mut line = String::with_capacity(256);
    for frame in data.frames() {
        line.clear();
        let _ = write!(line, "{}\nProperties={properties}", data.n_atoms());
        if let Some(e) = frame.energy {
            let _ = write!(line, " energy={e}");
        }
        if let Some(t) = frame.time_index {
            let _ = write!(line, " time_index={t}");
        }
        let _ = writeln!(line, " {fixed_info} pbc=\"F F F\"");
        for (a, &z) in frame.atomic_numbers.iter().enumerate() {
            let symbol = elements::symbol(z).unwrap_or("X");
            let r = frame.positions.row(a);
            let _ = write!(line, "{symbol:<2} {:>22} {:>22} {:>22}", r[0], r[1], r[2]);
            if let Some(f) = frame.forces {
                let f = f.row(a);
                let _ = write!(line, " {:>22} {:>22} {:>22}", f[0], f[1], f[2]);
            }
            line.push('\n');
        }
        out.write_all(line.as_bytes()).map_err(io)?;
    }
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_line_with_quotes_and_flags() {
        let info = parse_info(
            r#"Properties=species:S:1:pos:R:3 energy=-97195.01 pbc="F F F" name='a b' flag"#,
        )
        .unwrap();
        assert_eq!(info[0], ("Properties".into(), "species:S:1:pos:R:3".into()));
        assert_eq!(info[1], ("energy".into(), "-97195.01".into()));
        assert_eq!(info[2], ("pbc".into(), "F F F".into()));
        assert_eq!(info[3], ("name".into(), "a b".into()));
        assert_eq!(info[4], ("flag".into(), "T".into()));
        assert!(parse_info(r#"pbc="F F"#).is_err());
    }

    #[test]
    fn properties_give_column_offsets() {
        let cols = parse_properties("species:S:1:pos:R:3:REF_forces:R:3").unwrap();
        assert_eq!(cols[2].name, "REF_forces");
        assert_eq!(cols[2].offset, 4);
        assert!(parse_properties("species:S").is_err());
        assert!(parse_properties("species:Q:1").is_err());
    }
}
