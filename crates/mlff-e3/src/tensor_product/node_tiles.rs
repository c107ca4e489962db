//! Node feature rows in the kernels' tiled layout, converted once per node instead of once per
//! edge.
//!
//! A block of `mul` channels of an irrep of dimension `dim` (e3nn's `[u][i]` layout) becomes
//! `dim × ⌈mul/W⌉` tiles `[i][tile]` of `W` lanes, zero beyond `mul` channels. Only the blocks
//! some path reads (in1) or writes (out) are tiled.

use rayon::prelude::*;

use super::Path;
use super::kernel::{transpose_in, transpose_out_add};
use crate::lanes::LaneTile;
use crate::parallel::filled;
use crate::scalar::Scalar;

/// One tiled block: where it starts in a feature row and in a tiled row.
#[derive(Clone, Copy, Debug)]
struct Block {
    offset: usize,
    mul: usize,
    dim: usize,
    tile_offset: usize,
}

/// The tiled layout of the in1 (`side` 0) or output (`side` 2) blocks of a set of paths.
#[derive(Clone, Debug)]
pub(super) struct NodeTiling<const W: usize> {
    /// Blocks sorted by feature offset, each listed once.
    blocks: Vec<Block>,
    /// Tiles per node.
    len: usize,
}

impl<const W: usize> NodeTiling<W> {
    pub(super) fn new(paths: &[Path], side: usize) -> Self {
        let mut found: Vec<(usize, usize, usize)> = paths
            .iter()
            .map(|p| (p.offset[side], p.mul[side], p.dim[side]))
            .collect();
        found.sort_unstable();
        found.dedup();
        let mut len = 0;
        let blocks = found
            .into_iter()
            .map(|(offset, mul, dim)| {
                let block = Block {
                    offset,
                    mul,
                    dim,
                    tile_offset: len,
                };
                len += dim * mul.div_ceil(W);
                block
            })
            .collect();
        Self { blocks, len }
    }

    /// Tiles per node.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Range, within a node's tiles, of the block starting at feature offset `offset`.
    pub(super) fn block(&self, offset: usize) -> std::ops::Range<usize> {
        let i = self
            .blocks
            .binary_search_by_key(&offset, |b| b.offset)
            .expect("every path block is tiled");
        let b = &self.blocks[i];
        b.tile_offset..b.tile_offset + b.dim * b.mul.div_ceil(W)
    }

    /// Every row of `x` (`rows × dim`, feature layout) in tiles (`rows × len`).
    pub(super) fn tile_rows<T: Scalar>(&self, x: &[T], dim: usize) -> Vec<T::Tile<W>> {
        let rows = x.len().checked_div(dim).unwrap_or(0);
        let mut out = filled(rows * self.len, LaneTile::zero());
        if self.len > 0 {
            out.par_chunks_mut(self.len)
                .zip(x.par_chunks(dim.max(1)))
                .for_each(|(dst, row)| self.tile_row(row, dst));
        }
        out
    }

    fn tile_row<T: Scalar>(&self, row: &[T], dst: &mut [T::Tile<W>]) {
        for b in &self.blocks {
            let tiles = b.mul.div_ceil(W);
            transpose_in(
                &row[b.offset..b.offset + b.mul * b.dim],
                b.dim,
                tiles,
                &mut dst[b.tile_offset..b.tile_offset + b.dim * tiles],
            );
        }
    }

    /// Adds one node's tiles back into its feature row.
    #[inline(always)]
    pub(super) fn add_to_row<T: Scalar>(&self, tiles: &[T::Tile<W>], row: &mut [T]) {
        for b in &self.blocks {
            let n = b.mul.div_ceil(W);
            transpose_out_add(
                &tiles[b.tile_offset..b.tile_offset + b.dim * n],
                b.dim,
                n,
                &mut row[b.offset..b.offset + b.mul * b.dim],
            );
        }
    }
}
