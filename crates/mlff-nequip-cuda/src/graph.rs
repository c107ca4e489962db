//! A batch of frames on the backend: the edge list and every grouping the passes read.

use mlff_cuda::{Backend, EdgeGraph, GatherIndex, SortedScatter};
use mlff_nequip::AtomicGraph;

use crate::error::Result;

/// The index tables of one [`AtomicGraph`] on a backend (uploaded once per batch).
///
/// Messages flow from neighbour to centre, as in nequip: node rows are gathered onto edges by
/// neighbour and summed back per centre; the backward pass does the reverse.
pub struct DeviceGraph<B: Backend> {
    pub(crate) num_atoms: usize,
    pub(crate) num_edges: usize,
    pub(crate) num_frames: usize,
    /// `pos[neighbor] - pos[center]`.
    pub(crate) edges: B::Edges,
    pub(crate) from_neighbors: B::Gather,
    pub(crate) from_centers: B::Gather,
    pub(crate) into_centers: B::Scatter,
    pub(crate) into_neighbors: B::Scatter,
    /// Atom → type: rows of the embedding table and the per-type weight sets.
    pub(crate) types: B::Gather,
    pub(crate) into_frames: B::Scatter,
    /// Frame of each atom (energy cotangents onto atoms).
    pub(crate) atom_frames: B::Gather,
    /// Atoms grouped by type (the embedding table's gradient).
    pub(crate) by_type: B::Scatter,
    /// `Σ shift[type]` over each frame's atoms (added on the host, in f64).
    pub(crate) frame_shifts: Vec<f64>,
}

impl<B: Backend> DeviceGraph<B> {
    /// Builds and uploads the tables of `graph` for a model with `num_types` types and
    /// per-type energy `shifts`.
    pub(crate) fn new(
        backend: &B,
        graph: &AtomicGraph,
        num_types: usize,
        shifts: &[f64],
    ) -> Result<Self> {
        let (n, centers, neighbors) = (graph.num_atoms(), graph.centers(), graph.neighbors());
        let frame_shifts = graph
            .frame_offsets()
            .windows(2)
            .map(|r| graph.types()[r[0]..r[1]].iter().map(|&t| shifts[t]).sum())
            .collect();
        Ok(Self {
            num_atoms: n,
            num_edges: graph.num_edges(),
            num_frames: graph.num_frames(),
            edges: backend.upload_edges(&EdgeGraph::new(centers, neighbors, n)?)?,
            from_neighbors: backend.upload_gather(&GatherIndex::new(neighbors, n)?)?,
            from_centers: backend.upload_gather(&GatherIndex::new(centers, n)?)?,
            into_centers: backend.upload_scatter(&SortedScatter::new(centers, n)?)?,
            into_neighbors: backend.upload_scatter(&SortedScatter::new(neighbors, n)?)?,
            types: backend.upload_gather(&GatherIndex::new(graph.types(), num_types)?)?,
            into_frames: backend.upload_scatter(&SortedScatter::new(
                graph.frame_of_atom(),
                graph.num_frames(),
            )?)?,
            atom_frames: backend.upload_gather(&GatherIndex::new(
                graph.frame_of_atom(),
                graph.num_frames(),
            )?)?,
            by_type: backend.upload_scatter(&SortedScatter::new(graph.types(), num_types)?)?,
            frame_shifts,
        })
    }

    /// Number of atoms.
    pub fn num_atoms(&self) -> usize {
        self.num_atoms
    }
    /// Number of directed edges.
    pub fn num_edges(&self) -> usize {
        self.num_edges
    }
    /// Number of frames.
    pub fn num_frames(&self) -> usize {
        self.num_frames
    }
}
