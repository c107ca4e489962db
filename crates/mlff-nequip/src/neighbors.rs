//! Neighbour lists of finite (non-periodic) systems within a cutoff, by a cell list.
//!
//! Atoms are binned into cubes of side `r_max`, so each atom only looks at the 27 cubes
//! around its own: O(N) for a dense system of N atoms instead of O(N²). Within each centre
//! the neighbours are sorted by index, so the edge order — and with it every floating-point
//! sum over edges — does not depend on how atoms fall into cells.

use std::collections::HashMap;

/// Directed edges `(centre, neighbour)` of one frame: every ordered pair closer than `r_max`,
/// grouped by centre in ascending order, neighbours ascending within a centre.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NeighborList {
    /// Centre atom of each edge (nequip's `edge_index[0]`).
    pub centers: Vec<usize>,
    /// Neighbour atom of each edge (nequip's `edge_index[1]`).
    pub neighbors: Vec<usize>,
}

impl NeighborList {
    /// Number of directed edges.
    pub fn len(&self) -> usize {
        self.centers.len()
    }
    /// Whether there are no edges.
    pub fn is_empty(&self) -> bool {
        self.centers.is_empty()
    }
}

/// Below this many atoms the all-pairs loop beats building cells.
const CELL_LIST_MIN_ATOMS: usize = 64;

/// Neighbours within `r_max` of `positions` (`n × 3`, finite), choosing the cell list or the
/// all-pairs loop by size; both give identical lists.
pub fn neighbor_list(positions: &[[f64; 3]], r_max: f64) -> NeighborList {
    if positions.len() < CELL_LIST_MIN_ATOMS {
        all_pairs(positions, r_max)
    } else {
        cell_list(positions, r_max)
    }
}

fn distance2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum()
}

/// O(N²) reference.
pub fn all_pairs(positions: &[[f64; 3]], r_max: f64) -> NeighborList {
    let r2 = r_max * r_max;
    let mut list = NeighborList::default();
    for (i, a) in positions.iter().enumerate() {
        for (j, b) in positions.iter().enumerate() {
            if i != j && distance2(a, b) < r2 {
                list.centers.push(i);
                list.neighbors.push(j);
            }
        }
    }
    list
}

/// O(N) cell-list search.
pub fn cell_list(positions: &[[f64; 3]], r_max: f64) -> NeighborList {
    let r2 = r_max * r_max;
    let cell_of = |p: &[f64; 3]| -> [i64; 3] { p.map(|x| (x / r_max).floor() as i64) };
    let mut cells: HashMap<[i64; 3], Vec<usize>> = HashMap::new();
    for (i, p) in positions.iter().enumerate() {
        cells.entry(cell_of(p)).or_default().push(i);
    }
    let mut list = NeighborList::default();
    let mut found = Vec::new();
    for (i, a) in positions.iter().enumerate() {
        let c = cell_of(a);
        found.clear();
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(members) = cells.get(&[c[0] + dx, c[1] + dy, c[2] + dz]) {
                        found.extend(
                            members
                                .iter()
                                .copied()
                                .filter(|&j| j != i && distance2(a, &positions[j]) < r2),
                        );
                    }
                }
            }
        }
        found.sort_unstable();
        list.centers.extend(std::iter::repeat_n(i, found.len()));
        list.neighbors.extend_from_slice(&found);
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn cell_list_equals_all_pairs() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for n in [0, 1, 2, 70, 300] {
            let pos: Vec<[f64; 3]> = (0..n)
                .map(|_| [0; 3].map(|_| rng.random_range(-9.0..9.0)))
                .collect();
            let a = all_pairs(&pos, 3.0);
            assert_eq!(a, cell_list(&pos, 3.0), "n = {n}");
            assert_eq!(a, neighbor_list(&pos, 3.0));
            if n == 300 {
                assert!(a.len() > 300, "test should exercise many edges");
            }
        }
    }
}
