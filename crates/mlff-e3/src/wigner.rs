//! Wigner 3j symbols and Wigner D matrices in e3nn's real basis, for any degree.
//!
//! Both are computed, not tabulated, the way e3nn defines them: the complex (SU(2))
//! Clebsch–Gordan coefficients from Racah's formula, or the complex D matrix
//! `e^{iαJz} e^{-iβJy} e^{iγJz}` from Wigner's small-d formula, are taken to the real basis
//! with e3nn's change of basis `Q_l` (`change_basis_real_to_complex`, including its `(-i)^l`
//! phase). Rotations follow e3nn's angle convention `R = Y(α) X(β) Y(γ)`.

use std::ops::{Add, Mul};

use crate::error::{E3Error, Result};
use crate::irreps::Irreps;

/// Minimal complex number for the change of basis (only used while building tables).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Complex {
    re: f64,
    im: f64,
}

impl Complex {
    const ZERO: Complex = Complex { re: 0.0, im: 0.0 };
    fn new(re: f64, im: f64) -> Self {
        Self { re, im }
    }
    fn conj(self) -> Self {
        Self::new(self.re, -self.im)
    }
    fn expi(phase: f64) -> Self {
        Self::new(phase.cos(), phase.sin())
    }
    fn scale(self, s: f64) -> Self {
        Self::new(self.re * s, self.im * s)
    }
}
impl Add for Complex {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self::new(self.re + o.re, self.im + o.im)
    }
}
impl Mul for Complex {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Self::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

fn factorial(n: i64) -> f64 {
    (2..=n).map(|k| k as f64).product()
}

/// e3nn's real→complex change of basis `Q_l` (`(2l+1)²`, row-major, rows: complex `m`).
fn change_basis_real_to_complex(l: i64) -> Vec<Complex> {
    let d = (2 * l + 1) as usize;
    let mut q = vec![Complex::ZERO; d * d];
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let at = |m: i64, col: i64| ((l + m) as usize) * d + col as usize;
    for m in -l..0 {
        q[at(m, l + m.abs())] = Complex::new(h, 0.0);
        q[at(m, l - m.abs())] = Complex::new(0.0, -h);
    }
    q[at(0, l)] = Complex::new(1.0, 0.0);
    for m in 1..=l {
        let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
        q[at(m, l + m)] = Complex::new(sign * h, 0.0);
        q[at(m, l - m)] = Complex::new(0.0, sign * h);
    }
    // (-i)^l makes the real-basis Clebsch–Gordan coefficients real.
    let phase = [
        Complex::new(1.0, 0.0),
        Complex::new(0.0, -1.0),
        Complex::new(-1.0, 0.0),
        Complex::new(0.0, 1.0),
    ][(l % 4) as usize];
    q.iter().map(|&z| z * phase).collect()
}

/// SU(2) Clebsch–Gordan coefficient ⟨j1 m1 j2 m2 | j3 m3⟩ (Racah's formula, integer j).
fn su2_clebsch_gordan(j1: i64, m1: i64, j2: i64, m2: i64, j3: i64, m3: i64) -> f64 {
    if m3 != m1 + m2 || m1.abs() > j1 || m2.abs() > j2 || m3.abs() > j3 {
        return 0.0;
    }
    let vmin = (-j1 + j2 + m3).max(-j1 + m1).max(0);
    let vmax = (j2 + j3 + m1).min(j3 - j1 + j2).min(j3 + m3);
    let f = factorial;
    let prefactor = ((2 * j3 + 1) as f64 * f(j3 + j1 - j2) * f(j3 - j1 + j2) * f(j1 + j2 - j3)
        / f(j1 + j2 + j3 + 1)
        * f(j3 + m3)
        * f(j3 - m3)
        / (f(j1 - m1) * f(j1 + m1) * f(j2 - m2) * f(j2 + m2)))
    .sqrt();
    let sum: f64 = (vmin..=vmax)
        .map(|v| {
            let sign = if (v + j2 + m2) % 2 == 0 { 1.0 } else { -1.0 };
            sign * f(j2 + j3 + m1 - v) * f(j1 - m1 + v)
                / (f(v) * f(j3 - j1 + j2 - v) * f(j3 + m3 - v) * f(v + j1 - j2 - m3))
        })
        .sum();
    prefactor * sum
}

/// Whether `l3` can couple `l1 ⊗ l2` (triangle inequality).
pub fn triangle(l1: u32, l2: u32, l3: u32) -> bool {
    l1.abs_diff(l2) <= l3 && l3 <= l1 + l2
}

/// Wigner 3j tensor `C[i,j,k]` (`(2l1+1)×(2l2+1)×(2l3+1)`, row-major) in e3nn's real basis,
/// Frobenius norm 1, invariant: `C = C ×₁ D¹ ×₂ D² ×₃ D³` for every rotation.
pub fn wigner_3j(l1: u32, l2: u32, l3: u32) -> Result<Vec<f64>> {
    if !triangle(l1, l2, l3) {
        return Err(E3Error::InvalidParameter {
            what: "wigner_3j degrees",
            reason: format!("({l1}, {l2}, {l3}) violates the triangle inequality"),
        });
    }
    let (l1, l2, l3) = (i64::from(l1), i64::from(l2), i64::from(l3));
    let (d1, d2, d3) = (
        (2 * l1 + 1) as usize,
        (2 * l2 + 1) as usize,
        (2 * l3 + 1) as usize,
    );
    let (q1, q2, q3) = (
        change_basis_real_to_complex(l1),
        change_basis_real_to_complex(l2),
        change_basis_real_to_complex(l3),
    );
    // C_real[j,l,m] = Σ_{i,k,n} Q1[i,j] Q2[k,l] conj(Q3[n,m]) CG[i,k,n]; Q is sparse and CG
    // vanishes unless n = i + k, so iterate over (i, k) and the non-zero Q entries.
    let mut c = vec![Complex::ZERO; d1 * d2 * d3];
    for m1 in -l1..=l1 {
        for m2 in -l2..=l2 {
            let m3 = m1 + m2;
            let cg = su2_clebsch_gordan(l1, m1, l2, m2, l3, m3);
            if cg == 0.0 {
                continue;
            }
            let (i, k, n) = ((l1 + m1) as usize, (l2 + m2) as usize, (l3 + m3) as usize);
            for j in 0..d1 {
                let a = q1[i * d1 + j];
                if a == Complex::ZERO {
                    continue;
                }
                for l in 0..d2 {
                    let b = q2[k * d2 + l];
                    if b == Complex::ZERO {
                        continue;
                    }
                    for m in 0..d3 {
                        let e = q3[n * d3 + m].conj();
                        if e != Complex::ZERO {
                            let idx = (j * d2 + l) * d3 + m;
                            c[idx] = c[idx] + (a * b * e).scale(cg);
                        }
                    }
                }
            }
        }
    }
    let norm = c.iter().map(|z| z.re * z.re).sum::<f64>().sqrt();
    Ok(c.iter().map(|z| z.re / norm).collect())
}

/// Wigner's small-d matrix element `d^l_{m'm}(β) = ⟨l m'| e^{-iβJy} |l m⟩`.
fn small_d(l: i64, mp: i64, m: i64, beta: f64) -> f64 {
    let (c, s) = ((beta / 2.0).cos(), (beta / 2.0).sin());
    let f = factorial;
    let pre = (f(l + mp) * f(l - mp) * f(l + m) * f(l - m)).sqrt();
    let smin = (m - mp).max(0);
    let smax = (l + m).min(l - mp);
    (smin..=smax)
        .map(|k| {
            let sign = if (mp - m + k) % 2 == 0 { 1.0 } else { -1.0 };
            sign * c.powi((2 * l + m - mp - 2 * k) as i32) * s.powi((mp - m + 2 * k) as i32)
                / (f(l + m - k) * f(k) * f(mp - m + k) * f(l - mp - k))
        })
        .sum::<f64>()
        * pre
}

/// Wigner D matrix of degree `l` (`(2l+1)²`, row-major) for e3nn's Euler angles: rotation by
/// `γ` about y, then `β` about x, then `α` about y (`R = Y(α) X(β) Y(γ)`), in e3nn's real basis.
pub fn wigner_d_from_angles(l: u32, alpha: f64, beta: f64, gamma: f64) -> Vec<f64> {
    let l = i64::from(l);
    let d = (2 * l + 1) as usize;
    let q = change_basis_real_to_complex(l);
    // Complex D in the |m⟩ basis: diag(e^{i m α}) d(β) diag(e^{i m γ}).
    let mut dc = vec![Complex::ZERO; d * d];
    for mp in -l..=l {
        for m in -l..=l {
            let phase = Complex::expi(mp as f64 * alpha + m as f64 * gamma);
            dc[(l + mp) as usize * d + (l + m) as usize] = phase.scale(small_d(l, mp, m, beta));
        }
    }
    // D_real = Q† D_c Q
    let mut tmp = vec![Complex::ZERO; d * d];
    for i in 0..d {
        for k in 0..d {
            let a = dc[i * d + k];
            for j in 0..d {
                tmp[i * d + j] = tmp[i * d + j] + a * q[k * d + j];
            }
        }
    }
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            out[i * d + j] = (0..d)
                .map(|k| (q[k * d + i].conj() * tmp[k * d + j]).re)
                .sum();
        }
    }
    out
}

/// A 3×3 matrix, row-major.
pub type Matrix3 = [[f64; 3]; 3];

fn matmul3(a: &Matrix3, b: &Matrix3) -> Matrix3 {
    let mut c = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            c[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    c
}

/// Rotation about the x axis.
pub fn matrix_x(angle: f64) -> Matrix3 {
    let (s, c) = angle.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]
}

/// Rotation about the y axis.
pub fn matrix_y(angle: f64) -> Matrix3 {
    let (s, c) = angle.sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

/// e3nn's `angles_to_matrix`: `Y(α) X(β) Y(γ)`.
pub fn angles_to_matrix(alpha: f64, beta: f64, gamma: f64) -> Matrix3 {
    matmul3(
        &matmul3(&matrix_y(alpha), &matrix_x(beta)),
        &matrix_y(gamma),
    )
}

/// e3nn's `matrix_to_angles` for a proper rotation (determinant +1).
pub fn matrix_to_angles(r: &Matrix3) -> (f64, f64, f64) {
    // The image of e_y fixes (α, β); the remaining rotation about y gives γ.
    let y = [r[0][1], r[1][1], r[2][1]];
    let n = (y[0] * y[0] + y[1] * y[1] + y[2] * y[2]).sqrt();
    let beta = (y[1] / n).clamp(-1.0, 1.0).acos();
    let alpha = y[0].atan2(y[2]);
    let a = angles_to_matrix(alpha, beta, 0.0);
    let at = [
        [a[0][0], a[1][0], a[2][0]],
        [a[0][1], a[1][1], a[2][1]],
        [a[0][2], a[1][2], a[2][2]],
    ];
    let rest = matmul3(&at, r);
    (alpha, beta, rest[0][2].atan2(rest[0][0]))
}

/// Determinant of a 3×3 matrix.
pub fn det3(r: &Matrix3) -> f64 {
    r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1])
        - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
        + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0])
}

fn check_orthogonal(q: &Matrix3) -> Result<f64> {
    let qtq = matmul3(
        &[
            [q[0][0], q[1][0], q[2][0]],
            [q[0][1], q[1][1], q[2][1]],
            [q[0][2], q[1][2], q[2][2]],
        ],
        q,
    );
    let err = (0..3)
        .flat_map(|i| (0..3).map(move |j| (i, j)))
        .map(|(i, j)| (qtq[i][j] - if i == j { 1.0 } else { 0.0 }).abs())
        .fold(0.0, f64::max);
    if !err.is_finite() || err > 1e-8 {
        return Err(E3Error::InvalidParameter {
            what: "rotation matrix",
            reason: format!("not orthogonal (max |QᵀQ - I| = {err:e})"),
        });
    }
    Ok(det3(q).signum())
}

/// Wigner D matrix of degree `l` for an orthogonal matrix `q` (rotation or rotoreflection),
/// *without* the parity factor: `D^l(det(q)·q)`. See [`irreps_d`] for full O(3) irreps.
pub fn wigner_d_from_matrix(l: u32, q: &Matrix3) -> Result<Vec<f64>> {
    let det = check_orthogonal(q)?;
    let r = q.map(|row| row.map(|v| v * det));
    let (a, b, c) = matrix_to_angles(&r);
    Ok(wigner_d_from_angles(l, a, b, c))
}

/// Block-diagonal representation matrix (`dim×dim`, row-major) of the orthogonal matrix `q` on
/// `irreps`: each copy of `(l, p)` transforms with `p^k D^l(R)`, `q = (-1)^k R`.
pub fn irreps_d(irreps: &Irreps, q: &Matrix3) -> Result<Vec<f64>> {
    let det = check_orthogonal(q)?;
    let dim = irreps.dim();
    let mut out = vec![0.0; dim * dim];
    let mut offset = 0;
    for block in irreps {
        let d = wigner_d_from_matrix(block.ir.l, q)?;
        let sign = if det < 0.0 {
            block.ir.inversion_sign()
        } else {
            1.0
        };
        let n = block.ir.dim();
        for _ in 0..block.mul {
            for i in 0..n {
                for j in 0..n {
                    out[(offset + i) * dim + offset + j] = sign * d[i * n + j];
                }
            }
            offset += n;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_angles_roundtrip() {
        let (a, b, c) = (0.3, 1.1, -2.0);
        let r = angles_to_matrix(a, b, c);
        let (a2, b2, c2) = matrix_to_angles(&r);
        let r2 = angles_to_matrix(a2, b2, c2);
        for i in 0..3 {
            for j in 0..3 {
                assert!((r[i][j] - r2[i][j]).abs() < 1e-13);
            }
        }
    }

    #[test]
    fn non_orthogonal_matrix_is_rejected() {
        let q = [[1.0, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert!(wigner_d_from_matrix(1, &q).is_err());
        assert!(wigner_3j(1, 1, 3).is_err());
    }
}
