//! The edge list of a graph for the edge-vector kernels.

use crate::error::{Result, check_len, to_i32};
use crate::plan::SortedScatter;

/// Directed edges `origin[e] → tip[e]` over `num_atoms` atoms, with the groupings by tip and by
/// origin the VJP needs.
#[derive(Clone, Debug)]
pub struct EdgeGraph {
    num_atoms: usize,
    origin: Vec<i32>,
    tip: Vec<i32>,
    by_tip: SortedScatter,
    by_origin: SortedScatter,
}

impl EdgeGraph {
    /// Checks `origin[e], tip[e] < num_atoms` (equal lengths) and groups the edges.
    pub fn new(origin: &[usize], tip: &[usize], num_atoms: usize) -> Result<Self> {
        check_len("edge tips", tip.len(), origin.len())?;
        let by_origin = SortedScatter::new(origin, num_atoms)?;
        let by_tip = SortedScatter::new(tip, num_atoms)?;
        // SortedScatter checked the indices and that every count fits an i32.
        let ints = |v: &[usize]| v.iter().map(|&i| i as i32).collect();
        Ok(Self {
            num_atoms,
            origin: ints(origin),
            tip: ints(tip),
            by_tip,
            by_origin,
        })
    }
    /// Number of atoms.
    pub fn num_atoms(&self) -> usize {
        self.num_atoms
    }
    /// Number of edges.
    pub fn num_edges(&self) -> usize {
        self.origin.len()
    }
    /// Origin atom of every edge.
    pub fn origin(&self) -> &[i32] {
        &self.origin
    }
    /// Tip atom of every edge.
    pub fn tip(&self) -> &[i32] {
        &self.tip
    }
    /// Edges grouped by tip.
    pub fn by_tip(&self) -> &SortedScatter {
        &self.by_tip
    }
    /// Edges grouped by origin.
    pub fn by_origin(&self) -> &SortedScatter {
        &self.by_origin
    }
    /// `(num_edges, num_atoms)` after checking positions-shaped (`atoms × 3`) and
    /// vectors-shaped (`edges × 3`) buffers.
    pub(crate) fn args(
        &self,
        per_atom: &[(&'static str, usize)],
        per_edge: &[(&'static str, usize)],
    ) -> Result<[i32; 2]> {
        for &(what, len) in per_atom {
            check_len(what, len, 3 * self.num_atoms)?;
        }
        for &(what, len) in per_edge {
            check_len(what, len, 3 * self.num_edges())?;
        }
        Ok([
            to_i32("number of edges", self.num_edges())?,
            to_i32("number of atoms", self.num_atoms)?,
        ])
    }
}
