//! Per-sample tensor-product kernels, channel-innermost and tiled.
//!
//! For a path and one in2 channel `v`, the coupling is a small matrix
//! `M[k][i] = Σ_j C[i,j,k] x2[v,j]` (only its structural non-zeros, "pairs", are stored), and
//! the product is `t[k][u] = Σ_i M[k][i] x1[u,i]`: a matrix applied to every channel `u`. The
//! in1 block is transposed once per sample to `[i][u]` tiles of `W` channels (zero-padded), so
//! every pair becomes one fused multiply-add over a whole tile held in registers. Paths are
//! visited grouped by in1 block (each block transposed once); output and gradient blocks are
//! written back in e3nn's `[u][i]` layout.

use super::{ConnectionMode, Path};
use crate::lanes::{LaneTile, MatRef, axpy, dot, gemm_acc};
use crate::scalar::Scalar;

/// The structural non-zeros of a path's coupling matrix `M[k][i]`, in two orders.
#[derive(Clone, Debug)]
pub(super) struct CouplingPlan {
    /// In1 component of each pair, pairs sorted by `(k, i)`; a pair's position is its slot.
    pair_i: Vec<usize>,
    /// Output component of each pair (same order).
    pair_k: Vec<usize>,
    /// Pairs of output component `k`: slots `k_start[k]..k_start[k + 1]`.
    k_start: Vec<usize>,
    /// `(k, slot)` sorted by `(i, k)`: the pairs feeding in1 component `i`.
    by_i: Vec<(usize, usize)>,
    /// Pairs of in1 component `i` in `by_i`: `i_start[i]..i_start[i + 1]`.
    i_start: Vec<usize>,
    /// `(entry, j)` of every coupling entry, grouped by slot (entry order within a slot).
    slot_entries: Vec<(usize, usize)>,
    /// Entries of slot `s`: `slot_entries[slot_start[s]..slot_start[s + 1]]`.
    slot_start: Vec<usize>,
    /// `(entry, slot)` of every coupling entry, grouped by `j` (entry order within a group).
    j_entries: Vec<(usize, usize)>,
    /// Entries of in2 component `j`: `j_entries[j_start[j]..j_start[j + 1]]`.
    j_start: Vec<usize>,
}

impl CouplingPlan {
    pub(super) fn new(p: &Path) -> Self {
        let [d1, _, d3] = p.dim;
        let mut pairs: Vec<(usize, usize)> = p.entries.iter().map(|e| (e.k, e.i)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        let slot_of = |k: usize, i: usize| pairs.binary_search(&(k, i)).expect("pair listed");
        let entry_slot: Vec<usize> = p.entries.iter().map(|e| slot_of(e.k, e.i)).collect();
        let mut slot_entries: Vec<(usize, usize)> = p
            .entries
            .iter()
            .enumerate()
            .map(|(n, e)| (n, e.j))
            .collect();
        // Stable: within a slot the entries keep their order, so the sums are unchanged.
        slot_entries.sort_by_key(|&(n, _)| entry_slot[n]);
        let slot_start = (0..=pairs.len())
            .map(|s| entry_slot.iter().filter(|&&es| es < s).count())
            .collect();
        let mut j_entries: Vec<(usize, usize)> = entry_slot.iter().copied().enumerate().collect();
        j_entries.sort_by_key(|&(n, _)| p.entries[n].j);
        let j_start = (0..=p.dim[1])
            .map(|j| p.entries.iter().filter(|e| e.j < j).count())
            .collect();
        let k_start = (0..=d3)
            .map(|k| pairs.partition_point(|&(pk, _)| pk < k))
            .collect();
        let mut by_i: Vec<(usize, usize)> = (0..pairs.len()).map(|s| (pairs[s].0, s)).collect();
        by_i.sort_by_key(|&(k, s)| (pairs[s].1, k));
        let i_start = (0..=d1)
            .map(|i| by_i.partition_point(|&(_, s)| pairs[s].1 < i))
            .collect();
        Self {
            pair_i: pairs.iter().map(|&(_, i)| i).collect(),
            pair_k: pairs.iter().map(|&(k, _)| k).collect(),
            k_start,
            by_i,
            i_start,
            slot_entries,
            slot_start,
            j_entries,
            j_start,
        }
    }

    /// Number of structural non-zeros of `M`.
    pub(super) fn pairs(&self) -> usize {
        self.pair_i.len()
    }

    /// `M[slot] = Σ_{entries of slot} c_e x2v[j_e]`, each slot summed in a register.
    #[inline(always)]
    fn matrix<T: Scalar>(&self, c: &[T], x2v: &[T], m: &mut [T]) {
        for (mk, bounds) in m.iter_mut().zip(self.slot_start.windows(2)) {
            let mut acc = T::zero();
            for &(n, j) in &self.slot_entries[bounds[0]..bounds[1]] {
                acc += c[n] * x2v[j];
            }
            *mk = acc;
        }
    }
}

/// One path with everything its kernels need.
pub(super) struct PathKernel<'a, T> {
    pub path: &'a Path,
    pub plan: &'a CouplingPlan,
    /// Coupling coefficients in the kernel's scalar type.
    pub coeffs: &'a [T],
}

/// Per-path work space of the tile kernels, sized for the largest path.
pub(super) struct PathScratch<T: Scalar, const W: usize, const F: bool> {
    /// Coupling matrix `M` per pair.
    m: Vec<T>,
    /// Gradient of `M` per pair.
    gm: Vec<T>,
    /// Weights of the current `v` per channel (uvu).
    wt: Vec<T::Tile<W>>,
    /// Weighted cotangent `w ⊙ g` of the output, `[k][tile]` (uvu), or the cotangent of the
    /// coupled products (uvw).
    ht: Vec<T::Tile<W>>,
}

impl<T: Scalar, const W: usize, const F: bool> PathScratch<T, W, F> {
    pub(super) fn new(paths: &[Path], plans: &[CouplingPlan]) -> Self {
        let tiles = paths
            .iter()
            .map(|p| p.mul[0].div_ceil(W))
            .max()
            .unwrap_or(0);
        let d3 = paths.iter().map(|p| p.dim[2]).max().unwrap_or(0);
        let pairs = plans.iter().map(CouplingPlan::pairs).max().unwrap_or(0);
        let zero: T::Tile<W> = LaneTile::zero();
        Self {
            m: vec![T::zero(); pairs],
            gm: vec![T::zero(); pairs],
            wt: vec![zero; tiles],
            ht: vec![zero; tiles * d3],
        }
    }
}

/// Per-chunk work space of the per-sample kernels, sized for the largest path.
pub(super) struct Scratch<T: Scalar, const W: usize, const F: bool> {
    /// In1 block, `[i][tile]`.
    x1t: Vec<T::Tile<W>>,
    /// Gradient of the in1 block, `[i][tile]`.
    gx1t: Vec<T::Tile<W>>,
    /// Coupled products `t[k][tile]` (uvw), the output block or its cotangent (uvu).
    t: Vec<T::Tile<W>>,
    /// Dense `[k][w]` output block or its cotangent (uvw).
    kw: Vec<T>,
    /// Dense `[k][u]` coupled products (uvw).
    flat: Vec<T>,
    /// The path kernels' own space.
    path: PathScratch<T, W, F>,
}

impl<T: Scalar, const W: usize, const F: bool> Scratch<T, W, F> {
    pub(super) fn new(paths: &[Path], plans: &[CouplingPlan]) -> Self {
        let max = |f: &dyn Fn(&Path) -> usize| paths.iter().map(f).max().unwrap_or(0);
        let tiles = max(&|p| p.mul[0].div_ceil(W));
        let zero: T::Tile<W> = LaneTile::zero();
        Self {
            x1t: vec![zero; tiles * max(&|p| p.dim[0])],
            gx1t: vec![zero; tiles * max(&|p| p.dim[0])],
            t: vec![zero; tiles * max(&|p| p.dim[2])],
            kw: vec![T::zero(); max(&|p| p.dim[2] * p.mul[2])],
            flat: vec![T::zero(); max(&|p| p.dim[2] * p.mul[0])],
            path: PathScratch::new(paths, plans),
        }
    }
}

/// Where the weight gradient of a uvu path goes: added to `∂w` (weights shared over samples),
/// or written over it (per-sample weights: each path writes each of its weights exactly once,
/// so the row need not be zeroed first).
pub(super) enum WeightGrads<'a, T> {
    Accumulate(&'a mut [T]),
    Overwrite(&'a mut [T]),
}

impl<T: Scalar> WeightGrads<'_, T> {
    #[inline(always)]
    fn put(&mut self, i: usize, x: T) {
        match self {
            WeightGrads::Accumulate(g) => g[i] += x,
            WeightGrads::Overwrite(g) => g[i] = x,
        }
    }

    /// [`Self::put`] of the first `lanes` lanes of `tile` at `start..start + lanes`.
    #[inline(always)]
    fn put_lanes<const W: usize>(&mut self, start: usize, tile: &T::Tile<W>, lanes: usize) {
        match self {
            WeightGrads::Accumulate(g) => {
                for (l, x) in g[start..start + lanes].iter_mut().enumerate() {
                    *x += tile.lane(l);
                }
            }
            WeightGrads::Overwrite(g) => {
                for (l, x) in g[start..start + lanes].iter_mut().enumerate() {
                    *x = tile.lane(l);
                }
            }
        }
    }
}

/// Gradient buffers of one sample.
pub(super) struct SampleGrads<'a, T> {
    pub x1: &'a mut [T],
    pub x2: &'a mut [T],
    pub w: &'a mut [T],
}

/// `dst[i·tiles + c][l] = block[(c·W + l)·dim + i]`, zero beyond `mul` channels.
#[inline(always)]
pub(super) fn transpose_in<T: Scalar, const W: usize>(
    block: &[T],
    dim: usize,
    tiles: usize,
    dst: &mut [T::Tile<W>],
) {
    dst[..dim * tiles].fill(LaneTile::zero());
    for (u, row) in block.chunks_exact(dim).enumerate() {
        for (i, &x) in row.iter().enumerate() {
            dst[i * tiles + u / W].set_lane(u % W, x);
        }
    }
}

/// `block[(c·W + l)·dim + i] += src[i·tiles + c][l]` for the `mul` real channels.
#[inline(always)]
pub(super) fn transpose_out_add<T: Scalar, const W: usize>(
    src: &[T::Tile<W>],
    dim: usize,
    tiles: usize,
    block: &mut [T],
) {
    for (u, row) in block.chunks_exact_mut(dim).enumerate() {
        for (i, x) in row.iter_mut().enumerate() {
            *x += src[i * tiles + u / W].lane(u % W);
        }
    }
}

/// Weight `(u, v, w)` of a path within the sample's weights (1 for unweighted paths).
#[inline(always)]
fn weight<T: Scalar>(p: &Path, w: &[T], u: usize, v: usize, wch: usize) -> T {
    match p.weight_offset {
        None => T::one(),
        Some(off) => w[off + weight_index(p, u, v, wch)],
    }
}

#[inline(always)]
fn weight_index(p: &Path, u: usize, v: usize, wch: usize) -> usize {
    match p.instruction.mode {
        ConnectionMode::Uvu => u * p.mul[1] + v,
        ConnectionMode::Uvw => (u * p.mul[1] + v) * p.mul[2] + wch,
    }
}

/// The uvu weights `w[u, v]` as tiles (zero beyond `mul` channels).
#[inline(always)]
fn weight_tiles<T: Scalar, const W: usize>(p: &Path, w: &[T], v: usize, wt: &mut [T::Tile<W>]) {
    match (p.weight_offset, p.mul[1]) {
        // One in2 channel (NequIP's edge harmonics): the weights `w[u, 0]` are contiguous, and
        // `wt` has exactly one tile per chunk of `W` of them.
        (Some(off), 1) => {
            for (tile, ws) in wt.iter_mut().zip(w[off..off + p.mul[0]].chunks(W)) {
                *tile = LaneTile::load(ws);
            }
        }
        _ => {
            wt.fill(LaneTile::zero());
            for u in 0..p.mul[0] {
                wt[u / W].set_lane(u % W, weight(p, w, u, v, u));
            }
        }
    }
}

/// `t[k][c] = Σ_{pairs (k, i)} M[k][i] x1t[i][c]` for every tile `c`.
#[inline(always)]
fn couple_tile<T: Scalar, const W: usize, const F: bool>(
    plan: &CouplingPlan,
    m: &[T],
    x1t: &[T::Tile<W>],
    tiles: usize,
    k: usize,
    c: usize,
) -> T::Tile<W> {
    let mut acc: T::Tile<W> = LaneTile::zero();
    for slot in plan.k_start[k]..plan.k_start[k + 1] {
        acc.fma_as::<F>(m[slot], &x1t[plan.pair_i[slot] * tiles + c]);
    }
    acc
}

/// `Σ_{pairs (k, i)} M[k][i] src[k][c]`: the transposed coupling of one in1 component.
#[inline(always)]
fn couple_transposed_tile<T: Scalar, const W: usize, const F: bool>(
    plan: &CouplingPlan,
    m: &[T],
    src: &[T::Tile<W>],
    tiles: usize,
    i: usize,
    c: usize,
) -> T::Tile<W> {
    let mut acc: T::Tile<W> = LaneTile::zero();
    for &(k, slot) in &plan.by_i[plan.i_start[i]..plan.i_start[i + 1]] {
        acc.fma_as::<F>(m[slot], &src[k * tiles + c]);
    }
    acc
}

/// Gradient of `M` from the cotangent `ht` of `t`, pushed on to `x2v`:
/// `gM[k][i] = Σ_u ht[k][u] x1t[i][u]`, `gx2v[j_e] += c_e gM[slot_e]`.
#[inline(always)]
fn coupling_matrix_backward<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    x1t: &[T::Tile<W>],
    ht: &[T::Tile<W>],
    tiles: usize,
    gm: &mut [T],
    gx2v: &mut [T],
) {
    let plan = k.plan;
    for (slot, g) in gm.iter_mut().enumerate() {
        let (kk, i) = (plan.pair_k[slot], plan.pair_i[slot]);
        let mut acc: T::Tile<W> = LaneTile::zero();
        for c in 0..tiles {
            acc.fma_product_as::<F>(&ht[kk * tiles + c], &x1t[i * tiles + c]);
        }
        *g = acc.sum();
    }
    // Each component summed in a register, its entries in their order: the same sums as
    // adding entry by entry.
    for (gj, bounds) in gx2v.iter_mut().zip(plan.j_start.windows(2)) {
        let mut acc = *gj;
        for &(n, slot) in &plan.j_entries[bounds[0]..bounds[1]] {
            acc += k.coeffs[n] * gm[slot];
        }
        *gj = acc;
    }
}

/// Adds one sample's product `TP(x1, x2; w)` to `out` (all paths, grouped by in1 block).
#[inline(always)]
pub(super) fn forward_sample<T: Scalar, const W: usize, const F: bool>(
    groups: &[Vec<PathKernel<'_, T>>],
    x1: &[T],
    x2: &[T],
    w: &[T],
    out: &mut [T],
    s: &mut Scratch<T, W, F>,
) {
    for group in groups {
        let p0 = group[0].path;
        let (m1, d1) = (p0.mul[0], p0.dim[0]);
        let tiles = m1.div_ceil(W);
        transpose_in(
            &x1[p0.offset[0]..p0.offset[0] + m1 * d1],
            d1,
            tiles,
            &mut s.x1t,
        );
        for k in group {
            match k.path.instruction.mode {
                ConnectionMode::Uvu => uvu_forward(k, x2, w, out, s, tiles),
                ConnectionMode::Uvw => uvw_forward(k, x2, w, out, s, tiles),
            }
        }
    }
}

#[inline(always)]
fn uvu_forward<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    x2: &[T],
    w: &[T],
    out: &mut [T],
    s: &mut Scratch<T, W, F>,
    tiles: usize,
) {
    let p = k.path;
    let [m1, _, _] = p.mul;
    let d3 = p.dim[2];
    let acc = &mut s.t[..d3 * tiles];
    acc.fill(LaneTile::zero());
    uvu_forward_tiles(k, &s.x1t, x2, w, acc, &mut s.path);
    transpose_out_add(acc, d3, tiles, &mut out[p.offset[2]..p.offset[2] + m1 * d3]);
}

/// One uvu path on tiled blocks: `acc[k][c] += w[·, v] ⊙ Σ_i M_v[k][i] x1t[i][c]` summed
/// over the in2 channels `v`; `x1t` is the in1 block `[i][tile]`, `acc` the output block
/// `[k][tile]` (both zero beyond `mul` channels).
#[inline(always)]
pub(super) fn uvu_forward_tiles<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    x1t: &[T::Tile<W>],
    x2: &[T],
    w: &[T],
    acc: &mut [T::Tile<W>],
    s: &mut PathScratch<T, W, F>,
) {
    let p = k.path;
    let [m1, m2, _] = p.mul;
    let [_, d2, d3] = p.dim;
    let tiles = m1.div_ceil(W);
    let m = &mut s.m[..k.plan.pairs()];
    for v in 0..m2 {
        k.plan
            .matrix(k.coeffs, &x2[p.offset[1] + v * d2..][..d2], m);
        weight_tiles(p, w, v, &mut s.wt[..tiles]);
        for kk in 0..d3 {
            for c in 0..tiles {
                let t = couple_tile::<T, W, F>(k.plan, m, x1t, tiles, kk, c);
                acc[kk * tiles + c].fma_product_as::<F>(&s.wt[c], &t);
            }
        }
    }
}

/// `t[k][c]` for every output component and tile.
#[inline(always)]
fn couple_all<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    m: &[T],
    x1t: &[T::Tile<W>],
    tiles: usize,
    t: &mut [T::Tile<W>],
) {
    for kk in 0..k.path.dim[2] {
        for c in 0..tiles {
            t[kk * tiles + c] = couple_tile::<T, W, F>(k.plan, m, x1t, tiles, kk, c);
        }
    }
}

#[inline(always)]
fn uvw_forward<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    x2: &[T],
    w: &[T],
    out: &mut [T],
    s: &mut Scratch<T, W, F>,
    tiles: usize,
) {
    let p = k.path;
    let [m1, m2, m3] = p.mul;
    let [_, d2, d3] = p.dim;
    let kw = &mut s.kw[..d3 * m3];
    kw.fill(T::zero());
    for v in 0..m2 {
        let m = &mut s.path.m[..k.plan.pairs()];
        k.plan
            .matrix(k.coeffs, &x2[p.offset[1] + v * d2..][..d2], m);
        couple_all::<T, W, F>(k, m, &s.x1t, tiles, &mut s.t);
        // The coupled products as a dense `[k][u]` matrix for the weight GEMM.
        let flat = &mut s.flat[..d3 * m1];
        for (kk, row) in flat.chunks_exact_mut(m1).enumerate() {
            for (u, x) in row.iter_mut().enumerate() {
                *x = s.t[kk * tiles + u / W].lane(u % W);
            }
        }
        let t = MatRef {
            data: flat,
            rows: d3,
            cols: m1,
            stride: m1,
        };
        match p.weight_offset {
            // kw[k][w] += Σ_u t[k][u] W[u, v, w]
            Some(off) => {
                let wv = MatRef {
                    data: &w[off + v * m3..],
                    rows: m1,
                    cols: m3,
                    stride: m2 * m3,
                };
                gemm_acc::<T, W>(t, wv, kw, m3);
            }
            None => {
                for (kk, row) in kw.chunks_exact_mut(m3).enumerate() {
                    let sum: T = s.t[kk * tiles..(kk + 1) * tiles]
                        .iter()
                        .map(|tile| tile.sum())
                        .sum();
                    row.iter_mut().for_each(|x| *x += sum);
                }
            }
        }
    }
    let out = &mut out[p.offset[2]..p.offset[2] + m3 * d3];
    for (wch, o) in out.chunks_exact_mut(d3).enumerate() {
        for (kk, x) in o.iter_mut().enumerate() {
            *x += kw[kk * m3 + wch];
        }
    }
}

/// Adds one sample's gradients with respect to `x1`, `x2` and the weights to `grads`, given the
/// output cotangent `g`.
#[inline(always)]
pub(super) fn backward_sample<T: Scalar, const W: usize, const F: bool>(
    groups: &[Vec<PathKernel<'_, T>>],
    (x1, x2): (&[T], &[T]),
    w: &[T],
    g: &[T],
    grads: SampleGrads<'_, T>,
    s: &mut Scratch<T, W, F>,
) {
    for group in groups {
        let p0 = group[0].path;
        let (m1, d1) = (p0.mul[0], p0.dim[0]);
        let tiles = m1.div_ceil(W);
        let block = p0.offset[0]..p0.offset[0] + m1 * d1;
        transpose_in(&x1[block.clone()], d1, tiles, &mut s.x1t);
        s.gx1t[..d1 * tiles].fill(LaneTile::zero());
        for k in group {
            match k.path.instruction.mode {
                ConnectionMode::Uvu => uvu_backward(k, x2, w, g, grads.x2, grads.w, s, tiles),
                ConnectionMode::Uvw => uvw_backward(k, x2, w, g, grads.x2, grads.w, s, tiles),
            }
        }
        transpose_out_add(&s.gx1t, d1, tiles, &mut grads.x1[block]);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn uvu_backward<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    x2: &[T],
    w: &[T],
    g: &[T],
    gx2: &mut [T],
    gw: &mut [T],
    s: &mut Scratch<T, W, F>,
    tiles: usize,
) {
    let p = k.path;
    let (m1, d3) = (p.mul[0], p.dim[2]);
    transpose_in(&g[p.offset[2]..p.offset[2] + m1 * d3], d3, tiles, &mut s.t);
    let gw = WeightGrads::Accumulate(gw);
    uvu_backward_tiles(k, &s.x1t, x2, w, &s.t, &mut s.gx1t, (gx2, gw), &mut s.path);
}

/// Backward of [`uvu_forward_tiles`] from the tiled output cotangent `gt` (`[k][tile]`): with
/// `h[i][u] = Σ_k M[k][i] g[u, k]`, `∂w[u,v] = Σ_i x1[u,i] h[i][u]` and
/// `∂x1[u,i] += w[u,v] h[i][u]` (into the tiled `gx1t`); `∂M` from the weighted cotangent
/// `w[u,v] g[u,k]`, pushed on to `∂x2`; `(gx2, gw)` are the sample's `∂x2` and `∂w`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn uvu_backward_tiles<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    x1t: &[T::Tile<W>],
    x2: &[T],
    w: &[T],
    gt: &[T::Tile<W>],
    gx1t: &mut [T::Tile<W>],
    (gx2, mut gw): (&mut [T], WeightGrads<'_, T>),
    s: &mut PathScratch<T, W, F>,
) {
    let p = k.path;
    let [m1, m2, _] = p.mul;
    let [d1, d2, d3] = p.dim;
    let tiles = m1.div_ceil(W);
    let m = &mut s.m[..k.plan.pairs()];
    for v in 0..m2 {
        k.plan
            .matrix(k.coeffs, &x2[p.offset[1] + v * d2..][..d2], m);
        weight_tiles(p, w, v, &mut s.wt[..tiles]);
        for c in 0..tiles {
            let mut dw: T::Tile<W> = LaneTile::zero();
            for i in 0..d1 {
                let h = couple_transposed_tile::<T, W, F>(k.plan, m, gt, tiles, i, c);
                dw.fma_product_as::<F>(&x1t[i * tiles + c], &h);
                gx1t[i * tiles + c].fma_product_as::<F>(&s.wt[c], &h);
            }
            if let Some(off) = p.weight_offset {
                let lanes = (m1 - c * W).min(W);
                if m2 == 1 {
                    // One in2 channel: the tile's weights are contiguous.
                    gw.put_lanes(off + c * W, &dw, lanes);
                } else {
                    for l in 0..lanes {
                        gw.put(off + weight_index(p, c * W + l, v, 0), dw.lane(l));
                    }
                }
            }
        }
        for (hk, gk) in s.ht[..d3 * tiles]
            .chunks_exact_mut(tiles)
            .zip(gt.chunks_exact(tiles))
        {
            for ((h, g), wc) in hk.iter_mut().zip(gk).zip(&s.wt[..tiles]) {
                *h = LaneTile::product(wc, g);
            }
        }
        let gx2v = &mut gx2[p.offset[1] + v * d2..][..d2];
        coupling_matrix_backward::<T, W, F>(k, x1t, &s.ht, tiles, &mut s.gm[..m.len()], gx2v);
    }
}

/// uvw backward: `∂W[u,v,w] = Σ_k t[k][u] g[w,k]`, `ht[k][u] = Σ_w W[u,v,w] g[w,k]`, then
/// `∂x1 += Mᵀ ht` and `∂M` from `ht`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn uvw_backward<T: Scalar, const W: usize, const F: bool>(
    k: &PathKernel<'_, T>,
    x2: &[T],
    w: &[T],
    g: &[T],
    gx2: &mut [T],
    gw: &mut [T],
    s: &mut Scratch<T, W, F>,
    tiles: usize,
) {
    let p = k.path;
    let [m1, m2, m3] = p.mul;
    let [d1, d2, d3] = p.dim;
    // kw[k][w] = g[w, k]
    let gkw = &mut s.kw[..d3 * m3];
    for (wch, gw_row) in g[p.offset[2]..p.offset[2] + m3 * d3]
        .chunks_exact(d3)
        .enumerate()
    {
        for (kk, &x) in gw_row.iter().enumerate() {
            gkw[kk * m3 + wch] = x;
        }
    }
    for v in 0..m2 {
        let m = &mut s.path.m[..k.plan.pairs()];
        k.plan
            .matrix(k.coeffs, &x2[p.offset[1] + v * d2..][..d2], m);
        if p.weight_offset.is_some() {
            couple_all::<T, W, F>(k, m, &s.x1t, tiles, &mut s.t);
        }
        s.path.ht[..d3 * tiles].fill(LaneTile::zero());
        for u in 0..m1 {
            let (c, l) = (u / W, u % W);
            for (kk, gk) in gkw.chunks_exact(m3).enumerate() {
                let h = match p.weight_offset {
                    Some(off) => {
                        let row = off + weight_index(p, u, v, 0);
                        axpy(&mut gw[row..row + m3], s.t[kk * tiles + c].lane(l), gk);
                        dot::<T, W>(&w[row..row + m3], gk)
                    }
                    None => gk.iter().copied().sum(),
                };
                s.path.ht[kk * tiles + c].set_lane(l, h);
            }
        }
        for c in 0..tiles {
            for i in 0..d1 {
                let h = couple_transposed_tile::<T, W, F>(k.plan, m, &s.path.ht, tiles, i, c);
                s.gx1t[i * tiles + c].add(&h);
            }
        }
        let gx2v = &mut gx2[p.offset[1] + v * d2..][..d2];
        coupling_matrix_backward::<T, W, F>(
            k,
            &s.x1t,
            &s.path.ht,
            tiles,
            &mut s.path.gm[..m.len()],
            gx2v,
        );
    }
}
