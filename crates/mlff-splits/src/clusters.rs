//! Cluster holdout: k-means in descriptor space, whole clusters held out as the test set.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::descriptor::{Descriptors, check_descriptors, fingerprint, squared_distance};
use crate::error::{Result, SplitError};
use crate::sampling::{partial_shuffle, rng_for, stream};
use crate::size::{Size, check_count};
use crate::split::SplitIndices;
use crate::validation::{Validation, single_split};

fn default_max_iterations() -> usize {
    100
}

/// Parameters of a cluster-holdout split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterHoldoutParams {
    /// Frames in the dataset (rows of the descriptor matrix).
    pub n_frames: usize,
    /// Number of k-means clusters.
    pub n_clusters: usize,
    /// Number of (non-empty) clusters, chosen at random, whose frames form the test set.
    pub held_out_clusters: usize,
    /// Lloyd iterations at most (default 100; stops earlier once assignments settle).
    #[serde(default = "default_max_iterations")]
    pub max_iterations: usize,
    /// Training side size drawn from the remaining clusters; all their frames when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<Size>,
    /// Fingerprint of the descriptors ([`crate::fingerprint`]).
    pub descriptor_fingerprint: String,
}

impl ClusterHoldoutParams {
    /// Parameters for these descriptors (records their fingerprint).
    pub fn new(descriptors: &dyn Descriptors, n_clusters: usize, held_out_clusters: usize) -> Self {
        Self {
            n_frames: descriptors.n_frames(),
            n_clusters,
            held_out_clusters,
            max_iterations: default_max_iterations(),
            train: None,
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
        check_count("k-means clusters", self.n_clusters, self.n_frames)?;
        check_count("k-means iterations", self.max_iterations, usize::MAX)?;
        let assignment = kmeans(descriptors, self.n_clusters, self.max_iterations, seed);
        let mut non_empty: Vec<usize> = (0..self.n_clusters)
            .filter(|c| assignment.contains(c))
            .collect();
        if self.held_out_clusters == 0 || self.held_out_clusters >= non_empty.len() {
            return Err(SplitError::InvalidParameter {
                what: "held-out clusters".into(),
                reason: format!(
                    "{} requested, but between 1 and {} of the {} non-empty clusters can be held out",
                    self.held_out_clusters,
                    non_empty.len().saturating_sub(1),
                    non_empty.len()
                ),
            });
        }
        partial_shuffle(
            &mut non_empty,
            self.held_out_clusters,
            &mut rng_for(seed, stream::TEST),
        );
        let mut held = vec![false; self.n_clusters];
        non_empty[..self.held_out_clusters]
            .iter()
            .for_each(|&c| held[c] = true);
        let (test, rest): (Vec<usize>, Vec<usize>) =
            (0..self.n_frames).partition(|&f| held[assignment[f]]);
        single_split(rest, self.train, test, validation, seed, "cluster holdout")
    }
}

/// k-means (k-means++ seeding, then Lloyd iterations): the cluster of each frame.
///
/// Cost per iteration: `n_frames · k · dim` multiply-adds. Deterministic for a given seed
/// (parallel only over independent frames; centroid sums run in frame order).
pub fn kmeans(
    descriptors: &dyn Descriptors,
    k: usize,
    max_iterations: usize,
    seed: u64,
) -> Vec<usize> {
    let dim = descriptors.dim();
    let mut centroids = kmeans_plus_plus(descriptors, k, &mut rng_for(seed, stream::CLUSTERS));
    let mut assignment = assign(descriptors, &centroids, dim);
    for _ in 0..max_iterations {
        let mut sums = vec![0.0; k * dim];
        let mut counts = vec![0usize; k];
        for (frame, &c) in assignment.iter().enumerate() {
            counts[c] += 1;
            sums[c * dim..(c + 1) * dim]
                .iter_mut()
                .zip(descriptors.row(frame))
                .for_each(|(s, v)| *s += v);
        }
        for c in (0..k).filter(|&c| counts[c] > 0) {
            let inverse = 1.0 / counts[c] as f64;
            centroids[c * dim..(c + 1) * dim]
                .iter_mut()
                .zip(&sums[c * dim..(c + 1) * dim])
                .for_each(|(m, s)| *m = s * inverse);
        }
        let next = assign(descriptors, &centroids, dim);
        if next == assignment {
            break;
        }
        assignment = next;
    }
    assignment
}

/// Nearest centroid of every frame (lowest cluster index on ties).
fn assign(descriptors: &dyn Descriptors, centroids: &[f64], dim: usize) -> Vec<usize> {
    (0..descriptors.n_frames())
        .into_par_iter()
        .map(|frame| {
            let row = descriptors.row(frame);
            let mut best = (0, f64::INFINITY);
            for (c, centroid) in centroids.chunks_exact(dim).enumerate() {
                let d = squared_distance(row, centroid);
                if d < best.1 {
                    best = (c, d);
                }
            }
            best.0
        })
        .collect()
}

/// k-means++ seeding: each new centroid is a frame drawn with probability ∝ squared distance to
/// the nearest centroid so far. Returns `k · dim` centroid coordinates.
fn kmeans_plus_plus(descriptors: &dyn Descriptors, k: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let n = descriptors.n_frames();
    let mut centroids = Vec::with_capacity(k * descriptors.dim());
    let mut nearest = vec![f64::INFINITY; n];
    let mut next = rng.random_range(0..n);
    for _ in 0..k {
        let row = descriptors.row(next);
        centroids.extend_from_slice(row);
        nearest.par_iter_mut().enumerate().for_each(|(frame, d)| {
            *d = d.min(squared_distance(row, descriptors.row(frame)));
        });
        let total: f64 = nearest.iter().sum();
        next = if total > 0.0 {
            let mut target = rng.random::<f64>() * total;
            // Falls back to the last frame with positive weight if rounding exhausts the scan.
            let mut chosen = nearest.iter().rposition(|&d| d > 0.0).unwrap_or(0);
            for (frame, &d) in nearest.iter().enumerate() {
                if d > 0.0 && target < d {
                    chosen = frame;
                    break;
                }
                target -= d;
            }
            chosen
        } else {
            rng.random_range(0..n)
        };
    }
    centroids
}
