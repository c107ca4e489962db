//! The scalar abstraction every kernel is generic over: `f32`, `f64` and [`Dual`] numbers.
//!
//! Kernels only use the operations of [`Scalar`], so running a forward+backward pass over
//! `Dual<f64>` yields, in the tangent parts, the directional derivative of every output and
//! gradient (forward-over-reverse), which is how a force loss gets its mixed second derivative.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::lanes::{DualTile, LaneTile};

/// A real number type the equivariant kernels can compute with.
pub trait Scalar:
    Copy
    + Send
    + Sync
    + Debug
    + Default
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Sum
    + crate::matmul::MatmulScalar
{
    /// The kernels' tile of `W` lanes of this scalar.
    type Tile<const W: usize>: LaneTile<Self, W>;
    /// Real numbers per value (2 for duals: value and tangent), which sizes the kernels' tiles.
    const PARTS: usize = 1;
    /// Converts a constant (rounding for `f32`; zero tangent for duals).
    fn from_f64(x: f64) -> Self;
    /// The primal value as `f64` (for comparisons and branch decisions).
    fn value(self) -> f64;
    /// Additive identity.
    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    /// Multiplicative identity.
    fn one() -> Self {
        Self::from_f64(1.0)
    }
    /// Square root.
    fn sqrt(self) -> Self;
    /// Exponential.
    fn exp(self) -> Self;
    /// `x ← e^x` for every element (vectorised for `f32`/`f64`).
    fn exp_in_place(xs: &mut [Self]) {
        xs.iter_mut().for_each(|x| *x = x.exp());
    }
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Integer power.
    fn powi(self, n: i32) -> Self;
    /// Whether the value (and any tangent) is finite.
    fn is_finite(self) -> bool;
    /// `self · a + b` rounded once (per part, for duals). A single instruction only in code
    /// compiled with FMA (`crate::simd::Isa::Avx2Fma`); elsewhere a slow library call, so only
    /// the kernels instantiated for that set use it.
    fn mul_add_fused(self, a: Self, b: Self) -> Self;
}

macro_rules! impl_float_scalar {
    ($t:ty, $vexp:path) => {
        impl Scalar for $t {
            type Tile<const W: usize> = [$t; W];
            #[inline(always)]
            fn mul_add_fused(self, a: Self, b: Self) -> Self {
                self.mul_add(a, b)
            }
            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn value(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            fn exp_in_place(xs: &mut [Self]) {
                $vexp(xs)
            }
            #[inline(always)]
            fn sin(self) -> Self {
                <$t>::sin(self)
            }
            #[inline(always)]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline(always)]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
        }
    };
}
impl_float_scalar!(f32, crate::vector_exp::exp_f32);
impl_float_scalar!(f64, crate::vector_exp::exp_f64);

/// A forward-mode dual number `re + eps·ε` with `ε² = 0`.
///
/// `eps` carries the derivative along one chosen direction; nesting (`Dual<Dual<f64>>`) gives
/// higher derivatives.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)] // `re`, `eps` adjacent and unpadded: a dual slice is a scalar slice of twice the length
pub struct Dual<T> {
    /// Primal value.
    pub re: T,
    /// Tangent (directional derivative).
    pub eps: T,
}

impl<T: Scalar> Dual<T> {
    /// A dual number with the given value and tangent.
    pub fn new(re: T, eps: T) -> Self {
        Self { re, eps }
    }
    /// A constant (zero tangent).
    pub fn constant(re: T) -> Self {
        Self { re, eps: T::zero() }
    }
    /// Applies a scalar function with known derivative `df` at `self.re`.
    /// The slice as its interleaved parts `[re₀, eps₀, re₁, eps₁, …]`.
    #[allow(unsafe_code)] // a layout reinterpretation the GEMM dispatch needs; see SAFETY
    pub fn as_parts(x: &[Self]) -> &[T] {
        // SAFETY: `Dual<T>` is `repr(C)` with two fields of the same type `T`, so it has the
        // size and alignment of `[T; 2]` and no padding.
        unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<T>(), 2 * x.len()) }
    }
    /// Mutable [`Dual::as_parts`].
    #[allow(unsafe_code)] // as `as_parts`
    pub fn as_parts_mut(x: &mut [Self]) -> &mut [T] {
        // SAFETY: as in `as_parts`; the borrow is exclusive.
        unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<T>(), 2 * x.len()) }
    }
    #[inline(always)]
    fn chain(self, f: T, df: T) -> Self {
        Self {
            re: f,
            eps: df * self.eps,
        }
    }
}

impl<T: Scalar> Add for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Self::new(self.re + o.re, self.eps + o.eps)
    }
}
impl<T: Scalar> Sub for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        Self::new(self.re - o.re, self.eps - o.eps)
    }
}
impl<T: Scalar> Mul for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        Self::new(self.re * o.re, self.re * o.eps + self.eps * o.re)
    }
}
impl<T: Scalar> Div for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let q = self.re / o.re;
        Self::new(q, (self.eps - q * o.eps) / o.re)
    }
}
impl<T: Scalar> Neg for Dual<T> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        Self::new(-self.re, -self.eps)
    }
}
impl<T: Scalar> AddAssign for Dual<T> {
    #[inline(always)]
    fn add_assign(&mut self, o: Self) {
        *self = *self + o;
    }
}
impl<T: Scalar> SubAssign for Dual<T> {
    #[inline(always)]
    fn sub_assign(&mut self, o: Self) {
        *self = *self - o;
    }
}
impl<T: Scalar> MulAssign for Dual<T> {
    #[inline(always)]
    fn mul_assign(&mut self, o: Self) {
        *self = *self * o;
    }
}
impl<T: Scalar> Sum for Dual<T> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| a + b)
    }
}

impl<T: Scalar> Scalar for Dual<T> {
    type Tile<const W: usize> = DualTile<T, W>;
    const PARTS: usize = 2 * T::PARTS;
    fn from_f64(x: f64) -> Self {
        Self::constant(T::from_f64(x))
    }
    fn value(self) -> f64 {
        self.re.value()
    }
    fn sqrt(self) -> Self {
        let s = self.re.sqrt();
        self.chain(s, T::from_f64(0.5) / s)
    }
    fn exp(self) -> Self {
        let e = self.re.exp();
        self.chain(e, e)
    }
    fn exp_in_place(xs: &mut [Self]) {
        // The real parts through the (vectorised) scalar exp, then the chain rule.
        let mut e: Vec<T> = xs.iter().map(|d| d.re).collect();
        T::exp_in_place(&mut e);
        for (d, e) in xs.iter_mut().zip(e) {
            *d = Self::new(e, e * d.eps);
        }
    }
    fn sin(self) -> Self {
        self.chain(self.re.sin(), self.re.cos())
    }
    fn cos(self) -> Self {
        self.chain(self.re.cos(), -self.re.sin())
    }
    fn tanh(self) -> Self {
        let t = self.re.tanh();
        self.chain(t, T::one() - t * t)
    }
    fn powi(self, n: i32) -> Self {
        if n == 0 {
            return Self::one();
        }
        self.chain(
            self.re.powi(n),
            T::from_f64(f64::from(n)) * self.re.powi(n - 1),
        )
    }
    fn is_finite(self) -> bool {
        self.re.is_finite() && self.eps.is_finite()
    }
    #[inline(always)]
    fn mul_add_fused(self, a: Self, b: Self) -> Self {
        Self::new(
            self.re.mul_add_fused(a.re, b.re),
            self.re
                .mul_add_fused(a.eps, self.eps.mul_add_fused(a.re, b.eps)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dual_exp_in_place_is_the_elementwise_exp() {
        let xs: Vec<Dual<f64>> = (0..40)
            .map(|i| Dual::new(i as f64 * 0.37 - 7.0, 1.0 - i as f64 * 0.05))
            .collect();
        let mut got = xs.clone();
        Dual::exp_in_place(&mut got);
        for (g, x) in got.iter().zip(&xs) {
            let e = x.exp();
            assert!((g.re - e.re).abs() <= 4e-16 * e.re.abs(), "{g:?} vs {e:?}");
            assert!(
                (g.eps - e.eps).abs() <= 4e-16 * e.eps.abs().max(1e-300),
                "{g:?} vs {e:?}"
            );
        }
    }

    #[test]
    fn dual_derivatives_match_calculus() {
        let x = Dual::new(0.7_f64, 1.0);
        let y = (x.sin() * x.exp() + x.tanh() / x.sqrt()).powi(3);
        let f = |t: f64| (t.sin() * t.exp() + t.tanh() / t.sqrt()).powi(3);
        let h = 1e-5;
        let fd = (f(0.7 + h) - f(0.7 - h)) / (2.0 * h);
        assert!((y.re - f(0.7)).abs() < 1e-14);
        assert!((y.eps - fd).abs() < 1e-8 * fd.abs().max(1.0));
    }
}
