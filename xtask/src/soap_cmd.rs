//! `cargo xtask soap` and `cargo xtask similarity`: SOAP descriptors of dataset frames with
//! `mlff-soap` (DScribe's conventions and column order), and the similarity of test frames to a
//! training set.
//!
//! Both stream frames through `Soap::for_each_chunk`, so only one chunk of descriptors is in
//! memory: `soap` writes each chunk straight into the npz's `soap` array (npyz's streaming
//! writer), `similarity` keeps only the averaged training vectors.

use anyhow::{Context, Result, ensure};
use clap::{Args, ValueEnum};
use mlff_data::format::npz::NpzArrayWriter;
use mlff_data::{Dataset, LengthUnit};
use mlff_soap::{
    Average, OwnedFrame, RadialBasisKind, SimilaritySummary, Soap, SoapParams,
    similarity_to_training,
};
use ndarray::Array2;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// SOAP hyper-parameters, named as DScribe's `SOAP(...)` arguments.
#[derive(Debug, Args)]
pub struct SoapParamArgs {
    /// Atomic numbers that may occur, e.g. `1,6,8` (default: the elements of the input).
    #[arg(long, value_delimiter = ',')]
    pub species: Vec<u32>,
    /// Radial cutoff in Å.
    #[arg(long, default_value_t = 5.0)]
    pub r_cut: f64,
    /// Number of radial basis functions.
    #[arg(long, default_value_t = 8)]
    pub n_max: usize,
    /// Maximum angular degree (≤ 20).
    #[arg(long, default_value_t = 6)]
    pub l_max: usize,
    /// Width of the atomic Gaussians in Å.
    #[arg(long, default_value_t = 0.5)]
    pub sigma: f64,
    /// Radial basis.
    #[arg(long, value_enum, default_value = "gto")]
    pub rbf: RbfArg,
    /// Frames computed in parallel per chunk (bounds memory).
    #[arg(long, default_value_t = 256)]
    pub chunk_frames: usize,
}

/// Radial bases.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RbfArg {
    /// Gaussian-type orbitals.
    Gto,
    /// Polynomials.
    Polynomial,
}

/// Averaging modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AverageArg {
    /// One power spectrum per atom.
    Off,
    /// Average the coefficients over atoms, then one power spectrum.
    Inner,
    /// Average the per-atom power spectra.
    Outer,
}

impl AverageArg {
    fn library(self) -> Average {
        match self {
            AverageArg::Off => Average::Off,
            AverageArg::Inner => Average::Inner,
            AverageArg::Outer => Average::Outer,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AverageArg::Off => "off",
            AverageArg::Inner => "inner",
            AverageArg::Outer => "outer",
        }
    }
}

impl RbfArg {
    fn name(self) -> &'static str {
        match self {
            RbfArg::Gto => "gto",
            RbfArg::Polynomial => "polynomial",
        }
    }
}

/// Options of `soap`.
#[derive(Debug, Args)]
pub struct SoapArgs {
    /// The dataset (any format `data info` reads).
    #[arg(long)]
    pub data: PathBuf,
    /// Frames `START..END` (either end may be left out); all by default.
    #[arg(long, value_parser = parse_range)]
    pub frames: Option<FrameRange>,
    /// SOAP hyper-parameters.
    #[command(flatten)]
    pub params: SoapParamArgs,
    /// Averaging over atoms.
    #[arg(long, value_enum, default_value = "off")]
    pub average: AverageArg,
    /// Output npz: `soap` (frames, atoms, features) or (frames, features) when averaged, f64,
    /// written chunk by chunk; `frames` (dataset indices), `params_json` and each parameter.
    #[arg(long)]
    pub out: PathBuf,
}

/// Options of `similarity`.
#[derive(Debug, Args)]
pub struct SimilarityArgs {
    /// Training frames: `FILE` or `FILE:START..END`.
    #[arg(long, value_parser = parse_frames_spec)]
    pub train: FramesSpec,
    /// Test frames: `FILE` or `FILE:START..END`.
    #[arg(long, value_parser = parse_frames_spec)]
    pub test: FramesSpec,
    /// SOAP hyper-parameters.
    #[command(flatten)]
    pub params: SoapParamArgs,
    /// Averaging (similarity compares one averaged vector per frame: inner or outer).
    #[arg(long, value_enum, default_value = "inner")]
    pub average: AverageArg,
    /// Output: `.json` (per-frame values and summaries) or `.csv` (per-frame values).
    #[arg(long)]
    pub out: PathBuf,
}

/// A half-open frame range with optional ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRange {
    /// First frame (default 0).
    pub start: Option<usize>,
    /// One past the last frame (default: the frame count).
    pub end: Option<usize>,
}

impl FrameRange {
    /// The range inside a dataset of `n` frames, checked to be non-empty and in bounds.
    pub fn resolve(self, n: usize) -> Result<Range<usize>> {
        let (start, end) = (self.start.unwrap_or(0), self.end.unwrap_or(n));
        ensure!(
            start < end && end <= n,
            "frame range {start}..{end} is empty or outside the dataset's {n} frames"
        );
        Ok(start..end)
    }
}

/// A dataset file and an optional frame range.
#[derive(Debug, Clone)]
pub struct FramesSpec {
    /// The file.
    pub file: PathBuf,
    /// The frames.
    pub range: Option<FrameRange>,
}

/// Parses `START..END`, `START..` or `..END`.
pub fn parse_range(text: &str) -> Result<FrameRange, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("`{text}` is not a range START..END"))?;
    let end = |s: &str| -> Result<Option<usize>, String> {
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse()
                .map(Some)
                .map_err(|e| format!("`{s}` in `{text}`: {e}"))
        }
    };
    Ok(FrameRange {
        start: end(a)?,
        end: end(b)?,
    })
}

/// Parses `FILE` or `FILE:START..END`.
pub fn parse_frames_spec(text: &str) -> Result<FramesSpec, String> {
    match text.rsplit_once(':') {
        Some((file, range)) if range.contains("..") => Ok(FramesSpec {
            file: file.into(),
            range: Some(parse_range(range)?),
        }),
        _ => Ok(FramesSpec {
            file: text.into(),
            range: None,
        }),
    }
}

/// Loads `file` in Å and resolves the frame range.
fn load_frames(file: &Path, range: Option<FrameRange>) -> Result<(Dataset, Range<usize>)> {
    let data = mlff_data::load(file)
        .with_context(|| format!("loading {}", file.display()))?
        .with_length_unit(LengthUnit::Angstrom);
    let range = range
        .unwrap_or(FrameRange {
            start: None,
            end: None,
        })
        .resolve(data.len())
        .with_context(|| format!("selecting frames of {}", file.display()))?;
    Ok((data, range))
}

/// The frames of `range` as owned frames, produced lazily.
fn owned_frames(data: &Dataset, range: Range<usize>) -> impl Iterator<Item = OwnedFrame> + '_ {
    data.frames()
        .skip(range.start)
        .take(range.len())
        .map(|f| OwnedFrame {
            numbers: f.atomic_numbers.mapv(u32::from),
            positions: f.positions.to_owned(),
        })
}

impl SoapParamArgs {
    /// The calculator for these parameters; species default to the elements of `datasets`.
    fn calculator(&self, average: AverageArg, datasets: &[&Dataset]) -> Result<Soap> {
        let species: Vec<u32> = if self.species.is_empty() {
            let mut all: Vec<u32> = datasets
                .iter()
                .flat_map(|d| d.species().elements())
                .map(u32::from)
                .collect();
            all.sort_unstable();
            all.dedup();
            all
        } else {
            self.species.clone()
        };
        let params = SoapParams::new(&species, self.r_cut, self.n_max, self.l_max, self.sigma)
            .with_rbf(match self.rbf {
                RbfArg::Gto => RadialBasisKind::Gto,
                RbfArg::Polynomial => RadialBasisKind::Polynomial,
            })
            .with_average(average.library());
        Soap::new(params).context("invalid SOAP parameters")
    }

    fn json(&self, soap: &Soap, average: AverageArg) -> serde_json::Value {
        serde_json::json!({
            "species": soap.species(),
            "r_cut": self.r_cut,
            "n_max": self.n_max,
            "l_max": self.l_max,
            "sigma": self.sigma,
            "rbf": self.rbf.name(),
            "average": average.name(),
            "n_features": soap.n_features(),
        })
    }
}

/// Runs `soap`.
pub fn run_soap(args: &SoapArgs) -> Result<()> {
    let (data, range) = load_frames(&args.data, args.frames)?;
    let soap = args.params.calculator(args.average, &[&data])?;
    let rows = soap.rows_per_frame(data.n_atoms());
    let n_features = soap.n_features();
    let n_frames = range.len();
    let shape: Vec<usize> = if args.average == AverageArg::Off {
        vec![n_frames, rows, n_features]
    } else {
        vec![n_frames, n_features]
    };
    let params = args.params.json(&soap, args.average);
    let write = |file: &mut std::fs::File| -> Result<()> {
        let mut npz = NpzArrayWriter::new(BufWriter::new(file));
        npz.floats_streamed("soap", &shape, |push| {
            soap.for_each_chunk(
                owned_frames(&data, range.clone()),
                args.params.chunk_frames,
                |first, chunk: Vec<Array2<f64>>| -> Result<()> {
                    for descriptors in &chunk {
                        push(descriptors.as_standard_layout().as_slice().unwrap_or(&[]))?;
                    }
                    tracing::debug!(done = first + chunk.len(), of = n_frames, "soap chunk");
                    Ok(())
                },
            )
            .map(drop)
        })?;
        npz.integers("frames", &[n_frames], range.clone().map(|i| i as i64))?;
        npz.string("params_json", &params.to_string())?;
        let species: Vec<i64> = soap.species().iter().map(|&z| i64::from(z)).collect();
        npz.integers("species", &[species.len()], species)?;
        npz.floats("r_cut", &[], &[args.params.r_cut])?;
        npz.floats("sigma", &[], &[args.params.sigma])?;
        npz.integers("n_max", &[], [args.params.n_max as i64])?;
        npz.integers("l_max", &[], [args.params.l_max as i64])?;
        npz.string("rbf", args.params.rbf.name())?;
        npz.string("average", args.average.name())?;
        npz.finish()?;
        Ok(())
    };
    // `write_atomically` wants the data crate's error; keep ours and report it afterwards.
    let mut failure = None;
    let written = mlff_data::write_atomically(&args.out, |file| {
        write(file).map_err(|e| {
            let message = format!("{e:#}");
            failure = Some(e);
            mlff_data::DataError::Io {
                file: args.out.clone(),
                source: std::io::Error::other(message),
            }
        })
    });
    if let Some(e) = failure {
        return Err(e.context(format!(
            "writing SOAP of {} to {}",
            args.data.display(),
            args.out.display()
        )));
    }
    written.with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{}: {n_frames} frames × {rows} rows × {n_features} features → {}",
        args.data.display(),
        args.out.display()
    );
    Ok(())
}

/// Similarity of one test frame to the training set.
#[derive(Debug, Clone, serde::Serialize)]
struct FrameSimilarity {
    frame: usize,
    max: f64,
    mean: f64,
    nearest_train_frame: usize,
}

fn summary_json(s: &SimilaritySummary) -> serde_json::Value {
    serde_json::json!({
        "count": s.count, "mean": s.mean, "std": s.std, "min": s.min,
        "p05": s.p05, "median": s.median, "p95": s.p95, "max": s.max,
    })
}

/// Runs `similarity`.
pub fn run_similarity(args: &SimilarityArgs) -> Result<()> {
    ensure!(
        args.average != AverageArg::Off,
        "similarity compares one averaged SOAP vector per frame: use --average inner or outer"
    );
    let (train_data, train_range) = load_frames(&args.train.file, args.train.range)?;
    let (test_data, test_range) = load_frames(&args.test.file, args.test.range)?;
    let soap = args
        .params
        .calculator(args.average, &[&train_data, &test_data])?;
    let n_features = soap.n_features();
    let mut train = Array2::zeros((train_range.len(), n_features));
    soap.for_each_chunk(
        owned_frames(&train_data, train_range.clone()),
        args.params.chunk_frames,
        |first, chunk: Vec<Array2<f64>>| -> Result<()> {
            for (k, d) in chunk.iter().enumerate() {
                train.row_mut(first + k).assign(&d.row(0));
            }
            Ok(())
        },
    )
    .with_context(|| {
        format!(
            "SOAP of the training frames of {}",
            args.train.file.display()
        )
    })?;
    let mut per_frame = Vec::with_capacity(test_range.len());
    soap.for_each_chunk(
        owned_frames(&test_data, test_range.clone()),
        args.params.chunk_frames,
        |first, chunk: Vec<Array2<f64>>| -> Result<()> {
            let mut test = Array2::zeros((chunk.len(), n_features));
            for (k, d) in chunk.iter().enumerate() {
                test.row_mut(k).assign(&d.row(0));
            }
            let sims = similarity_to_training(test.view(), train.view())?;
            per_frame.extend(sims.iter().enumerate().map(|(k, s)| FrameSimilarity {
                frame: test_range.start + first + k,
                max: s.max,
                mean: s.mean,
                nearest_train_frame: train_range.start + s.nearest,
            }));
            Ok(())
        },
    )
    .with_context(|| {
        format!(
            "SOAP similarity of the test frames of {}",
            args.test.file.display()
        )
    })?;
    let max: Vec<f64> = per_frame.iter().map(|f| f.max).collect();
    let mean: Vec<f64> = per_frame.iter().map(|f| f.mean).collect();
    let max_summary = SimilaritySummary::from_values(&max)?;
    let mean_summary = SimilaritySummary::from_values(&mean)?;
    println!(
        "{} test frames vs {} training frames: max similarity mean {:.6} (min {:.6}), mean similarity mean {:.6}",
        per_frame.len(),
        train_range.len(),
        max_summary.mean,
        max_summary.min,
        mean_summary.mean
    );
    let is_csv = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        let mut text = String::from("frame,max,mean,nearest_train_frame\n");
        for f in &per_frame {
            text.push_str(&format!(
                "{},{},{},{}\n",
                f.frame, f.max, f.mean, f.nearest_train_frame
            ));
        }
        mlff_data::write_atomically(&args.out, |file| {
            file.write_all(text.as_bytes())
                .map_err(|source| mlff_data::DataError::Io {
                    file: args.out.clone(),
                    source,
                })
        })
        .with_context(|| format!("writing {}", args.out.display()))?;
    } else {
        let json = serde_json::json!({
            "train": { "file": args.train.file, "frames": [train_range.start, train_range.end] },
            "test": { "file": args.test.file, "frames": [test_range.start, test_range.end] },
            "params": args.params.json(&soap, args.average),
            "summary": { "max": summary_json(&max_summary), "mean": summary_json(&mean_summary) },
            "per_frame": per_frame,
        });
        crate::score_cmd::write_json(&args.out, &json)?;
    }
    tracing::info!(out = %args.out.display(), "similarity written");
    Ok(())
}
