//! Structural similarity kernels on SOAP vectors.
//!
//! * [`cosine_kernel`]: normalised dot products of averaged SOAP vectors (one row per frame).
//! * [`AverageKernel`] and [`RematchKernel`]: DScribe's global kernels built from the local
//!   (per-atom) similarity matrix `C_ij = x_i · y_j`, normalised as
//!   `K(A,B) / √(K(A,A) K(B,B))`. With `normalize_environments` each atomic vector is first
//!   scaled to unit length (DScribe's documented usage, `sklearn.preprocessing.normalize`),
//!   which keeps `exp(-(1 - C)/α)` of REMatch in range.

use crate::error::SoapError;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

/// Rows scaled to unit Euclidean norm; errors on a zero or non-finite row.
pub fn normalize_rows(
    x: ArrayView2<'_, f64>,
    what: &'static str,
) -> Result<Array2<f64>, SoapError> {
    let mut out = x.to_owned();
    for (index, mut row) in out.outer_iter_mut().enumerate() {
        if let Some(k) = row.iter().position(|v| !v.is_finite()) {
            return Err(SoapError::NonFinite {
                what,
                index: index * row.len() + k,
            });
        }
        let norm = row.dot(&row).sqrt();
        if norm == 0.0 {
            return Err(SoapError::ZeroNorm { what, index });
        }
        row /= norm;
    }
    Ok(out)
}

fn check_same_width(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Result<(), SoapError> {
    if a.nrows() == 0 || b.nrows() == 0 {
        return Err(SoapError::EmptyInput("a kernel argument has no rows"));
    }
    if a.ncols() != b.ncols() {
        return Err(SoapError::ShapeMismatch {
            what: "kernel arguments",
            expected: format!("{} features", a.ncols()),
            got: format!("{} features", b.ncols()),
        });
    }
    Ok(())
}

/// Cosine similarity matrix `(a rows, b rows)` between SOAP vectors (e.g. averaged, one per
/// frame). Symmetric and positive semi-definite when `a = b`, with ones on the diagonal.
pub fn cosine_kernel(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
) -> Result<Array2<f64>, SoapError> {
    check_same_width(a, b)?;
    let a = normalize_rows(a, "row of the first set")?;
    let b = normalize_rows(b, "row of the second set")?;
    Ok(a.dot(&b.t()))
}

/// A global similarity between two structures given their per-atom SOAP matrices.
pub trait StructureKernel: Sync {
    /// Whether atomic vectors are scaled to unit length before the local kernel.
    fn normalize_environments(&self) -> bool;

    /// Global similarity from the local similarity matrix `C (atoms of A, atoms of B)`.
    fn global_similarity(&self, local: ArrayView2<'_, f64>) -> Result<f64, SoapError>;

    /// Unnormalised kernel value `K(A, B)`.
    fn unnormalized(
        &self,
        a: ArrayView2<'_, f64>,
        b: ArrayView2<'_, f64>,
    ) -> Result<f64, SoapError> {
        check_same_width(a, b)?;
        let local = if self.normalize_environments() {
            normalize_rows(a, "atom of A")?.dot(&normalize_rows(b, "atom of B")?.t())
        } else {
            a.dot(&b.t())
        };
        self.global_similarity(local.view())
    }

    /// Normalised kernel `K(A,B) / √(K(A,A) K(B,B))`; 1 for identical structures.
    fn similarity(&self, a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Result<f64, SoapError> {
        let kab = self.unnormalized(a, b)?;
        let kaa = self.unnormalized(a, a)?;
        let kbb = self.unnormalized(b, b)?;
        Ok(kab / (kaa * kbb).sqrt())
    }
}

/// DScribe's `AverageKernel` with the linear local metric: mean of all local similarities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AverageKernel {
    /// Scale every atomic vector to unit length first.
    pub normalize_environments: bool,
}

impl StructureKernel for AverageKernel {
    fn normalize_environments(&self) -> bool {
        self.normalize_environments
    }

    fn global_similarity(&self, local: ArrayView2<'_, f64>) -> Result<f64, SoapError> {
        Ok(local.mean().unwrap_or(0.0))
    }
}

/// DScribe's `REMatchKernel` (regularised-entropy match, De et al. 2016) with the linear
/// local metric, solved by Sinkhorn iterations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RematchKernel {
    /// Entropic regularisation: → 0 gives the best match, → ∞ the average kernel.
    pub alpha: f64,
    /// Sinkhorn convergence threshold on the relative change of the scaling vectors.
    pub threshold: f64,
    /// Iteration limit (an error is returned beyond it).
    pub max_iterations: usize,
    /// Scale every atomic vector to unit length first.
    pub normalize_environments: bool,
}

impl Default for RematchKernel {
    /// DScribe's defaults (alpha 0.1, threshold 10⁻⁶) on normalised environments.
    fn default() -> Self {
        Self {
            alpha: 0.1,
            threshold: 1e-6,
            max_iterations: 100_000,
            normalize_environments: true,
        }
    }
}

impl RematchKernel {
    fn validate(&self) -> Result<(), SoapError> {
        let bad = |name, value, reason| {
            Err(SoapError::InvalidKernelParameter {
                name,
                value,
                reason,
            })
        };
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad("alpha", self.alpha, "must be finite and > 0");
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return bad("threshold", self.threshold, "must be finite and > 0");
        }
        Ok(())
    }
}

impl StructureKernel for RematchKernel {
    fn normalize_environments(&self) -> bool {
        self.normalize_environments
    }

    /// Sinkhorn scaling of `K = exp(-(1 - C)/α)` to uniform marginals, then `Σ P ∘ C`
    /// (the same iteration and stopping rule as DScribe).
    fn global_similarity(&self, local: ArrayView2<'_, f64>) -> Result<f64, SoapError> {
        self.validate()?;
        let (n, m) = local.dim();
        let k = local.mapv(|c| (-(1.0 - c) / self.alpha).exp());
        if let Some(index) = k.iter().position(|v| !v.is_finite() || *v == 0.0) {
            return Err(SoapError::NonFinite {
                what: "REMatch exp(-(1 - C)/alpha) (under- or overflow; normalise environments or raise alpha)",
                index,
            });
        }
        let en = 1.0 / n as f64;
        let em = 1.0 / m as f64;
        let mut u = Array1::from_elem(n, en);
        let mut v = Array1::from_elem(m, em);
        let mut error = 1.0;
        let mut iteration = 0;
        while error > self.threshold {
            if iteration >= self.max_iterations {
                return Err(SoapError::SinkhornNotConverged {
                    iterations: iteration,
                    error,
                });
            }
            let u_prev = u.clone();
            let v_prev = v.clone();
            v = k.t().dot(&u).mapv(|x| em / x);
            u = k.dot(&v).mapv(|x| en / x);
            if iteration % 5 != 0 {
                error = relative_change(u.view(), u_prev.view())
                    + relative_change(v.view(), v_prev.view());
            }
            iteration += 1;
        }
        let mut total = 0.0;
        for ((i, j), &kij) in k.indexed_iter() {
            total += kij * u[i] * v[j] * local[[i, j]];
        }
        Ok(total)
    }
}

fn relative_change(new: ArrayView1<'_, f64>, old: ArrayView1<'_, f64>) -> f64 {
    let diff: f64 = new.iter().zip(old).map(|(a, b)| (a - b) * (a - b)).sum();
    diff / new.dot(&new)
}

/// Normalised kernel matrix between two sets of structures (per-atom SOAP matrices), in
/// parallel over pairs. Self-similarities are computed once per structure.
pub fn kernel_matrix<K: StructureKernel>(
    kernel: &K,
    a: &[ArrayView2<'_, f64>],
    b: &[ArrayView2<'_, f64>],
) -> Result<Array2<f64>, SoapError> {
    if a.is_empty() || b.is_empty() {
        return Err(SoapError::EmptyInput("a kernel set has no structures"));
    }
    let self_a: Vec<f64> = a
        .par_iter()
        .map(|x| kernel.unnormalized(*x, *x))
        .collect::<Result<_, _>>()?;
    let self_b: Vec<f64> = b
        .par_iter()
        .map(|y| kernel.unnormalized(*y, *y))
        .collect::<Result<_, _>>()?;
    let values: Vec<f64> = (0..a.len() * b.len())
        .into_par_iter()
        .map(|ij| {
            let (i, j) = (ij / b.len(), ij % b.len());
            Ok(kernel.unnormalized(a[i], b[j])? / (self_a[i] * self_b[j]).sqrt())
        })
        .collect::<Result<_, SoapError>>()?;
    Ok(Array2::from_shape_vec((a.len(), b.len()), values).expect("a.len() * b.len() values"))
}

/// Normalised kernel matrix of one set with itself: the upper triangle is computed (in
/// parallel) and mirrored, as DScribe does, so the result is exactly symmetric even for
/// REMatch, whose Sinkhorn solution is only converged to `threshold`; the diagonal is 1.
pub fn kernel_matrix_symmetric<K: StructureKernel>(
    kernel: &K,
    set: &[ArrayView2<'_, f64>],
) -> Result<Array2<f64>, SoapError> {
    if set.is_empty() {
        return Err(SoapError::EmptyInput("a kernel set has no structures"));
    }
    let n = set.len();
    let diag: Vec<f64> = set
        .par_iter()
        .map(|x| kernel.unnormalized(*x, *x))
        .collect::<Result<_, _>>()?;
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| ((i + 1)..n).map(move |j| (i, j)))
        .collect();
    let values: Vec<f64> = pairs
        .par_iter()
        .map(|&(i, j)| Ok(kernel.unnormalized(set[i], set[j])? / (diag[i] * diag[j]).sqrt()))
        .collect::<Result<_, SoapError>>()?;
    let mut out = Array2::from_diag_elem(n, 1.0);
    for (&(i, j), &v) in pairs.iter().zip(&values) {
        out[[i, j]] = v;
        out[[j, i]] = v;
    }
    Ok(out)
}

/// How similar one test frame is to a training set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainingSimilarity {
    /// Largest cosine similarity to any training frame.
    pub max: f64,
    /// Mean cosine similarity over the training frames.
    pub mean: f64,
    /// Index of the most similar training frame.
    pub nearest: usize,
}

/// Cosine similarity of every test vector to a training set (rows are averaged SOAP vectors):
/// max, mean and arg-max over the training rows; parallel over test rows. Works chunk by
/// chunk for streamed test sets (the training set stays in memory, normalised once).
pub fn similarity_to_training(
    test: ArrayView2<'_, f64>,
    train: ArrayView2<'_, f64>,
) -> Result<Vec<TrainingSimilarity>, SoapError> {
    check_same_width(test, train)?;
    let train = normalize_rows(train, "training row")?;
    let test = normalize_rows(test, "test row")?;
    Ok((0..test.nrows())
        .into_par_iter()
        .map(|i| {
            let sims = train.dot(&test.row(i));
            let (nearest, max) =
                sims.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (i, &s)| {
                        if s > best.1 { (i, s) } else { best }
                    });
            TrainingSimilarity {
                max,
                mean: sims.mean().unwrap_or(f64::NAN),
                nearest,
            }
        })
        .collect())
}

/// Summary statistics of a list of similarity values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilaritySummary {
    /// Number of values.
    pub count: usize,
    /// Mean.
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// 5th percentile (linear interpolation, as numpy's default).
    pub p05: f64,
    /// Median.
    pub median: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl SimilaritySummary {
    /// Summary of `values`; errors when empty or non-finite.
    pub fn from_values(values: &[f64]) -> Result<Self, SoapError> {
        if values.is_empty() {
            return Err(SoapError::EmptyInput("no similarity values to summarise"));
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(SoapError::NonFinite {
                what: "similarity values",
                index,
            });
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let var = sorted.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
        let quantile = |q: f64| {
            let pos = q * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
        };
        Ok(Self {
            count: n,
            mean,
            std: var.sqrt(),
            min: sorted[0],
            p05: quantile(0.05),
            median: quantile(0.5),
            p95: quantile(0.95),
            max: sorted[n - 1],
        })
    }
}

/// Set-to-set similarity summary of two sets of averaged SOAP vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SetSimilarity {
    /// Distribution over the rows of A of their maximum cosine similarity to B
    /// ("how well B covers A").
    pub max_to_other: SimilaritySummary,
    /// Mean cosine similarity over all (A, B) pairs.
    pub mean_cross: f64,
    /// Mean cosine similarity over all (A, A) pairs, diagonal included.
    pub mean_within_a: f64,
    /// Mean cosine similarity over all (B, B) pairs, diagonal included.
    pub mean_within_b: f64,
    /// `mean_within_a + mean_within_b - 2 mean_cross`: the squared maximum mean discrepancy
    /// of the two sets under the cosine kernel (0 for identically distributed sets).
    pub mmd2: f64,
}

/// Compares set A (e.g. test frames) with set B (e.g. training frames).
pub fn set_similarity(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
) -> Result<SetSimilarity, SoapError> {
    check_same_width(a, b)?;
    let an = normalize_rows(a, "row of A")?;
    let bn = normalize_rows(b, "row of B")?;
    let max_values: Vec<f64> = similarity_to_training(an.view(), bn.view())?
        .iter()
        .map(|s| s.max)
        .collect();
    // Mean of all pairwise dot products = |mean vector|², computed without the full matrix.
    let mean_a = an.mean_axis(Axis(0)).expect("non-empty");
    let mean_b = bn.mean_axis(Axis(0)).expect("non-empty");
    let mean_cross = mean_a.dot(&mean_b);
    let mean_within_a = mean_a.dot(&mean_a);
    let mean_within_b = mean_b.dot(&mean_b);
    Ok(SetSimilarity {
        max_to_other: SimilaritySummary::from_values(&max_values)?,
        mean_cross,
        mean_within_a,
        mean_within_b,
        mmd2: mean_within_a + mean_within_b - 2.0 * mean_cross,
    })
}
