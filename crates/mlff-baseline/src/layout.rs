//! Which weight belongs to which element pair and basis function.
//!
//! Columns of the linear model: `n_pairs · n_basis` pair weights (pair `(a, b)`, `a ≤ b` in
//! element-index order, basis function `k` at `pair · n_basis + k`), then one energy shift per
//! element.

use serde::{Deserialize, Serialize};

use crate::error::{BaselineError, Result};

/// The elements a model knows and the column layout derived from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnLayout {
    elements: Vec<u8>,
    n_basis: usize,
}

impl ColumnLayout {
    /// Layout for the sorted, distinct `elements` and `n_basis` functions per pair.
    pub fn new(mut elements: Vec<u8>, n_basis: usize) -> Self {
        elements.sort_unstable();
        elements.dedup();
        Self { elements, n_basis }
    }

    /// The elements (sorted atomic numbers).
    pub fn elements(&self) -> &[u8] {
        &self.elements
    }

    /// Number of unordered element pairs.
    pub fn n_pairs(&self) -> usize {
        let s = self.elements.len();
        s * (s + 1) / 2
    }

    /// Number of pair-weight columns.
    pub fn n_pair_columns(&self) -> usize {
        self.n_pairs() * self.n_basis
    }

    /// Total number of columns (pair weights and energy shifts).
    pub fn n_columns(&self) -> usize {
        self.n_pair_columns() + self.elements.len()
    }

    /// Index of the unordered pair of element indices `a`, `b`.
    #[inline]
    pub fn pair(&self, a: usize, b: usize) -> usize {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        // Row-major upper triangle: rows 0..a hold s + (s-1) + … + (s-a+1) pairs.
        a * (2 * self.elements.len() + 1 - a) / 2 + (b - a)
    }

    /// The atomic numbers of pair `p`.
    pub fn pair_elements(&self, p: usize) -> (u8, u8) {
        let s = self.elements.len();
        for a in 0..s {
            for b in a..s {
                if self.pair(a, b) == p {
                    return (self.elements[a], self.elements[b]);
                }
            }
        }
        (0, 0)
    }

    /// Column of element `e`'s energy shift.
    pub fn shift_column(&self, e: usize) -> usize {
        self.n_pair_columns() + e
    }

    /// Element indices of `atomic_numbers`, or an error naming the first unknown element.
    pub fn element_indices(&self, atomic_numbers: &[u8]) -> Result<Vec<usize>> {
        atomic_numbers
            .iter()
            .enumerate()
            .map(|(atom, &z)| {
                self.elements
                    .binary_search(&z)
                    .map_err(|_| BaselineError::UnknownElement {
                        atomic_number: z,
                        atom,
                        trained: self.elements.clone(),
                    })
            })
            .collect()
    }
}
