//! rMD17's published train/test index files (`splits/index_train_0N.csv`,
//! `splits/index_test_0N.csv`, N = 1…5, 1000 zero-based frame indices each).
//!
//! The files hold one index per line with no header (users read them with
//! `np.loadtxt(path).astype(int)`); this reader also accepts comma- or space-separated indices
//! and integral floats such as `9.7618e+04`, which `np.savetxt` writes by default.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, SplitError};
use crate::sampling::{rng_for, stream};
use crate::split::{FrameSplit, SplitIndices};
use crate::validation::{Validation, carve};

/// Parameters of a split taken from rMD17's published index files.
///
/// The published lists are part of the description, so the split (including the validation
/// carved from the published training list) regenerates without the files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rmd17Params {
    /// Frames in the rMD17 file (100,000; azobenzene 99,988).
    pub n_frames: usize,
    /// Which published split (1–5).
    pub split_number: u8,
    /// Contents of `index_train_0N.csv`.
    pub published_train: Vec<usize>,
    /// Contents of `index_test_0N.csv`.
    pub published_test: Vec<usize>,
}

/// Paths of the published train and test files of split `number` inside `splits_dir`.
pub fn rmd17_index_paths(splits_dir: &Path, number: u8) -> (PathBuf, PathBuf) {
    (
        splits_dir.join(format!("index_train_0{number}.csv")),
        splits_dir.join(format!("index_test_0{number}.csv")),
    )
}

/// Reads one rMD17 index file.
pub fn read_index_file(path: &Path) -> Result<Vec<usize>> {
    let text = std::fs::read_to_string(path).map_err(|source| SplitError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_index_text(&text, path)
}

/// Parses the text of an index file (`path` is only used in error messages).
pub fn parse_index_text(text: &str, path: &Path) -> Result<Vec<usize>> {
    let mut indices = Vec::new();
    for (line_number, line) in text.lines().enumerate() {
        let tokens = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty());
        for token in tokens {
            let index = parse_index(token).ok_or_else(|| SplitError::IndexFileParse {
                path: path.to_path_buf(),
                line: line_number + 1,
                text: token.to_string(),
            })?;
            indices.push(index);
        }
    }
    if indices.is_empty() {
        return Err(SplitError::EmptyDataset {
            what: format!("index file {}", path.display()),
        });
    }
    Ok(indices)
}

fn parse_index(token: &str) -> Option<usize> {
    if let Ok(index) = token.parse::<usize>() {
        return Some(index);
    }
    let value: f64 = token.parse().ok()?;
    // Integral, non-negative and exactly representable: f64 holds every integer below 2^53.
    (value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 9.0e15)
        .then_some(value as usize)
}

impl Rmd17Params {
    /// Reads published split `number` (1–5) from rMD17's `splits/` directory.
    pub fn from_directory(splits_dir: &Path, number: u8, n_frames: usize) -> Result<Self> {
        if !(1..=5).contains(&number) {
            return Err(SplitError::InvalidParameter {
                what: "rMD17 split number".into(),
                reason: format!("{number} is not one of 1, 2, 3, 4, 5"),
            });
        }
        let (train_path, test_path) = rmd17_index_paths(splits_dir, number);
        Ok(Self {
            n_frames,
            split_number: number,
            published_train: read_index_file(&train_path)?,
            published_test: read_index_file(&test_path)?,
        })
    }

    /// Produces the index lists: the published test list, and the published training list
    /// with the validation set carved from it.
    pub(crate) fn generate(
        &self,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<SplitIndices> {
        check_list("published train list", &self.published_train, self.n_frames)?;
        check_list("published test list", &self.published_test, self.n_frames)?;
        let train_set: HashSet<usize> = self.published_train.iter().copied().collect();
        if let Some(&shared) = self.published_test.iter().find(|i| train_set.contains(i)) {
            return Err(SplitError::DuplicateIndex {
                list: "published train and test lists".into(),
                index: shared,
            });
        }
        let (train, validation) = carve(
            validation,
            self.published_train.clone(),
            false,
            "rMD17 published split",
            &mut rng_for(seed, stream::VALIDATION),
        )?;
        let mut test = self.published_test.clone();
        test.sort_unstable();
        Ok(SplitIndices::Single(FrameSplit {
            train,
            validation,
            test,
        }))
    }
}

/// Checks a list is non-empty, in range and free of repeats.
pub(crate) fn check_list(list: &str, indices: &[usize], n_frames: usize) -> Result<()> {
    if indices.is_empty() {
        return Err(SplitError::EmptyDataset { what: list.into() });
    }
    let mut seen = vec![false; n_frames];
    for (position, &index) in indices.iter().enumerate() {
        if index >= n_frames {
            return Err(SplitError::IndexOutOfRange {
                list: list.into(),
                position,
                index,
                n_frames,
            });
        }
        if std::mem::replace(&mut seen[index], true) {
            return Err(SplitError::DuplicateIndex {
                list: list.into(),
                index,
            });
        }
    }
    Ok(())
}
