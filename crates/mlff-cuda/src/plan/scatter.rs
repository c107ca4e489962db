//! Edges grouped by target for the segmented scatter-sum kernel.

use crate::error::{CudaError, Result, check_len, to_i32};

/// CSR grouping of edges by target row: `edges[start[t]..start[t+1]]` enter target `t`, in
/// increasing edge order (so sums run in the same order as `mlff_e3::ScatterPlan`'s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortedScatter {
    num_targets: usize,
    start: Vec<i32>,
    edges: Vec<i32>,
}

impl SortedScatter {
    /// Groups `targets[e]` (each `< num_targets`).
    pub fn new(targets: &[usize], num_targets: usize) -> Result<Self> {
        if let Some(&index) = targets.iter().find(|&&t| t >= num_targets) {
            return Err(mlff_e3::E3Error::IndexOutOfRange {
                what: "scatter target",
                index,
                len: num_targets,
            }
            .into());
        }
        to_i32("number of edges", targets.len())?;
        to_i32("number of targets", num_targets)?;
        let mut order: Vec<usize> = (0..targets.len()).collect();
        order.sort_by_key(|&e| targets[e]); // stable: edges stay in increasing order per target
        let mut start = vec![0i32; num_targets + 1];
        for &t in targets {
            start[t + 1] += 1;
        }
        for t in 0..num_targets {
            start[t + 1] += start[t];
        }
        Ok(Self {
            num_targets,
            start,
            edges: order.into_iter().map(|e| e as i32).collect(),
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
    /// Segment starts (`num_targets + 1`).
    pub fn start(&self) -> &[i32] {
        &self.start
    }
    /// Edge ids sorted by target.
    pub fn edges(&self) -> &[i32] {
        &self.edges
    }
    /// `(num_targets, width)` after checking `src` (`edges × width`) and `out` (`targets × width`).
    pub(crate) fn args(&self, width: usize, src: usize, out: usize) -> Result<[i32; 2]> {
        check_len("scatter src", src, self.num_edges() * width)?;
        check_len("scatter out", out, self.num_targets * width)?;
        Ok([
            to_i32("number of targets", self.num_targets)?,
            to_i32("scatter width", width)?,
        ])
    }
}

/// Validated row indices of a gather `out[e, :] = x[idx[e], :]` from `num_rows` rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatherIndex {
    num_rows: usize,
    idx: Vec<i32>,
}

impl GatherIndex {
    /// Checks `idx[e] < num_rows` and converts the indices to the kernel's `int`.
    pub fn new(idx: &[usize], num_rows: usize) -> Result<Self> {
        if let Some(&index) = idx.iter().find(|&&i| i >= num_rows) {
            return Err(mlff_e3::E3Error::IndexOutOfRange {
                what: "gather index",
                index,
                len: num_rows,
            }
            .into());
        }
        to_i32("number of source rows", num_rows)?;
        to_i32("number of gathered rows", idx.len())?;
        Ok(Self {
            num_rows,
            idx: idx.iter().map(|&i| i as i32).collect(),
        })
    }
    /// The indices.
    pub fn indices(&self) -> &[i32] {
        &self.idx
    }
    /// Number of rows the indices point into.
    pub fn num_rows(&self) -> usize {
        self.num_rows
    }
    /// `(num_out, width)` after checking `x` (`num_rows × width`) and `out` (`idx × width`).
    pub(crate) fn args(&self, width: usize, x: usize, out: usize) -> Result<[i32; 2]> {
        if width == 0 {
            return Err(CudaError::Unsupported("gather of rows of width 0".into()));
        }
        check_len("gather x (rows × width)", x, self.num_rows * width)?;
        check_len("gather out", out, self.idx.len() * width)?;
        Ok([self.idx.len() as i32, to_i32("gather width", width)?])
    }
}
