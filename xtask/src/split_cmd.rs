//! `cargo xtask split create|show`: make a reproducible train/validation/test split of a dataset
//! file with `mlff-splits`, and describe (and re-verify) a `split.json`.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use mlff_bench::data::time_order_of;
use mlff_splits::{
    LearningCurveParams, LearningPool, RandomParams, Rmd17Params, Size, SlidingWindowParams, Split,
    SplitRequest, Strategy, TimeHoldoutParams, TimeOrder, TimeTestSegment, Validation,
    ValidationPlacement, WindowPlacement,
};
use std::path::{Path, PathBuf};

/// Split tools: `create` writes a split, `show` summarises and verifies one.
#[derive(Debug, Subcommand)]
pub enum SplitCommand {
    /// Make a split of a dataset file and write it as JSON (strategy, parameters, seed, indices).
    Create(CreateArgs),
    /// Print a split's strategy and set sizes, and check that its indices regenerate from its
    /// request (a `split.json` proves its own provenance).
    Show {
        /// The split file.
        file: PathBuf,
    },
}

/// Options of `split create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The dataset (any format `data info` reads); its frame count and time order are used.
    #[arg(long)]
    pub data: PathBuf,
    /// How to split.
    #[arg(long, value_enum)]
    pub strategy: StrategyArg,
    /// Time strategies and contiguous learning curves: fraction of the trajectory, at its end,
    /// used as the test set. Random strategies: the test size when `--test` is not given.
    #[arg(long, default_value_t = mlff_splits::DEFAULT_TEST_FRACTION)]
    pub test_fraction: f64,
    /// Random strategies: test set size, a count (`1000`) or a fraction (`0.2`).
    #[arg(long, value_parser = parse_size)]
    pub test: Option<Size>,
    /// Time strategies: frames left out between the training part and the test segment.
    #[arg(long, default_value_t = 0)]
    pub gap: usize,
    /// `sliding-windows`: frames per training window (validation included).
    #[arg(long)]
    pub window: Option<usize>,
    /// `sliding-windows`: K windows evenly spaced from the start to the test segment.
    #[arg(long, conflicts_with = "stride")]
    pub positions: Option<usize>,
    /// `sliding-windows`: a window every S frames, the last one right before the test segment.
    #[arg(long)]
    pub stride: Option<usize>,
    /// `learning-curve`: strictly increasing training-set sizes, e.g. `200,400,800`.
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<usize>,
    /// `learning-curve`: where the subsets come from.
    #[arg(long, value_enum, default_value = "random")]
    pub pool: PoolArg,
    /// `random`: training-side size (validation included), a count or a fraction of the
    /// non-test frames; all non-test frames by default.
    #[arg(long, value_parser = parse_size)]
    pub train: Option<Size>,
    /// Validation set carved from the training side: a count or a fraction of it.
    #[arg(long, value_parser = parse_size)]
    pub validation: Option<Size>,
    /// Which training frames become validation frames (`tail`: the latest, time strategies).
    #[arg(long, value_enum, default_value = "random")]
    pub validation_placement: PlacementArg,
    /// `rmd17-published`: rMD17's `splits/` directory (`index_{train,test}_0N.csv`).
    #[arg(long)]
    pub rmd17_splits: Option<PathBuf>,
    /// `rmd17-published`: which published split, 1–5.
    #[arg(long, default_value_t = 1)]
    pub number: u8,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output JSON.
    #[arg(long)]
    pub out: PathBuf,
}

/// Strategies available from the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StrategyArg {
    /// i.i.d. random split (`--test`, `--train`).
    Random,
    /// rMD17's published index files (`--rmd17-splits DIR --number N`).
    Rmd17Published,
    /// Last `--test-fraction` of the trajectory is the test set, after `--gap` frames.
    TimeHoldout,
    /// Training windows of `--window` frames at `--positions K` or every `--stride S` frames.
    SlidingWindows,
    /// Nested training sets of `--sizes` from a `--pool random|contiguous`.
    LearningCurve,
}

/// Learning-curve pools.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PoolArg {
    /// Random test set; subsets are prefixes of one permutation of the rest.
    Random,
    /// Test set at the end of the trajectory; subsets are the latest frames before it.
    Contiguous,
}

/// Validation placements.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlacementArg {
    /// A seeded random draw.
    Random,
    /// The latest training frames in time.
    Tail,
}

/// Parses a set size: an integer is a frame count, a number with a decimal point a fraction.
pub fn parse_size(text: &str) -> Result<Size, String> {
    if text.contains(['.', 'e', 'E']) {
        text.parse::<f64>()
            .map(Size::Fraction)
            .map_err(|e| format!("`{text}` is not a fraction: {e}"))
    } else {
        text.parse::<usize>()
            .map(Size::Count)
            .map_err(|e| format!("`{text}` is not a frame count: {e}"))
    }
}

impl CreateArgs {
    fn segment(&self, time: Option<TimeOrder>) -> TimeTestSegment {
        TimeTestSegment {
            time,
            test_fraction: self.test_fraction,
            gap: self.gap,
        }
    }

    fn test_size(&self) -> Size {
        self.test.unwrap_or(Size::Fraction(self.test_fraction))
    }

    /// The library strategy these options describe, for a dataset of `n_frames` frames.
    fn strategy(&self, n_frames: usize, time: Option<TimeOrder>) -> Result<Strategy> {
        Ok(match self.strategy {
            StrategyArg::Random => Strategy::Random(RandomParams {
                n_frames,
                test: self.test_size(),
                train: self.train,
            }),
            StrategyArg::Rmd17Published => {
                let Some(dir) = &self.rmd17_splits else {
                    bail!("--strategy rmd17-published needs --rmd17-splits DIR (rMD17's splits/)");
                };
                Strategy::Rmd17Published(
                    Rmd17Params::from_directory(dir, self.number, n_frames).with_context(|| {
                        format!(
                            "reading published split {} in {}",
                            self.number,
                            dir.display()
                        )
                    })?,
                )
            }
            StrategyArg::TimeHoldout => Strategy::TimeHoldout(TimeHoldoutParams {
                segment: self.segment(time),
            }),
            StrategyArg::SlidingWindows => {
                let window = self
                    .window
                    .context("--strategy sliding-windows needs --window FRAMES")?;
                let placement = match (self.positions, self.stride) {
                    (_, Some(s)) => WindowPlacement::Stride(s),
                    (Some(k), None) => WindowPlacement::Positions(k),
                    (None, None) => bail!("sliding-windows needs --positions K or --stride S"),
                };
                Strategy::SlidingWindows(SlidingWindowParams {
                    segment: self.segment(time),
                    window,
                    placement,
                })
            }
            StrategyArg::LearningCurve => {
                if self.sizes.is_empty() {
                    bail!("--strategy learning-curve needs --sizes N1,N2,…");
                }
                let pool = match self.pool {
                    PoolArg::Random => LearningPool::Random {
                        test: self.test_size(),
                    },
                    PoolArg::Contiguous => LearningPool::Contiguous {
                        segment: self.segment(time),
                    },
                };
                Strategy::LearningCurve(LearningCurveParams {
                    n_frames,
                    sizes: self.sizes.clone(),
                    pool,
                })
            }
        })
    }
}

/// Runs a `split` subcommand.
pub fn run(cmd: &SplitCommand) -> Result<()> {
    match cmd {
        SplitCommand::Create(args) => {
            let split = create(args)?;
            print!("{}", split.summary());
            tracing::info!(out = %args.out.display(), "split written");
            Ok(())
        }
        SplitCommand::Show { file } => {
            let split = read_split(file)?;
            print!("{}", split.summary());
            split.verify().with_context(|| {
                format!("{} does not regenerate from its request", file.display())
            })?;
            println!("verified: the indices regenerate from the request");
            Ok(())
        }
    }
}

/// Makes the split `args` describe and writes it to `args.out`.
pub fn create(args: &CreateArgs) -> Result<Split> {
    let data =
        mlff_data::load(&args.data).with_context(|| format!("loading {}", args.data.display()))?;
    let time = time_order_of(&data)
        .with_context(|| format!("reading the time order of {}", args.data.display()))?;
    let mut request = SplitRequest::new(args.strategy(data.len(), time)?, args.seed);
    if let Some(size) = args.validation {
        request = request.with_validation(Validation {
            size,
            placement: match args.validation_placement {
                PlacementArg::Random => ValidationPlacement::Random,
                PlacementArg::Tail => ValidationPlacement::Tail,
            },
        });
    }
    let split = request.generate().with_context(|| {
        format!(
            "making a {} split of {} ({} frames)",
            request.strategy.name(),
            args.data.display(),
            data.len()
        )
    })?;
    split
        .write_json(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    Ok(split)
}

/// Reads a `split.json`.
pub fn read_split(path: &Path) -> Result<Split> {
    Split::read_json(path).with_context(|| format!("reading split {}", path.display()))
}

/// Reads a split and checks it before anything uses it: its indices regenerate from its request
/// (strategies that need descriptors excepted, with a notice), and every single-dataset run
/// fits `data` (indices in range, no frame twice, training, validation and test disjoint).
pub fn read_checked_split(path: &Path, data: &mlff_data::Dataset) -> Result<Split> {
    let split = read_split(path)?;
    match split.verify() {
        Ok(()) => {}
        Err(mlff_splits::SplitError::NeedsDescriptors { strategy }) => tracing::warn!(
            "{}: `{strategy}` splits need their descriptors to be regenerated; only their \
             ranges and overlaps are checked here",
            path.display()
        ),
        Err(e) => {
            return Err(e).with_context(|| {
                format!(
                    "{}: the split does not regenerate from its request (edited by hand, or \
                     written by another version); make it again with `split create`",
                    path.display()
                )
            });
        }
    }
    let n = data.len();
    for run in split.runs() {
        run.check(&|label| (label == mlff_splits::SINGLE_DATASET).then_some(n))
            .with_context(|| {
                format!(
                    "{} does not fit {} ({n} frames): the split was made for another dataset",
                    path.display(),
                    data.provenance().label().display()
                )
            })?;
    }
    Ok(split)
}
