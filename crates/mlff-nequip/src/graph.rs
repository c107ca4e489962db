//! A batch of frames as one graph: atoms of all frames, their types and the edges within r_max.

use crate::error::{NequipError, Result};
use crate::neighbors::neighbor_list;
use crate::types::TypeMap;
use mlff_e3::ScatterPlan;

/// Atoms closer than this (Å) are rejected: no molecular configuration has them, and the
/// model's edge features are singular at zero distance.
pub const MIN_DISTANCE: f64 = 0.1;

/// Frames batched into one disconnected graph (nequip's batch), edges built within `r_max`.
#[derive(Clone, Debug)]
pub struct AtomicGraph {
    positions: Vec<f64>,
    types: Vec<usize>,
    frame_of_atom: Vec<usize>,
    frame_offsets: Vec<usize>,
    centers: Vec<usize>,
    neighbors: Vec<usize>,
    by_center: ScatterPlan,
    by_neighbor: ScatterPlan,
}

impl AtomicGraph {
    /// Builds the graph of `frames` (each: atomic numbers, positions `N × 3` in Å).
    pub fn new<'a>(
        frames: impl IntoIterator<Item = (&'a [u8], &'a [[f64; 3]])>,
        types: &TypeMap,
        r_max: f64,
    ) -> Result<Self> {
        let mut positions = Vec::new();
        let (mut atom_types, mut frame_of_atom) = (Vec::new(), Vec::new());
        let (mut centers, mut neighbors) = (Vec::new(), Vec::new());
        let mut frame_offsets = vec![0];
        for (f, (numbers, pos)) in frames.into_iter().enumerate() {
            if numbers.len() != pos.len() {
                return Err(NequipError::Shape {
                    what: format!("frame {f}: positions vs atomic numbers"),
                    expected: numbers.len(),
                    got: pos.len(),
                });
            }
            let offset = *frame_offsets.last().expect("starts with 0");
            for (a, (&z, p)) in numbers.iter().zip(pos).enumerate() {
                let t = types
                    .type_of(z)
                    .ok_or_else(|| NequipError::UnknownElement {
                        frame: f,
                        atom: a,
                        z,
                        types: types.describe(),
                    })?;
                if !p.iter().all(|v| v.is_finite()) {
                    return Err(NequipError::NonFinitePosition { frame: f, atom: a });
                }
                atom_types.push(t);
                frame_of_atom.push(f);
                positions.extend_from_slice(p);
            }
            let list = neighbor_list(pos, r_max);
            for (&i, &j) in list.centers.iter().zip(&list.neighbors) {
                let d = (0..3).map(|k| (pos[i][k] - pos[j][k]).powi(2)).sum::<f64>();
                if d < MIN_DISTANCE * MIN_DISTANCE {
                    return Err(NequipError::AtomsTooClose {
                        frame: f,
                        i,
                        j,
                        distance: d.sqrt(),
                        min: MIN_DISTANCE,
                    });
                }
            }
            centers.extend(list.centers.iter().map(|i| i + offset));
            neighbors.extend(list.neighbors.iter().map(|j| j + offset));
            frame_offsets.push(offset + numbers.len());
        }
        Self::from_parts(
            positions,
            atom_types,
            frame_of_atom,
            frame_offsets,
            centers,
            neighbors,
        )
    }

    /// A graph with explicit edges (e.g. nequip's own `edge_index`), checked for range.
    pub fn with_edges(
        positions: Vec<f64>,
        types: Vec<usize>,
        frame_of_atom: Vec<usize>,
        centers: Vec<usize>,
        neighbors: Vec<usize>,
    ) -> Result<Self> {
        let n_frames = frame_of_atom.iter().max().map_or(0, |m| m + 1);
        let mut frame_offsets = vec![0; n_frames + 1];
        for (a, w) in frame_of_atom.windows(2).enumerate() {
            if w[1] < w[0] {
                return Err(NequipError::Config(format!(
                    "atoms must be grouped by frame (atom {} goes back to frame {})",
                    a + 1,
                    w[1]
                )));
            }
        }
        for &f in &frame_of_atom {
            frame_offsets[f + 1] += 1;
        }
        for f in 0..n_frames {
            frame_offsets[f + 1] += frame_offsets[f];
        }
        Self::from_parts(
            positions,
            types,
            frame_of_atom,
            frame_offsets,
            centers,
            neighbors,
        )
    }

    fn from_parts(
        positions: Vec<f64>,
        types: Vec<usize>,
        frame_of_atom: Vec<usize>,
        frame_offsets: Vec<usize>,
        centers: Vec<usize>,
        neighbors: Vec<usize>,
    ) -> Result<Self> {
        let n = types.len();
        for (what, len) in [
            ("positions", positions.len() / 3),
            ("frames", frame_of_atom.len()),
        ] {
            if len != n || !positions.len().is_multiple_of(3) {
                return Err(NequipError::Shape {
                    what: what.into(),
                    expected: n,
                    got: len,
                });
            }
        }
        if centers.len() != neighbors.len() {
            return Err(NequipError::Shape {
                what: "edge neighbours".into(),
                expected: centers.len(),
                got: neighbors.len(),
            });
        }
        let by_center = ScatterPlan::new(&centers, n)?;
        let by_neighbor = ScatterPlan::new(&neighbors, n)?;
        Ok(Self {
            positions,
            types,
            frame_of_atom,
            frame_offsets,
            centers,
            neighbors,
            by_center,
            by_neighbor,
        })
    }

    /// Number of atoms over all frames.
    pub fn num_atoms(&self) -> usize {
        self.types.len()
    }
    /// Number of frames.
    pub fn num_frames(&self) -> usize {
        self.frame_offsets.len() - 1
    }
    /// Number of directed edges.
    pub fn num_edges(&self) -> usize {
        self.centers.len()
    }
    /// Positions, flat `atoms × 3`.
    pub fn positions(&self) -> &[f64] {
        &self.positions
    }
    /// Type index of every atom.
    pub fn types(&self) -> &[usize] {
        &self.types
    }
    /// Frame of every atom.
    pub fn frame_of_atom(&self) -> &[usize] {
        &self.frame_of_atom
    }
    /// Atom range of each frame (`frames + 1` offsets).
    pub fn frame_offsets(&self) -> &[usize] {
        &self.frame_offsets
    }
    /// Centre atom of each edge.
    pub fn centers(&self) -> &[usize] {
        &self.centers
    }
    /// Neighbour atom of each edge.
    pub fn neighbors(&self) -> &[usize] {
        &self.neighbors
    }
    pub(crate) fn by_center(&self) -> &ScatterPlan {
        &self.by_center
    }
    pub(crate) fn by_neighbor(&self) -> &ScatterPlan {
        &self.by_neighbor
    }
}
