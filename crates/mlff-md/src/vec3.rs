//! Minimal 3-vector arithmetic on `[f64; 3]`, the coordinate type of the crate.

/// A Cartesian 3-vector (Å, Å/fs or kcal/mol/Å depending on context).
pub type Vec3 = [f64; 3];

#[inline]
pub(crate) fn sub(a: Vec3, b: Vec3) -> Vec3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

#[inline]
pub(crate) fn scale(a: Vec3, s: f64) -> Vec3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

#[inline]
pub(crate) fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[inline]
pub(crate) fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

#[inline]
pub(crate) fn norm(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

/// `acc -= s * a` (forces are minus the gradient, accumulated in place).
#[inline]
pub(crate) fn sub_scaled(acc: &mut Vec3, a: Vec3, s: f64) {
    acc[0] -= s * a[0];
    acc[1] -= s * a[1];
    acc[2] -= s * a[2];
}
