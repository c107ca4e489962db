//! Downloading the real MD17-family data: resumable HTTP downloads (Range requests), checksum
//! verification, atomic placement and `.tar.bz2` unpacking.
//!
//! A download goes to `<dest>/<file>.part`; an interrupted transfer leaves that file, and the next
//! run resumes it with a `Range` request. Only a complete file whose checksum matches is renamed
//! to `<dest>/<file>`; a mismatch deletes the partial file and fails.

use anyhow::{Context, Result, bail, ensure};
use indicatif::{ProgressBar, ProgressStyle};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// How a downloaded file is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// The MD5 the host publishes (figshare computes one per file).
    Md5(String),
    /// A SHA-256 digest.
    Sha256(String),
    /// No checksum is published: the SHA-256 of the first complete download is recorded in
    /// `<dest>/CHECKSUMS.sha256` and every later download must match it.
    RecordOnFirstDownload,
}

/// What to do with the file once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpack {
    /// Keep the file as it is.
    No,
    /// Extract a `.tar.bz2` archive into the destination directory.
    TarBz2,
}

/// One downloadable file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Where to get it.
    pub url: String,
    /// The file name to store it under.
    pub file_name: String,
    /// How to verify it.
    pub checksum: Checksum,
    /// Whether to unpack it.
    pub unpack: Unpack,
}

/// The rMD17 molecules with their figshare file ids and MD5s (figshare article 12672038, where
/// each molecule's npz is also published on its own).
const RMD17_FILES: [(&str, u64, &str); 10] = [
    ("aspirin", 62265757, "17fd6fb69066888613f7e16b358a7553"),
    ("azobenzene", 62265754, "be79df918468eb3579aa73a0becf7390"),
    ("benzene", 62265739, "18c9242bc90fbf28215f6dd81e650f16"),
    ("ethanol", 62265733, "eb837fb8deb27d4e0d52f71a03aff776"),
    (
        "malonaldehyde",
        62265736,
        "cdc1d70c0c34062ddde6e5071eb6fe21",
    ),
    ("naphthalene", 62265751, "0efba19c9907e3852318b1e6008b3b9e"),
    ("paracetamol", 62265760, "ba10784f7b67635427085f6d7ec2dd97"),
    ("salicylic", 62265748, "900fedf242da438400fa4293348d7dd1"),
    ("toluene", 62265742, "0f2913d51f8149c90ab28d697a076f64"),
    ("uracil", 62265745, "992a4479c28a07e0cce6da964805be31"),
];

/// The whole rMD17 archive (npz files plus the five published train/test index files).
const RMD17_ARCHIVE: (&str, &str) = (
    "https://figshare.com/ndownloader/files/23950376",
    "rmd17.tar.bz2",
);

/// MD17 file names on quantum-machine.org, by molecule.
const MD17_FILES: [(&str, &str); 10] = [
    ("aspirin", "md17_aspirin.npz"),
    ("azobenzene", "azobenzene_dft.npz"),
    ("benzene", "md17_benzene2017.npz"),
    ("ethanol", "md17_ethanol.npz"),
    ("malonaldehyde", "md17_malonaldehyde.npz"),
    ("naphthalene", "md17_naphthalene.npz"),
    ("paracetamol", "paracetamol_dft.npz"),
    ("salicylic", "md17_salicylic.npz"),
    ("toluene", "md17_toluene.npz"),
    ("uracil", "md17_uracil.npz"),
];
const MD17_BASE: &str = "http://www.quantum-machine.org/gdml/data/npz/";

/// Which public dataset to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Collection {
    /// Revised MD17 (PBE/def2-SVP), 100,000 frames per molecule.
    Rmd17,
    /// Original MD17 trajectories (time-ordered, 0.5 fs).
    Md17,
}

/// The files of `collection` for `molecules` (all when empty); `archive` fetches rMD17's
/// tarball (with the index files) instead of the per-molecule npz files.
pub fn catalog(collection: Collection, molecules: &[String], archive: bool) -> Result<Vec<Source>> {
    let known: Vec<&str> = match collection {
        Collection::Rmd17 => RMD17_FILES.iter().map(|f| f.0).collect(),
        Collection::Md17 => MD17_FILES.iter().map(|f| f.0).collect(),
    };
    for m in molecules {
        ensure!(
            known.contains(&m.as_str()),
            "unknown molecule `{m}`; known: {}",
            known.join(", ")
        );
    }
    let wanted = |name: &str| molecules.is_empty() || molecules.iter().any(|m| m == name);
    Ok(match (collection, archive) {
        (Collection::Rmd17, true) => vec![Source {
            url: RMD17_ARCHIVE.0.into(),
            file_name: RMD17_ARCHIVE.1.into(),
            checksum: Checksum::RecordOnFirstDownload,
            unpack: Unpack::TarBz2,
        }],
        (Collection::Rmd17, false) => RMD17_FILES
            .iter()
            .filter(|f| wanted(f.0))
            .map(|&(name, id, md5)| Source {
                url: format!("https://ndownloader.figshare.com/files/{id}"),
                file_name: format!("rmd17_{name}.npz"),
                checksum: Checksum::Md5(md5.into()),
                unpack: Unpack::No,
            })
            .collect(),
        (Collection::Md17, _) => MD17_FILES
            .iter()
            .filter(|f| wanted(f.0))
            .map(|&(_, file)| Source {
                url: format!("{MD17_BASE}{file}"),
                file_name: file.into(),
                checksum: Checksum::RecordOnFirstDownload,
                unpack: Unpack::No,
            })
            .collect(),
    })
}

/// Hex digests of a file.
fn digests(path: &Path) -> Result<(String, String)> {
    let mut file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let (mut md5, mut sha) = (Md5::new(), Sha256::new());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
        sha.update(&buf[..n]);
    }
    Ok((hex::encode(md5.finalize()), hex::encode(sha.finalize())))
}

const RECORD_FILE: &str = "CHECKSUMS.sha256";

fn recorded_sha256(dest: &Path, file_name: &str) -> Result<Option<String>> {
    let path = dest.join(RECORD_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.lines().find_map(|l| {
        let (sum, name) = l.split_once("  ")?;
        (name == file_name).then(|| sum.to_owned())
    }))
}

fn record_sha256(dest: &Path, file_name: &str, sha: &str) -> Result<()> {
    let path = dest.join(RECORD_FILE);
    let mut text = if path.exists() {
        fs::read_to_string(&path)?
    } else {
        String::new()
    };
    text.push_str(&format!("{sha}  {file_name}\n"));
    mlff_data::write_atomically(&path, |f| {
        f.write_all(text.as_bytes())
            .map_err(|source| mlff_data::DataError::Io {
                file: path.clone(),
                source,
            })
    })?;
    Ok(())
}

/// Checks `path` against `source`'s checksum; `Ok(false)` on mismatch.
fn verify(source: &Source, dest: &Path, path: &Path) -> Result<(bool, String)> {
    let (md5, sha) = digests(path)?;
    Ok(match &source.checksum {
        Checksum::Md5(expected) => (
            md5.eq_ignore_ascii_case(expected),
            format!("MD5 {md5}, expected {expected}"),
        ),
        Checksum::Sha256(expected) => (
            sha.eq_ignore_ascii_case(expected),
            format!("SHA-256 {sha}, expected {expected}"),
        ),
        Checksum::RecordOnFirstDownload => match recorded_sha256(dest, &source.file_name)? {
            Some(expected) => (
                sha == expected,
                format!("SHA-256 {sha}, recorded {expected}"),
            ),
            None => (
                true,
                format!("SHA-256 {sha} (no published checksum; recorded now)"),
            ),
        },
    })
}

/// Downloads (or resumes) `source` into `dest`, verifies and unpacks it; returns the file.
/// An already verified file is not downloaded again.
pub fn fetch(source: &Source, dest: &Path, show_progress: bool) -> Result<PathBuf> {
    fs::create_dir_all(dest).with_context(|| format!("creating {}", dest.display()))?;
    let target = dest.join(&source.file_name);
    if target.exists() && verify(source, dest, &target)?.0 {
        tracing::info!(file = %target.display(), "already downloaded and verified");
        return Ok(target);
    }
    let part = dest.join(format!("{}.part", source.file_name));
    download(&source.url, &part, show_progress)?;
    let (ok, detail) = verify(source, dest, &part)?;
    if !ok {
        fs::remove_file(&part).ok();
        bail!(
            "checksum mismatch for {} from {}: {detail}; the corrupt download was deleted, run again to retry",
            source.file_name,
            source.url
        );
    }
    if source.checksum == Checksum::RecordOnFirstDownload
        && recorded_sha256(dest, &source.file_name)?.is_none()
    {
        record_sha256(dest, &source.file_name, &digests(&part)?.1)?;
    }
    fs::rename(&part, &target).with_context(|| format!("moving {} into place", part.display()))?;
    tracing::info!(file = %target.display(), %detail, "verified");
    if source.unpack == Unpack::TarBz2 {
        unpack_tar_bz2(&target, dest)?;
    }
    Ok(target)
}

/// Fetches `url` into `part`, resuming from its current length with a `Range` request.
fn download(url: &str, part: &Path, show_progress: bool) -> Result<()> {
    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut request = ureq::get(url).config().http_status_as_error(false).build();
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let mut response = request
        .call()
        .with_context(|| format!("connecting to {url}"))?;
    let status = response.status().as_u16();
    let (mut file, start) = match status {
        206 => (OpenOptions::new().append(true).open(part)?, have),
        200 => (File::create(part)?, 0),
        416 if have > 0 => return Ok(()), // the partial file is already complete
        other => bail!("{url} answered HTTP {other}"),
    };
    let remaining = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let bar = if show_progress {
        let bar = ProgressBar::new(remaining.map_or(0, |r| r + start));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(
            part.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("download")
                .to_owned(),
        );
        bar.set_position(start);
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut reader = response.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf).with_context(|| {
            format!(
                "download of {url} interrupted; the partial file {} is kept, run again to resume",
                part.display()
            )
        })?;
        if n == 0 {
            break;
        }
        file.write_all(&buf[..n])?;
        bar.inc(n as u64);
    }
    file.sync_all()?;
    bar.finish_and_clear();
    Ok(())
}

/// Extracts a `.tar.bz2` into `dest` through a temporary directory, so an interrupted unpack
/// leaves no half-extracted tree; `tar` refuses entries that would escape the directory.
pub fn unpack_tar_bz2(archive: &Path, dest: &Path) -> Result<()> {
    let staging = tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(dest)?;
    let file = File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    tar::Archive::new(bzip2::read::BzDecoder::new(file))
        .unpack(staging.path())
        .with_context(|| format!("unpacking {} (corrupt archive?)", archive.display()))?;
    for entry in fs::read_dir(staging.path())? {
        let entry = entry?;
        let target = dest.join(entry.file_name());
        if target.is_dir() {
            fs::remove_dir_all(&target)?;
        }
        fs::rename(entry.path(), &target)?;
    }
    Ok(())
}
