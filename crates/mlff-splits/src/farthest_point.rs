//! Farthest-point sampling (FPS) in descriptor space.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::descriptor::{Descriptors, check_descriptors, fingerprint, squared_distance};
use crate::error::Result;
use crate::sampling::{draw, rng_for, stream};
use crate::size::{Size, check_count};
use crate::split::SplitIndices;
use crate::validation::{Validation, single_split};
use rand::Rng;

/// Which side of the split the farthest-point-sampled frames form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectedRole {
    /// FPS picks are the training side: maximal coverage of configuration space.
    Train,
    /// FPS picks are the test set: the most spread-out, least redundant configurations.
    Test,
}

/// Parameters of a farthest-point-sampling split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarthestPointParams {
    /// Frames in the dataset (rows of the descriptor matrix).
    pub n_frames: usize,
    /// Frames picked by FPS (the first one at random, from the seed).
    pub n_selected: usize,
    /// Whether the picks are the training side (validation included) or the test set.
    pub selected_role: SelectedRole,
    /// Size of the other side, drawn at random from the frames not picked; all when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<Size>,
    /// Fingerprint of the descriptors ([`crate::fingerprint`]).
    pub descriptor_fingerprint: String,
}

impl FarthestPointParams {
    /// Parameters for these descriptors (records their fingerprint).
    pub fn new(
        descriptors: &dyn Descriptors,
        n_selected: usize,
        selected_role: SelectedRole,
        other: Option<Size>,
    ) -> Self {
        Self {
            n_frames: descriptors.n_frames(),
            n_selected,
            selected_role,
            other,
            descriptor_fingerprint: fingerprint(descriptors),
        }
    }

    pub(crate) fn generate(
        &self,
        descriptors: &dyn Descriptors,
        validation: Option<&Validation>,
        seed: u64,
    ) -> Result<SplitIndices> {
        check_descriptors(descriptors, self.n_frames, &self.descriptor_fingerprint)?;
        check_count("farthest-point picks", self.n_selected, self.n_frames - 1)?;
        let picked = farthest_point_order(descriptors, self.n_selected, seed);
        let mut is_picked = vec![false; self.n_frames];
        picked.iter().for_each(|&f| is_picked[f] = true);
        let rest: Vec<usize> = (0..self.n_frames).filter(|&f| !is_picked[f]).collect();
        let what = "farthest-point split";
        match self.selected_role {
            SelectedRole::Train => {
                let test = match self.other {
                    Some(size) => {
                        let k = size.resolve("test set (frames not picked by FPS)", rest.len())?;
                        draw(rest, k, &mut rng_for(seed, stream::TEST))
                    }
                    None => rest,
                };
                single_split(picked, None, test, validation, seed, what)
            }
            SelectedRole::Test => single_split(rest, self.other, picked, validation, seed, what),
        }
    }
}

/// The first `k` frames of a farthest-point ordering: a seeded random start, then repeatedly
/// the frame whose nearest picked frame is farthest (ties to the lowest index).
///
/// Cost: `k · n_frames · dim` multiply-adds.
pub fn farthest_point_order(descriptors: &dyn Descriptors, k: usize, seed: u64) -> Vec<usize> {
    let n = descriptors.n_frames();
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let first = rng_for(seed, stream::TRAIN).random_range(0..n);
    let mut picked = Vec::with_capacity(k.min(n));
    // Squared distance to the nearest picked frame; −1 marks frames already picked.
    let mut nearest = vec![f64::INFINITY; n];
    let mut next = first;
    while picked.len() < k.min(n) {
        picked.push(next);
        nearest[next] = -1.0;
        let new_row = descriptors.row(next);
        nearest.par_iter_mut().enumerate().for_each(|(frame, d)| {
            if *d >= 0.0 {
                *d = d.min(squared_distance(new_row, descriptors.row(frame)));
            }
        });
        next = argmax_first(&nearest);
    }
    picked
}

/// Index of the largest value, the lowest index on ties.
fn argmax_first(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
