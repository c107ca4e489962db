//! Dense matrix products over strided views, dispatched per scalar type.
//!
//! `f32` and `f64` go to faer's packed, SIMD GEMM (sequential: callers parallelise over fixed
//! row blocks, so results do not depend on the thread count). A [`Dual`] product is split into
//! real products of its parts — `re = a.re·b.re`, `eps = a.re·b.eps + a.eps·b.re` — viewed in
//! place with doubled strides, so the tangent part of a training pass runs at GEMM speed too
//! instead of through scalar dual arithmetic. Products whose tangent operand is exactly zero
//! (constant weights, say) are skipped.

use crate::scalar::{Dual, Scalar};

/// A read-only matrix view: element `(i, j)` is `data[i·row_stride + j·col_stride]`.
#[derive(Clone, Copy, Debug)]
pub struct MatView<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// A mutable matrix view with the same addressing as [`MatView`].
#[derive(Debug)]
pub struct MatViewMut<'a, T> {
    data: &'a mut [T],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

/// Largest index a `rows × cols` view with these strides touches, plus one (0 when empty).
fn extent(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * row_stride + (cols - 1) * col_stride + 1
    }
}

/// Whether distinct `(i, j)` of a `rows × cols` view address distinct elements: one stride
/// must step over a whole line of the other (or the view has at most one line that way).
fn disjoint(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> bool {
    let rows_apart = |r: usize, rs: usize, c: usize, cs: usize| {
        (c <= 1 || cs > 0) && (r <= 1 || rs >= c.max(1) * cs.max(1))
    };
    rows == 0
        || cols == 0
        || rows_apart(rows, row_stride, cols, col_stride)
        || rows_apart(cols, col_stride, rows, row_stride)
}

impl<'a, T> MatView<'a, T> {
    /// A view with explicit strides. Panics if the view reaches past `data`.
    pub fn strided(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        assert!(
            extent(rows, cols, row_stride, col_stride) <= data.len(),
            "matrix view {rows}×{cols} (strides {row_stride}, {col_stride}) exceeds {} elements",
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }
    /// The first `rows × cols` elements of `data`, row-major.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }
    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

impl<'a, T> MatViewMut<'a, T> {
    /// A mutable view with explicit strides. Panics if the view reaches past `data` or, for
    /// more than one element, if two elements would share a slot.
    pub fn strided(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        assert!(
            extent(rows, cols, row_stride, col_stride) <= data.len(),
            "matrix view {rows}×{cols} (strides {row_stride}, {col_stride}) exceeds {} elements",
            data.len()
        );
        assert!(
            disjoint(rows, cols, row_stride, col_stride),
            "a mutable matrix view may not alias its elements"
        );
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }
    /// The first `rows × cols` elements of `data`, row-major.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }
    /// A read-only view of the same elements.
    fn view(&self) -> MatView<'_, T> {
        MatView {
            data: &*self.data,
            rows: self.rows,
            cols: self.cols,
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }
    /// A shorter-lived view of the same elements.
    pub fn rb(&mut self) -> MatViewMut<'_, T> {
        MatViewMut {
            data: &mut *self.data,
            ..*self
        }
    }
}

/// `c ← alpha·a·b`, or `c ← c + alpha·a·b` when `accumulate`.
///
/// Panics on mismatched shapes (a programming error, not bad data).
pub fn matmul<T: Scalar>(
    c: MatViewMut<'_, T>,
    accumulate: bool,
    a: MatView<'_, T>,
    b: MatView<'_, T>,
    alpha: f64,
) {
    assert!(
        a.rows == c.rows && b.cols == c.cols && a.cols == b.rows,
        "matmul shapes: ({}×{}) = ({}×{})·({}×{})",
        c.rows,
        c.cols,
        a.rows,
        a.cols,
        b.rows,
        b.cols
    );
    T::matmul_views(c, accumulate, a, b, alpha);
}

/// Per-scalar implementation of [`matmul`] (shapes already checked).
pub trait MatmulScalar: Sized {
    /// See [`matmul`].
    fn matmul_views(
        c: MatViewMut<'_, Self>,
        accumulate: bool,
        a: MatView<'_, Self>,
        b: MatView<'_, Self>,
        alpha: f64,
    );
    /// Whether the value is exactly zero (a factor of zeros contributes nothing).
    fn is_zero(&self) -> bool;
    /// Runs `f` on a buffer of `len` values (contents unspecified), reused across calls on
    /// the same thread where the type allows, so hot loops do not fault in fresh pages.
    fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R;
}

/// The same view as faer's.
#[allow(unsafe_code)] // faer's strided views are built from raw parts; see SAFETY
fn as_faer<T>(v: MatView<'_, T>) -> faer::MatRef<'_, T> {
    // SAFETY: `MatView::strided` checked that every addressed element lies inside the borrowed
    // slice, which outlives the returned view.
    unsafe {
        faer::MatRef::from_raw_parts(
            v.data.as_ptr(),
            v.rows,
            v.cols,
            v.row_stride as isize,
            v.col_stride as isize,
        )
    }
}

/// The same mutable view as faer's.
#[allow(unsafe_code)] // as `as_faer`
fn as_faer_mut<T>(v: MatViewMut<'_, T>) -> faer::MatMut<'_, T> {
    // SAFETY: as in `as_faer`; `MatViewMut::strided` also checked that no two elements share a
    // slot, and the view holds the slice's only (exclusive) borrow.
    unsafe {
        faer::MatMut::from_raw_parts_mut(
            v.data.as_mut_ptr(),
            v.rows,
            v.cols,
            v.row_stride as isize,
            v.col_stride as isize,
        )
    }
}

macro_rules! impl_faer_matmul {
    ($t:ty) => {
        impl MatmulScalar for $t {
            fn matmul_views(
                c: MatViewMut<'_, Self>,
                accumulate: bool,
                a: MatView<'_, Self>,
                b: MatView<'_, Self>,
                alpha: f64,
            ) {
                if c.rows == 0 || c.cols == 0 {
                    return;
                }
                if a.cols == 0 {
                    if !accumulate {
                        fill_zero(c);
                    }
                    return;
                }
                let (fa, fb, fc) = (as_faer(a), as_faer(b), as_faer_mut(c));
                let accum = if accumulate {
                    faer::Accum::Add
                } else {
                    faer::Accum::Replace
                };
                faer::linalg::matmul::matmul(fc, accum, fa, fb, alpha as $t, faer::Par::Seq);
                crate::simd::clear_upper_state();
            }
            #[inline(always)]
            fn is_zero(&self) -> bool {
                *self == 0.0
            }
            fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
                thread_local! {
                    static SCRATCH: std::cell::RefCell<Vec<$t>> = const {
                        std::cell::RefCell::new(Vec::new())
                    };
                }
                SCRATCH.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut buf) => {
                        if buf.len() < len {
                            buf.resize(len, 0.0);
                        }
                        f(&mut buf[..len])
                    }
                    // Re-entered from inside `f`: a fresh buffer.
                    Err(_) => f(&mut vec![0.0; len]),
                })
            }
        }
    };
}
impl_faer_matmul!(f32);
impl_faer_matmul!(f64);

fn fill_zero<T: Scalar>(c: MatViewMut<'_, T>) {
    for i in 0..c.rows {
        for j in 0..c.cols {
            c.data[i * c.row_stride + j * c.col_stride] = T::zero();
        }
    }
}

/// A view's elements in memory order: row-major when its rows are further apart than its
/// columns, column-major otherwise, so copies in and out read the source sequentially.
#[derive(Clone, Copy)]
struct Packing {
    rows: usize,
    cols: usize,
    row_major: bool,
}

impl Packing {
    fn of(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> Self {
        Self {
            rows,
            cols,
            row_major: row_stride >= col_stride,
        }
    }
    fn len(&self) -> usize {
        self.rows * self.cols
    }
    /// `(outer, inner)` extents and the source strides along them.
    fn order(&self, row_stride: usize, col_stride: usize) -> ([usize; 2], [usize; 2]) {
        if self.row_major {
            ([self.rows, self.cols], [row_stride, col_stride])
        } else {
            ([self.cols, self.rows], [col_stride, row_stride])
        }
    }
    /// `(row_stride, col_stride)` of the packed buffer.
    fn strides(&self) -> (usize, usize) {
        if self.row_major {
            (self.cols, 1)
        } else {
            (1, self.rows)
        }
    }
    /// The packed buffer as a view with the original shape.
    fn view<'a, T>(&self, data: &'a [T]) -> MatView<'a, T> {
        let (rs, cs) = self.strides();
        MatView::strided(data, self.rows, self.cols, rs, cs)
    }
    fn view_mut<'a, T>(&self, data: &'a mut [T]) -> MatViewMut<'a, T> {
        let (rs, cs) = self.strides();
        MatViewMut::strided(data, self.rows, self.cols, rs, cs)
    }
}

/// Copies the parts of a dual view into packed `re` and `eps` buffers; returns whether any
/// tangent is non-zero.
fn split_parts<T: Scalar>(
    v: &MatView<'_, Dual<T>>,
    p: Packing,
    re: &mut [T],
    eps: &mut [T],
) -> bool {
    let ([outer, inner], [so, si]) = p.order(v.row_stride, v.col_stride);
    let mut tangent = false;
    for o in 0..outer {
        let (re, eps) = (
            &mut re[o * inner..][..inner],
            &mut eps[o * inner..][..inner],
        );
        if si == 1 {
            let src = &v.data[o * so..][..inner];
            for ((r, e), d) in re.iter_mut().zip(eps.iter_mut()).zip(src) {
                (*r, *e) = (d.re, d.eps);
            }
        } else {
            for (n, (r, e)) in re.iter_mut().zip(eps.iter_mut()).enumerate() {
                let d = v.data[o * so + n * si];
                (*r, *e) = (d.re, d.eps);
            }
        }
        tangent = tangent || eps.iter().any(|e| !e.is_zero());
    }
    tangent
}

/// Writes packed `re` and `eps` buffers back into a dual view.
fn join_parts<T: Scalar>(v: &mut MatViewMut<'_, Dual<T>>, p: Packing, re: &[T], eps: &[T]) {
    let ([outer, inner], [so, si]) = p.order(v.row_stride, v.col_stride);
    for o in 0..outer {
        let (re, eps) = (&re[o * inner..][..inner], &eps[o * inner..][..inner]);
        if si == 1 {
            let dst = &mut v.data[o * so..][..inner];
            for ((d, &r), &e) in dst.iter_mut().zip(re).zip(eps) {
                *d = Dual::new(r, e);
            }
        } else {
            for (n, (&r, &e)) in re.iter().zip(eps).enumerate() {
                v.data[o * so + n * si] = Dual::new(r, e);
            }
        }
    }
}

/// The real and tangent parts of a dual operand, packed contiguously.
struct SplitOperand<'a, T> {
    re: MatView<'a, T>,
    eps: Option<MatView<'a, T>>,
}

fn split_operand<'a, T: Scalar>(
    v: &MatView<'_, Dual<T>>,
    buf: &'a mut [T],
) -> (SplitOperand<'a, T>, &'a mut [T]) {
    let p = Packing::of(v.rows, v.cols, v.row_stride, v.col_stride);
    let (re, rest) = buf.split_at_mut(p.len());
    let (eps, rest) = rest.split_at_mut(p.len());
    let tangent = split_parts(v, p, re, eps);
    let operand = SplitOperand {
        re: p.view(re),
        eps: tangent.then(|| p.view(eps)),
    };
    (operand, rest)
}

impl<T: Scalar> MatmulScalar for Dual<T> {
    /// `re = a.re·b.re`, `eps = a.re·b.eps + a.eps·b.re` as real GEMMs on packed copies of
    /// the parts (GEMMs on the interleaved parts in place, at doubled strides, ran ~1.4× slower).
    fn matmul_views(
        mut c: MatViewMut<'_, Self>,
        accumulate: bool,
        a: MatView<'_, Self>,
        b: MatView<'_, Self>,
        alpha: f64,
    ) {
        if c.rows == 0 || c.cols == 0 {
            return;
        }
        let pc = Packing::of(c.rows, c.cols, c.row_stride, c.col_stride);
        let len = 2 * (a.rows * a.cols + b.rows * b.cols + pc.len());
        T::with_scratch(len, |buf| {
            let (a, buf) = split_operand(&a, buf);
            let (b, buf) = split_operand(&b, buf);
            let (c_re, c_eps) = buf.split_at_mut(pc.len());
            if accumulate {
                split_parts(&c.view(), pc, c_re, c_eps);
            }
            T::matmul_views(pc.view_mut(c_re), accumulate, a.re, b.re, alpha);
            let mut acc = accumulate;
            for (x, y) in [(Some(a.re), b.eps), (a.eps, Some(b.re))] {
                if let (Some(x), Some(y)) = (x, y) {
                    T::matmul_views(pc.view_mut(c_eps), acc, x, y, alpha);
                    acc = true;
                }
            }
            if !acc {
                c_eps.fill(T::zero());
            }
            join_parts(&mut c, pc, c_re, c_eps);
        });
    }
    #[inline(always)]
    fn is_zero(&self) -> bool {
        self.re.is_zero() && self.eps.is_zero()
    }
    fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [Self]) -> R) -> R {
        f(&mut vec![Self::zero(); len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook triple loop over the same views.
    fn reference<T: Scalar>(c: &mut [T], acc: bool, a: &[T], b: &[T], dims: [usize; 3], ta: bool) {
        let [m, k, n] = dims;
        for i in 0..m {
            for j in 0..n {
                let mut s = T::zero();
                for p in 0..k {
                    let av = if ta { a[p * m + i] } else { a[i * k + p] };
                    s += av * b[p * n + j];
                }
                let s = s * T::from_f64(0.75);
                c[i * n + j] = if acc { c[i * n + j] + s } else { s };
            }
        }
    }

    fn values(len: usize, seed: u64) -> Vec<f64> {
        (0..len)
            .map(|i| (((i as u64 + 1) * 2654435761 + seed * 97) % 1000) as f64 / 500.0 - 1.0)
            .collect()
    }

    fn check<T: Scalar>(
        dims: [usize; 3],
        ta: bool,
        acc: bool,
        make: impl Fn(f64, f64) -> T,
        flat: impl Fn(&[T]) -> Vec<f64>,
    ) {
        let [m, k, n] = dims;
        let pair = |len: usize, s: u64| -> Vec<T> {
            values(len, s)
                .iter()
                .zip(values(len, s + 7))
                .map(|(&x, y)| make(x, y))
                .collect()
        };
        let (a, b, c0) = (pair(m * k, 1), pair(k * n, 2), pair(m * n, 3));
        let mut expected = c0.clone();
        reference(&mut expected, acc, &a, &b, dims, ta);
        let mut got = c0;
        let av = if ta {
            MatView::row_major(&a, k, m).t()
        } else {
            MatView::row_major(&a, m, k)
        };
        matmul(
            MatViewMut::row_major(&mut got, m, n),
            acc,
            av,
            MatView::row_major(&b, k, n),
            0.75,
        );
        let scale = k.max(1) as f64;
        for (g, e) in flat(&got).iter().zip(flat(&expected)) {
            assert!((g - e).abs() <= 1e-5 * scale, "{g} vs {e}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn matches_the_triple_loop(m in 0usize..40, k in 0usize..20, n in 0usize..40,
                                   ta: bool, acc: bool) {
            let dims = [m, k, n];
            check(dims, ta, acc, |x, _| x, |v: &[f64]| v.to_vec());
            check(dims, ta, acc, |x, _| x as f32, |v: &[f32]| v.iter().map(|&x| x.into()).collect());
            let parts = |v: &[Dual<f64>]| Dual::as_parts(v).to_vec();
            check(dims, ta, acc, Dual::new, parts);
            check(dims, ta, acc, |x, _| Dual::constant(x), parts);
        }
    }

    #[test]
    fn dual_parts_are_interleaved() {
        let x = [Dual::new(1.0, 2.0), Dual::new(3.0, 4.0)];
        assert_eq!(Dual::as_parts(&x), &[1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    #[should_panic(expected = "exceeds")]
    fn a_view_past_its_slice_is_refused() {
        let _ = MatView::row_major(&[1.0, 2.0, 3.0], 2, 2);
    }
}
