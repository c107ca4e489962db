//! Fixed-width lane arithmetic the hot kernels are written in.
//!
//! Every inner loop works on `[T; W]` arrays with a compile-time width `W`, so that LLVM keeps
//! the accumulators in vector registers and vectorises the loops for any [`Scalar`] (for
//! `Dual`, the two parts interleave). Reductions across lanes are a fixed pairwise tree, so a
//! result never depends on the thread count or the call site: determinism without atomics.

use crate::scalar::{Dual, Scalar};

/// Lane widths the kernels are instantiated with.
pub(crate) const WIDTHS: [usize; 4] = [8, 16, 32, 64];

/// The pass a tile is sized for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pass {
    /// Products and their sums (one tile of accumulators live).
    Forward,
    /// Vector–Jacobian products (two tiles live: the weight gradient and the coupled cotangent).
    Backward,
}

/// Bytes of one tile of accumulators for a scalar of `parts` vector parts (2 for duals).
///
/// Eight 256-bit registers: two FMA ports with four cycles' latency need eight independent
/// chains to stay busy. The backward kernels keep two tiles live; for duals, whose products
/// need temporaries, two such tiles spill, so their backward tiles are half as wide. Measured
/// on the fused convolution (64 channels, l_max 3, 1,800 edges, one thread) against 128-byte
/// tiles: float32 forward 20.5 → 17.6 ms and backward 61 → 41 ms, dual forward 36 → 32 ms,
/// dual backward 96 → 112 ms (hence 128 bytes there).
fn tile_bytes(pass: Pass, parts: usize) -> usize {
    match (pass, parts) {
        (Pass::Backward, 2..) => 128,
        _ => 256,
    }
}

/// The tile width of the kernels of `pass` for `channels` channels of `T`: the smallest of
/// [`WIDTHS`] that covers the channels, capped so a tile stays within [`tile_bytes`].
pub(crate) fn tile_width<T: Scalar>(channels: usize, pass: Pass) -> usize {
    let bytes = tile_bytes(pass, T::PARTS);
    let cap = WIDTHS
        .iter()
        .copied()
        .filter(|&w| w * std::mem::size_of::<T>() <= bytes)
        .max()
        .unwrap_or(WIDTHS[0]);
    WIDTHS
        .iter()
        .copied()
        .find(|&w| channels <= w)
        .unwrap_or(cap)
        .min(cap)
}

/// Runs `$body` with the constant `$W` bound to the tile width `$width` (one of [`WIDTHS`]).
macro_rules! with_tile_width {
    ($width:expr, $W:ident => $body:expr) => {
        match $width {
            8 => {
                const $W: usize = 8;
                $body
            }
            16 => {
                const $W: usize = 16;
                $body
            }
            32 => {
                const $W: usize = 32;
                $body
            }
            _ => {
                const $W: usize = 64;
                $body
            }
        }
    };
}
pub(crate) use with_tile_width;

/// A tile of `W` lanes of a scalar, in the layout its lane-wise arithmetic vectorises best:
/// `[T; W]` for floats; for [`Dual`] numbers, the real and tangent parts in separate arrays
/// (interleaved parts need shuffles for every product).
pub trait LaneTile<T, const W: usize>: Copy + Send + Sync + std::fmt::Debug {
    /// All lanes zero.
    fn zero() -> Self;
    /// Lane `l`.
    fn lane(&self, l: usize) -> T;
    /// Sets lane `l`.
    fn set_lane(&mut self, l: usize, x: T);
    /// The first `xs.len()` (at most `W`) lanes from `xs`, the rest zero.
    fn load(xs: &[T]) -> Self;
    /// `self += a · x`.
    fn fma(&mut self, a: T, x: &Self);
    /// `self += x ⊙ y`.
    fn fma_product(&mut self, x: &Self, y: &Self);
    /// `x ⊙ y`.
    fn product(x: &Self, y: &Self) -> Self;
    /// `self += x`.
    fn add(&mut self, x: &Self);
    /// `self += a · x` with fused multiply-adds (see [`Scalar::mul_add_fused`]).
    fn fma_fused(&mut self, a: T, x: &Self);
    /// `self += x ⊙ y` with fused multiply-adds.
    fn fma_product_fused(&mut self, x: &Self, y: &Self);
    /// [`Self::fma`], or [`Self::fma_fused`] when `FUSED` (kernels instantiated for FMA).
    #[inline(always)]
    fn fma_as<const FUSED: bool>(&mut self, a: T, x: &Self) {
        if FUSED {
            self.fma_fused(a, x)
        } else {
            self.fma(a, x)
        }
    }
    /// [`Self::fma_product`], or [`Self::fma_product_fused`] when `FUSED`.
    #[inline(always)]
    fn fma_product_as<const FUSED: bool>(&mut self, x: &Self, y: &Self) {
        if FUSED {
            self.fma_product_fused(x, y)
        } else {
            self.fma_product(x, y)
        }
    }
    /// Sum of the lanes by a fixed pairwise tree.
    fn sum(self) -> T;
}

impl<T: Scalar, const W: usize> LaneTile<T, W> for [T; W] {
    #[inline(always)]
    fn zero() -> Self {
        [T::zero(); W]
    }
    #[inline(always)]
    fn lane(&self, l: usize) -> T {
        self[l]
    }
    #[inline(always)]
    fn set_lane(&mut self, l: usize, x: T) {
        self[l] = x;
    }
    #[inline(always)]
    fn load(xs: &[T]) -> Self {
        match <&[T; W]>::try_from(xs) {
            Ok(full) => *full,
            Err(_) => {
                let mut tile = [T::zero(); W];
                tile[..xs.len()].copy_from_slice(xs);
                tile
            }
        }
    }
    #[inline(always)]
    fn fma(&mut self, a: T, x: &Self) {
        fma_lanes(self, a, x);
    }
    #[inline(always)]
    fn fma_product(&mut self, x: &Self, y: &Self) {
        fma_lanes_product(self, x, y);
    }
    #[inline(always)]
    fn product(x: &Self, y: &Self) -> Self {
        std::array::from_fn(|l| x[l] * y[l])
    }
    #[inline(always)]
    fn add(&mut self, x: &Self) {
        for l in 0..W {
            self[l] += x[l];
        }
    }
    #[inline(always)]
    fn sum(self) -> T {
        sum_lanes(self)
    }
    #[inline(always)]
    fn fma_fused(&mut self, a: T, x: &Self) {
        for l in 0..W {
            self[l] = a.mul_add_fused(x[l], self[l]);
        }
    }
    #[inline(always)]
    fn fma_product_fused(&mut self, x: &Self, y: &Self) {
        for l in 0..W {
            self[l] = x[l].mul_add_fused(y[l], self[l]);
        }
    }
}

/// `W` dual lanes as separate real and tangent arrays.
#[derive(Clone, Copy, Debug)]
pub struct DualTile<T, const W: usize> {
    re: [T; W],
    eps: [T; W],
}

impl<T: Scalar, const W: usize> LaneTile<Dual<T>, W> for DualTile<T, W> {
    #[inline(always)]
    fn zero() -> Self {
        Self {
            re: [T::zero(); W],
            eps: [T::zero(); W],
        }
    }
    #[inline(always)]
    fn lane(&self, l: usize) -> Dual<T> {
        Dual::new(self.re[l], self.eps[l])
    }
    #[inline(always)]
    fn set_lane(&mut self, l: usize, x: Dual<T>) {
        (self.re[l], self.eps[l]) = (x.re, x.eps);
    }
    #[inline(always)]
    fn load(xs: &[Dual<T>]) -> Self {
        let mut tile: Self = LaneTile::zero();
        for (l, x) in xs.iter().enumerate() {
            (tile.re[l], tile.eps[l]) = (x.re, x.eps);
        }
        tile
    }
    #[inline(always)]
    fn fma(&mut self, a: Dual<T>, x: &Self) {
        for l in 0..W {
            self.re[l] += a.re * x.re[l];
            self.eps[l] += a.re * x.eps[l] + a.eps * x.re[l];
        }
    }
    #[inline(always)]
    fn fma_product(&mut self, x: &Self, y: &Self) {
        for l in 0..W {
            self.re[l] += x.re[l] * y.re[l];
            self.eps[l] += x.re[l] * y.eps[l] + x.eps[l] * y.re[l];
        }
    }
    #[inline(always)]
    fn product(x: &Self, y: &Self) -> Self {
        Self {
            re: std::array::from_fn(|l| x.re[l] * y.re[l]),
            eps: std::array::from_fn(|l| x.re[l] * y.eps[l] + x.eps[l] * y.re[l]),
        }
    }
    #[inline(always)]
    fn add(&mut self, x: &Self) {
        for l in 0..W {
            self.re[l] += x.re[l];
            self.eps[l] += x.eps[l];
        }
    }
    #[inline(always)]
    fn sum(self) -> Dual<T> {
        Dual::new(sum_lanes(self.re), sum_lanes(self.eps))
    }
    #[inline(always)]
    fn fma_fused(&mut self, a: Dual<T>, x: &Self) {
        for l in 0..W {
            self.re[l] = a.re.mul_add_fused(x.re[l], self.re[l]);
            self.eps[l] =
                a.re.mul_add_fused(x.eps[l], a.eps.mul_add_fused(x.re[l], self.eps[l]));
        }
    }
    #[inline(always)]
    fn fma_product_fused(&mut self, x: &Self, y: &Self) {
        for l in 0..W {
            self.re[l] = x.re[l].mul_add_fused(y.re[l], self.re[l]);
            self.eps[l] =
                x.re[l].mul_add_fused(y.eps[l], x.eps[l].mul_add_fused(y.re[l], self.eps[l]));
        }
    }
}

/// `acc += a · x`, lane by lane.
#[inline(always)]
pub(crate) fn fma_lanes<T: Scalar, const W: usize>(acc: &mut [T; W], a: T, x: &[T; W]) {
    for l in 0..W {
        acc[l] += a * x[l];
    }
}

/// `acc += x ⊙ y`, lane by lane.
#[inline(always)]
pub(crate) fn fma_lanes_product<T: Scalar, const W: usize>(
    acc: &mut [T; W],
    x: &[T; W],
    y: &[T; W],
) {
    for l in 0..W {
        acc[l] += x[l] * y[l];
    }
}

/// Sum of the lanes by a fixed pairwise tree (`W` a power of two).
#[inline(always)]
pub(crate) fn sum_lanes<T: Scalar, const W: usize>(mut a: [T; W]) -> T {
    let mut n = W;
    while n > 1 {
        n /= 2;
        for l in 0..n {
            let upper = a[l + n];
            a[l] += upper;
        }
    }
    a[0]
}

/// `Σ a[n] b[n]` with `W` lane accumulators, then the remainder, in a fixed order.
#[inline(always)]
pub(crate) fn dot<T: Scalar, const W: usize>(a: &[T], b: &[T]) -> T {
    let (ac, ar) = a.as_chunks::<W>();
    let (bc, br) = b[..a.len()].as_chunks::<W>();
    let mut acc = [T::zero(); W];
    for (x, y) in ac.iter().zip(bc) {
        fma_lanes_product(&mut acc, x, y);
    }
    let mut sum = sum_lanes(acc);
    for (&x, &y) in ar.iter().zip(br) {
        sum += x * y;
    }
    sum
}

/// `y += a · x` over slices of equal length.
#[inline(always)]
pub(crate) fn axpy<T: Scalar>(y: &mut [T], a: T, x: &[T]) {
    for (d, &s) in y.iter_mut().zip(x) {
        *d += a * s;
    }
}

/// A row-major matrix view: `rows × cols` values with a row stride.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub stride: usize,
}

impl<'a, T> MatRef<'a, T> {
    /// A contiguous `rows × cols` matrix.
    #[cfg(test)]
    pub fn new(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            stride: cols,
        }
    }
    #[inline(always)]
    fn row(&self, r: usize) -> &'a [T] {
        &self.data[r * self.stride..r * self.stride + self.cols]
    }
}

/// Rows of `A` handled together by [`gemm_acc`] (each `B` tile is loaded once per group).
const ROW_GROUP: usize = 4;

// Index loops: the tile arithmetic reads clearer with explicit row/column indices.
#[allow(clippy::needless_range_loop)]
/// `C += A · B` for small dense matrices (`C`: `a.rows × b.cols`, contiguous with row stride
/// `ldc`), tiled as `ROW_GROUP` rows × `W` columns of register accumulators.
#[inline(always)]
pub(crate) fn gemm_acc<T: Scalar, const W: usize>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    c: &mut [T],
    ldc: usize,
) {
    debug_assert_eq!(a.cols, b.rows);
    let full_cols = b.cols / W * W;
    let mut r0 = 0;
    while r0 + ROW_GROUP <= a.rows {
        let rows: [&[T]; ROW_GROUP] = std::array::from_fn(|g| a.row(r0 + g));
        for c0 in (0..full_cols).step_by(W) {
            let mut acc = [[T::zero(); W]; ROW_GROUP];
            for k in 0..a.cols {
                let bk: &[T; W] = b.row(k)[c0..c0 + W].try_into().expect("tile width");
                for g in 0..ROW_GROUP {
                    fma_lanes(&mut acc[g], rows[g][k], bk);
                }
            }
            for (g, accg) in acc.iter().enumerate() {
                let dst = &mut c[(r0 + g) * ldc + c0..(r0 + g) * ldc + c0 + W];
                for (d, &s) in dst.iter_mut().zip(accg) {
                    *d += s;
                }
            }
        }
        r0 += ROW_GROUP;
    }
    // Remaining rows, and the remaining columns of every row, as axpys over rows of B.
    for r in 0..a.rows {
        let cols = if r < r0 { full_cols..b.cols } else { 0..b.cols };
        if cols.is_empty() {
            continue;
        }
        let ar = a.row(r);
        let dst = &mut c[r * ldc + cols.start..r * ldc + cols.end];
        for (k, &ark) in ar.iter().enumerate() {
            axpy(dst, ark, &b.row(k)[cols.clone()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|q| a[i * k + q] * b[q * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn gemm_matches_naive_for_ragged_shapes() {
        for (m, k, n) in [(1, 1, 1), (4, 3, 8), (7, 5, 19), (9, 33, 40), (3, 2, 7)] {
            let a: Vec<f64> = (0..m * k).map(|x| (x as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|x| (x as f64 * 0.11).cos()).collect();
            let mut c = vec![1.0; m * n];
            gemm_acc::<f64, 8>(MatRef::new(&a, m, k), MatRef::new(&b, k, n), &mut c, n);
            for (got, want) in c.iter().zip(naive(&a, &b, m, k, n)) {
                assert!(
                    (got - 1.0 - want).abs() < 1e-12,
                    "{m}x{k}x{n}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn split_dual_tiles_compute_exactly_what_interleaved_duals_do() {
        let d = |k: usize| Dual::new((k as f64 * 0.37).sin(), (k as f64 * 0.91).cos());
        let arrays: [[Dual<f64>; 8]; 3] =
            std::array::from_fn(|t| std::array::from_fn(|l| d(8 * t + l)));
        let split = arrays.map(|a| {
            let mut tile: DualTile<f64, 8> = LaneTile::zero();
            for (l, &x) in a.iter().enumerate() {
                tile.set_lane(l, x);
            }
            tile
        });
        let [mut acc_a, x_a, y_a] = arrays;
        let [mut acc_s, x_s, y_s] = split;
        let a = d(99);
        acc_a.fma(a, &x_a);
        acc_s.fma(a, &x_s);
        acc_a.fma_product(&x_a, &y_a);
        acc_s.fma_product(&x_s, &y_s);
        acc_a.add(&LaneTile::product(&x_a, &y_a));
        acc_s.add(&LaneTile::product(&x_s, &y_s));
        for l in 0..8 {
            assert_eq!(acc_a.lane(l), acc_s.lane(l), "lane {l}");
        }
        assert_eq!(acc_a.sum(), acc_s.sum());
    }

    #[test]
    fn dot_and_lane_sum_match_sequential_sums() {
        let a: Vec<f64> = (0..37).map(|x| x as f64 * 0.5 - 3.0).collect();
        let b: Vec<f64> = (0..37).map(|x| (x as f64).sqrt()).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot::<f64, 8>(&a, &b) - want).abs() < 1e-10);
        assert_eq!(sum_lanes([1.0, 2.0, 3.0, 4.0]), 10.0);
        assert_eq!(tile_width::<f32>(3, Pass::Forward), 8);
        assert_eq!(tile_width::<f32>(16, Pass::Backward), 16);
        assert_eq!(tile_width::<f32>(64, Pass::Forward), 64);
        assert_eq!(tile_width::<f32>(128, Pass::Backward), 64);
        assert_eq!(tile_width::<f64>(64, Pass::Backward), 32);
        assert_eq!(tile_width::<Dual<f32>>(64, Pass::Forward), 32);
        assert_eq!(tile_width::<Dual<f32>>(64, Pass::Backward), 16);
        assert_eq!(tile_width::<Dual<f64>>(64, Pass::Forward), 16);
        assert_eq!(tile_width::<Dual<f64>>(64, Pass::Backward), 8);
    }
}
