//! Reading and writing datasets in the formats users have; the format is recognised from the
//! content (not the file name) unless the caller says otherwise.

pub mod npz;
pub mod xyz;

use crate::dataset::{Dataset, Format};
use crate::error::{DataError, Result};
use std::io::Read;
use std::path::Path;

pub use npz::{
    NpzArrayWriter, NpzReader, NpzWriteLayout, NumericArray, write_npz, write_npz_arrays,
};
pub use xyz::{XyzOptions, write_extxyz};

/// How to load a file.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Force a format instead of detecting it from the content.
    pub format: Option<Format>,
    /// Options for extended XYZ (key names, energy unit).
    pub xyz: XyzOptions,
}

/// Recognises the format of `file` from its first bytes (and, for npz, its array names).
pub fn detect_format(file: &Path) -> Result<Format> {
    let io = |source| DataError::Io {
        file: file.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(file)
        .map_err(io)?
        .take(4096)
        .read_to_end(&mut head)
        .map_err(io)?;
    if head.is_empty() {
        return Err(DataError::Empty {
            file: file.to_path_buf(),
            what: "the file has zero bytes".into(),
        });
    }
    if head.starts_with(b"PK") {
        let npz = npz::NpzReader::open(file)?;
        return Ok(match npz.layout()? {
            npz::NpzLayout::Rmd17 => Format::Rmd17Npz,
            npz::NpzLayout::Md17 => Format::Md17Npz,
            npz::NpzLayout::SgdmlModel => Format::SgdmlModelNpz,
        });
    }
    let unknown = |reason: &str| DataError::UnknownFormat {
        file: file.to_path_buf(),
        reason: reason.to_owned(),
    };
    // A partial UTF-8 character may end the 4 KiB head: decode up to the last valid byte.
    let text = match std::str::from_utf8(&head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => {
            return Err(unknown(
                "binary content that is neither an npz archive nor text",
            ));
        }
    };
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let count = lines.next().unwrap_or_default().trim();
    if count.parse::<usize>().is_err() {
        return Err(unknown(&format!(
            "text whose first line `{count}` is not an XYZ atom count"
        )));
    }
    let comment = lines.next().unwrap_or_default();
    let extended = comment.contains("Properties=")
        || xyz::parse_info(comment).is_ok_and(|info| {
            info.iter()
                .any(|(k, _)| xyz::ENERGY_KEYS.contains(&k.as_str()))
        });
    Ok(if extended {
        Format::ExtXyz
    } else {
        Format::Xyz
    })
}

/// Loads a dataset, detecting its format from the content.
pub fn load(file: impl AsRef<Path>) -> Result<Dataset> {
    load_with(file, &LoadOptions::default())
}

/// Loads a dataset with explicit options.
pub fn load_with(file: impl AsRef<Path>, opts: &LoadOptions) -> Result<Dataset> {
    let file = file.as_ref();
    let format = match opts.format {
        Some(f) => f,
        None => detect_format(file)?,
    };
    match format {
        Format::Rmd17Npz | Format::Md17Npz | Format::SgdmlModelNpz => npz::read(file),
        Format::ExtXyz | Format::Xyz => {
            let text = std::fs::read_to_string(file).map_err(|source| DataError::Io {
                file: file.to_path_buf(),
                source,
            })?;
            xyz::read(file, &text, format == Format::ExtXyz, &opts.xyz)
        }
        Format::InMemory => Err(DataError::UnknownFormat {
            file: file.to_path_buf(),
            reason: "`in memory` is not a file format".into(),
        }),
    }
}

/// The format to write, chosen by the caller or from the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// MD17-layout npz.
    Md17Npz,
    /// rMD17-layout npz.
    Rmd17Npz,
    /// Extended XYZ.
    ExtXyz,
}

impl OutputFormat {
    /// Chooses from the file name: `*.xyz`/`*.extxyz` → extended XYZ, `rmd17*.npz` → rMD17,
    /// other `*.npz` → MD17.
    pub fn from_path(file: &Path) -> Option<Self> {
        let name = file.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".xyz") || name.ends_with(".extxyz") {
            Some(OutputFormat::ExtXyz)
        } else if name.ends_with(".npz") && name.starts_with("rmd17") {
            Some(OutputFormat::Rmd17Npz)
        } else if name.ends_with(".npz") {
            Some(OutputFormat::Md17Npz)
        } else {
            None
        }
    }
}

/// Writes `data` to `file` in `format`, atomically (temporary file + rename).
pub fn save(data: &Dataset, file: impl AsRef<Path>, format: OutputFormat) -> Result<()> {
    let file = file.as_ref();
    match format {
        OutputFormat::Md17Npz => npz::write_npz_file(data, NpzWriteLayout::Md17, file),
        OutputFormat::Rmd17Npz => npz::write_npz_file(data, NpzWriteLayout::Rmd17, file),
        OutputFormat::ExtXyz => crate::atomic::write_atomically(file, |f| {
            write_extxyz(data, std::io::BufWriter::new(f))
        }),
    }
}
