//! Gather and scatter-sum over edge lists, each the other's adjoint, and edge vectors.
//!
//! Scatter-sum is deterministic and parallel without atomics: a [`ScatterPlan`] groups edges
//! by target once (counting sort), then each target row is summed in edge order.

use rayon::prelude::*;

use crate::error::{E3Error, Result, check_len};
use crate::scalar::Scalar;

fn check_indices(what: &'static str, idx: &[usize], len: usize) -> Result<()> {
    match idx.iter().find(|&&i| i >= len) {
        Some(&index) => Err(E3Error::IndexOutOfRange { what, index, len }),
        None => Ok(()),
    }
}

/// `out[e, :] = x[idx[e], :]` (`x`: `n × width`, `out`: `idx.len() × width`).
pub fn gather<T: Scalar>(x: &[T], width: usize, idx: &[usize], out: &mut [T]) -> Result<()> {
    if width == 0 || !x.len().is_multiple_of(width) {
        return Err(E3Error::InvalidParameter {
            what: "gather width",
            reason: format!("{} values cannot be rows of width {width}", x.len()),
        });
    }
    check_indices("gather index", idx, x.len() / width)?;
    check_len("gather out", out.len(), idx.len() * width)?;
    out.par_chunks_mut(width)
        .zip(idx.par_iter())
        .for_each(|(o, &i)| o.copy_from_slice(&x[i * width..(i + 1) * width]));
    Ok(())
}

/// Edges grouped by their target row, for deterministic parallel scatter-sums.
#[derive(Clone, Debug)]
pub struct ScatterPlan {
    num_targets: usize,
    /// `edges[start[t]..start[t+1]]` are the edges into target `t`, in increasing order.
    start: Vec<usize>,
    edges: Vec<usize>,
}

impl ScatterPlan {
    /// Groups `targets[e]` (each `< num_targets`).
    pub fn new(targets: &[usize], num_targets: usize) -> Result<Self> {
        check_indices("scatter target", targets, num_targets)?;
        let mut start = vec![0usize; num_targets + 1];
        for &t in targets {
            start[t + 1] += 1;
        }
        for t in 0..num_targets {
            start[t + 1] += start[t];
        }
        let mut fill = start.clone();
        let mut edges = vec![0; targets.len()];
        for (e, &t) in targets.iter().enumerate() {
            edges[fill[t]] = e;
            fill[t] += 1;
        }
        Ok(Self {
            num_targets,
            start,
            edges,
        })
    }
    /// Number of target rows.
    pub fn num_targets(&self) -> usize {
        self.num_targets
    }
    /// Number of edges.
    pub fn num_edges(&self) -> usize {
        self.edges.len()
    }
    /// The edges into target `t`, in increasing order (empty beyond the last target).
    pub fn segment(&self, t: usize) -> &[usize] {
        &self.edges[self.segment_start(t)..self.segment_start(t + 1)]
    }
    /// Position in [`Self::order`] of target `t`'s first edge (the edge count beyond the end).
    pub fn segment_start(&self, t: usize) -> usize {
        self.start[t.min(self.num_targets)]
    }
    /// All edges, grouped by target (the concatenation of every segment).
    pub fn order(&self) -> &[usize] {
        &self.edges
    }
    /// `out[t, :] = Σ_{e: target(e) = t} src[e, :]` (`out` overwritten).
    pub fn scatter_sum<T: Scalar>(&self, src: &[T], width: usize, out: &mut [T]) -> Result<()> {
        check_len("scatter src", src.len(), self.edges.len() * width)?;
        check_len("scatter out", out.len(), self.num_targets * width)?;
        if width == 0 {
            return Ok(());
        }
        out.par_chunks_mut(width).enumerate().for_each(|(t, o)| {
            o.fill(T::zero());
            for &e in &self.edges[self.start[t]..self.start[t + 1]] {
                for (om, &s) in o.iter_mut().zip(&src[e * width..(e + 1) * width]) {
                    *om += s;
                }
            }
        });
        Ok(())
    }
}

/// `out[e] = pos[tip[e]] - pos[origin[e]]` for 3-D positions (NequIP: `pos[edge_index[1]] - pos[edge_index[0]]`).
pub fn edge_vectors<T: Scalar>(
    pos: &[T],
    origin: &[usize],
    tip: &[usize],
    out: &mut [T],
) -> Result<()> {
    check_len("edge tips", tip.len(), origin.len())?;
    if !pos.len().is_multiple_of(3) {
        return Err(E3Error::ShapeMismatch {
            what: "positions (n×3)",
            expected: pos.len() / 3 * 3,
            got: pos.len(),
        });
    }
    let n = pos.len() / 3;
    check_indices("edge origin", origin, n)?;
    check_indices("edge tip", tip, n)?;
    check_len("edge vectors out", out.len(), origin.len() * 3)?;
    out.par_chunks_mut(3)
        .zip(origin.par_iter().zip(tip.par_iter()))
        .for_each(|(o, (&a, &b))| {
            for k in 0..3 {
                o[k] = pos[3 * b + k] - pos[3 * a + k];
            }
        });
    Ok(())
}

/// VJP of [`edge_vectors`]: `grad_pos` (overwritten) from `grad_vectors`, using the plans
/// that group edges by tip and by origin.
pub fn edge_vectors_vjp<T: Scalar>(
    grad_vectors: &[T],
    by_tip: &ScatterPlan,
    by_origin: &ScatterPlan,
    grad_pos: &mut [T],
) -> Result<()> {
    by_tip.scatter_sum(grad_vectors, 3, grad_pos)?;
    let mut minus = vec![T::zero(); grad_pos.len()];
    by_origin.scatter_sum(grad_vectors, 3, &mut minus)?;
    grad_pos.iter_mut().zip(minus).for_each(|(g, m)| *g -= m);
    Ok(())
}
