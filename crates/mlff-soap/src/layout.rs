//! DScribe's column layout of the SOAP power spectrum.
//!
//! Blocks follow the unique species pairs `(Z1, Z2)` with `Z1 ≤ Z2` in ascending order
//! (`(1,1), (1,6), (1,8), (6,6), …`). Inside a block the order is `l` (outer), then `n1`, then
//! `n2` (inner); a same-species block keeps only `n1 ≤ n2`, a cross-species block keeps all
//! `n_max²` radial pairs.

use std::ops::Range;

/// One species-pair block of columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeciesPairBlock {
    /// Smaller atomic number of the pair.
    pub z1: u32,
    /// Larger atomic number of the pair (equal to `z1` for a same-species block).
    pub z2: u32,
    /// Index of `z1` in the sorted species list.
    pub(crate) s1: usize,
    /// Index of `z2` in the sorted species list.
    pub(crate) s2: usize,
    /// First column of the block.
    pub start: usize,
    /// One past the last column.
    pub end: usize,
}

/// Column layout for given species, `n_max` and `l_max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureLayout {
    species: Vec<u32>,
    n_max: usize,
    l_max: usize,
    blocks: Vec<SpeciesPairBlock>,
}

impl FeatureLayout {
    /// Layout for the (sorted, unique) species list.
    pub(crate) fn new(species: &[u32], n_max: usize, l_max: usize) -> Self {
        let mut blocks = Vec::new();
        let mut start = 0;
        for s1 in 0..species.len() {
            for s2 in s1..species.len() {
                let per_l = if s1 == s2 {
                    n_max * (n_max + 1) / 2
                } else {
                    n_max * n_max
                };
                let end = start + per_l * (l_max + 1);
                blocks.push(SpeciesPairBlock {
                    z1: species[s1],
                    z2: species[s2],
                    s1,
                    s2,
                    start,
                    end,
                });
                start = end;
            }
        }
        Self {
            species: species.to_vec(),
            n_max,
            l_max,
            blocks,
        }
    }

    /// Total number of columns.
    pub fn n_features(&self) -> usize {
        self.blocks.last().map_or(0, |b| b.end)
    }

    /// All species-pair blocks in column order.
    pub fn blocks(&self) -> &[SpeciesPairBlock] {
        &self.blocks
    }

    /// Column range of a species pair (either order), like DScribe's `get_location`.
    pub fn location(&self, z_a: u32, z_b: u32) -> Option<Range<usize>> {
        let (z1, z2) = if z_a <= z_b { (z_a, z_b) } else { (z_b, z_a) };
        self.blocks
            .iter()
            .find(|b| b.z1 == z1 && b.z2 == z2)
            .map(|b| b.start..b.end)
    }

    /// Column of the term `(Z_a, n_a; Z_b, n_b; l)`; `None` if out of range. For a same-species
    /// pair the two radial indices may be given in either order.
    pub fn column(&self, z_a: u32, n_a: usize, z_b: u32, n_b: usize, l: usize) -> Option<usize> {
        if n_a >= self.n_max || n_b >= self.n_max || l > self.l_max {
            return None;
        }
        let ((z1, n1), (z2, n2)) = if z_a <= z_b {
            ((z_a, n_a), (z_b, n_b))
        } else {
            ((z_b, n_b), (z_a, n_a))
        };
        let range = self.location(z1, z2)?;
        let n = self.n_max;
        let offset = if z1 == z2 {
            let (lo, hi) = (n1.min(n2), n1.max(n2));
            let per_l = n * (n + 1) / 2;
            l * per_l + lo * n - lo * (lo + 1) / 2 + hi
        } else {
            l * n * n + n1 * n + n2
        };
        Some(range.start + offset)
    }

    /// The sorted species list.
    pub fn species(&self) -> &[u32] {
        &self.species
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethanol_blocks_match_dscribe_sizes() {
        let layout = FeatureLayout::new(&[1, 6, 8], 8, 6);
        assert_eq!(layout.n_features(), 2100);
        assert_eq!(layout.location(6, 1), Some(252..700));
        assert_eq!(layout.location(8, 8), Some(1848..2100));
        assert_eq!(layout.column(1, 0, 1, 0, 0), Some(0));
        assert_eq!(layout.column(1, 7, 1, 7, 0), Some(35));
        assert_eq!(layout.column(1, 0, 1, 0, 1), Some(36));
        assert_eq!(layout.column(6, 0, 1, 1, 0), Some(252 + 8));
        assert_eq!(layout.column(8, 7, 8, 7, 6), Some(2099));
        assert_eq!(layout.location(1, 7), None);
    }
}
