//! The five UFF energy terms as RDKit evaluates them, each with its exact analytic gradient.
//!
//! Every kernel returns its energy (kcal/mol) and subtracts its gradient from `forces`.
//! Angles, torsions and inversions are written as functions of a cosine, so the chain rule
//! goes through ∂cos/∂r and never divides by a vanishing sine.

use crate::vec3::{Vec3, cross, dot, norm, scale, sub, sub_scaled};

/// Harmonic bond stretch ½ k (r − r0)².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BondTerm {
    /// First atom.
    pub i: usize,
    /// Second atom.
    pub j: usize,
    /// Force constant, kcal/mol/Å².
    pub kb: f64,
    /// Rest length, Å.
    pub r0: f64,
}

/// Angle bend i–j–k (j central): Fourier series in θ (`order` 0) or 1 − cos(nθ) (`order` n).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AngleTerm {
    /// First outer atom.
    pub i: usize,
    /// Central atom.
    pub j: usize,
    /// Second outer atom.
    pub k: usize,
    /// Force constant, kcal/mol.
    pub ka: f64,
    /// Natural angle, radians.
    pub theta0: f64,
    /// 0: general (C0 + C1 cos θ + C2 cos 2θ); 1, 2, 3, 4: linear, square, trigonal, octahedral.
    pub order: u8,
    /// Fourier coefficients for `order` 0.
    pub c: [f64; 3],
}

/// Torsion i–j–k–l about the j–k bond: V/2 (1 − cos(nφ0) cos(nφ)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TorsionTerm {
    /// Atoms in chain order.
    pub atoms: [usize; 4],
    /// Barrier V, already divided by the number of torsions about the bond, kcal/mol.
    pub v: f64,
    /// Periodicity n (2, 3 or 6).
    pub n: u8,
    /// cos(nφ0): ±1.
    pub cos_term: f64,
}

/// Inversion (out-of-plane) at centre `j` for out-of-plane atom `l`: K (C0 + C1 sin Y + C2 cos 2W).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InversionTerm {
    /// In-plane neighbour.
    pub i: usize,
    /// Central atom.
    pub j: usize,
    /// In-plane neighbour.
    pub k: usize,
    /// Out-of-plane neighbour.
    pub l: usize,
    /// Force constant (total/3), kcal/mol.
    pub k_force: f64,
    /// Coefficients C0, C1, C2.
    pub c: [f64; 3],
}

/// Lennard-Jones 12-6 van der Waals D ((x/r)¹² − 2 (x/r)⁶), zero beyond `cutoff`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VdwTerm {
    /// First atom.
    pub i: usize,
    /// Second atom.
    pub j: usize,
    /// Minimum-energy distance x_ij, Å.
    pub x: f64,
    /// Well depth D_ij, kcal/mol.
    pub d: f64,
    /// RDKit's evaluation threshold (10 x_ij), Å.
    pub cutoff: f64,
}

/// RDKit's `isDoubleZero` tolerance.
const ZERO: f64 = 1e-10;
/// RDKit adds a repulsive correction for non-zero angle orders below 30° (cos θ > 0.8660).
const ANGLE_CORRECTION_THRESHOLD: f64 = 0.8660;

#[inline]
fn clip_to_one(x: f64) -> f64 {
    x.clamp(-1.0, 1.0)
}

/// Gradient of cos∠(u, v) with respect to u, given the unit vectors and |u|.
#[inline]
fn dcos_du(u_hat: Vec3, v_hat: Vec3, cos: f64, u_len: f64) -> Vec3 {
    scale(sub(v_hat, scale(u_hat, cos)), 1.0 / u_len)
}

impl BondTerm {
    /// Energy; subtracts the gradient from `forces`.
    #[inline]
    pub fn eval(&self, pos: &[Vec3], forces: &mut [Vec3]) -> f64 {
        let d = sub(pos[self.i], pos[self.j]);
        let r = norm(d);
        let dr = r - self.r0;
        if r > 0.0 {
            let g = scale(d, self.kb * dr / r);
            sub_scaled(&mut forces[self.i], g, 1.0);
            sub_scaled(&mut forces[self.j], g, -1.0);
        }
        0.5 * self.kb * dr * dr
    }
}

impl AngleTerm {
    /// Energy term (without ka) and its derivative with respect to cos θ.
    #[inline]
    fn term_and_derivative(&self, c: f64) -> (f64, f64) {
        match self.order {
            0 => {
                let [c0, c1, c2] = self.c;
                (c0 + c1 * c + c2 * (2.0 * c * c - 1.0), c1 + 4.0 * c2 * c)
            }
            1 => (1.0 + c, 1.0),
            2 => ((1.0 - (2.0 * c * c - 1.0)) / 4.0, -c),
            3 => (
                (1.0 - (4.0 * c * c * c - 3.0 * c)) / 9.0,
                -(12.0 * c * c - 3.0) / 9.0,
            ),
            _ => {
                let c2 = c * c;
                (
                    (1.0 - (8.0 * c2 * c2 - 8.0 * c2 + 1.0)) / 16.0,
                    -(32.0 * c2 * c - 16.0 * c) / 16.0,
                )
            }
        }
    }

    /// Energy; subtracts the gradient from `forces`.
    #[inline]
    pub fn eval(&self, pos: &[Vec3], forces: &mut [Vec3]) -> f64 {
        let a = sub(pos[self.i], pos[self.j]);
        let b = sub(pos[self.k], pos[self.j]);
        let (la, lb) = (norm(a), norm(b));
        let (ua, ub) = (scale(a, 1.0 / la), scale(b, 1.0 / lb));
        let raw = dot(ua, ub);
        let c = clip_to_one(raw);
        let (term, dterm) = self.term_and_derivative(c);
        let mut energy = self.ka * term;
        let mut de_dcos = self.ka * dterm;
        if self.order > 0 && c > ANGLE_CORRECTION_THRESHOLD {
            let theta = c.acos();
            let corr = (-20.0 * (theta - self.theta0 + 0.25)).exp();
            energy += corr;
            // d/dcos of exp(-20(θ - θ0 + 1/4)) with dθ/dcos = -1/sin θ.
            de_dcos += 20.0 * corr / (1.0 - c * c).sqrt();
        }
        if raw.abs() < 1.0 {
            let ga = dcos_du(ua, ub, c, la);
            let gb = dcos_du(ub, ua, c, lb);
            sub_scaled(&mut forces[self.i], ga, de_dcos);
            sub_scaled(&mut forces[self.k], gb, de_dcos);
            sub_scaled(&mut forces[self.j], ga, -de_dcos);
            sub_scaled(&mut forces[self.j], gb, -de_dcos);
        }
        energy
    }
}

impl TorsionTerm {
    /// cos(nφ) and its derivative with respect to cos φ.
    #[inline]
    fn cos_n(&self, c: f64) -> (f64, f64) {
        let c2 = c * c;
        match self.n {
            2 => (2.0 * c2 - 1.0, 4.0 * c),
            3 => (4.0 * c2 * c - 3.0 * c, 12.0 * c2 - 3.0),
            _ => (
                32.0 * c2 * c2 * c2 - 48.0 * c2 * c2 + 18.0 * c2 - 1.0,
                192.0 * c2 * c2 * c - 192.0 * c2 * c + 36.0 * c,
            ),
        }
    }

    /// Energy; subtracts the gradient from `forces`.
    #[inline]
    pub fn eval(&self, pos: &[Vec3], forces: &mut [Vec3]) -> f64 {
        let [i, j, k, l] = self.atoms;
        let r1 = sub(pos[i], pos[j]);
        let r2 = sub(pos[k], pos[j]);
        let r3 = scale(r2, -1.0);
        let r4 = sub(pos[l], pos[k]);
        let t1 = cross(r1, r2);
        let t2 = cross(r3, r4);
        let (d1, d2) = (norm(t1), norm(t2));
        if d1 < ZERO || d2 < ZERO {
            // RDKit treats a degenerate dihedral as cos φ = 0 (no force).
            let (cn, _) = self.cos_n(0.0);
            return self.v / 2.0 * (1.0 - self.cos_term * cn);
        }
        let (u1, u2) = (scale(t1, 1.0 / d1), scale(t2, 1.0 / d2));
        let raw = dot(u1, u2);
        let c = clip_to_one(raw);
        let (cn, dcn) = self.cos_n(c);
        let energy = self.v / 2.0 * (1.0 - self.cos_term * cn);
        if raw.abs() >= 1.0 {
            return energy;
        }
        let de_dcos = -self.v / 2.0 * self.cos_term * dcn;
        let g1 = scale(dcos_du(u1, u2, c, d1), de_dcos);
        let g2 = scale(dcos_du(u2, u1, c, d2), de_dcos);
        // t1 = r1 × r2, t2 = r3 × r4 with r3 = −r2.
        let dr1 = cross(r2, g1);
        let dr2 = cross(g1, r1);
        let dr3 = cross(r4, g2);
        let dr4 = cross(g2, r3);
        sub_scaled(&mut forces[i], dr1, 1.0);
        let fj = [
            -dr1[0] - dr2[0] + dr3[0],
            -dr1[1] - dr2[1] + dr3[1],
            -dr1[2] - dr2[2] + dr3[2],
        ];
        sub_scaled(&mut forces[j], fj, 1.0);
        let fk = [
            dr2[0] - dr3[0] - dr4[0],
            dr2[1] - dr3[1] - dr4[1],
            dr2[2] - dr3[2] - dr4[2],
        ];
        sub_scaled(&mut forces[k], fk, 1.0);
        sub_scaled(&mut forces[l], dr4, 1.0);
        energy
    }
}

impl InversionTerm {
    /// Energy; subtracts the gradient from `forces`.
    #[inline]
    pub fn eval(&self, pos: &[Vec3], forces: &mut [Vec3]) -> f64 {
        let [c0, c1, c2] = self.c;
        let a = sub(pos[self.i], pos[self.j]);
        let b = sub(pos[self.k], pos[self.j]);
        let l = sub(pos[self.l], pos[self.j]);
        let m = cross(a, b);
        let (mm, ll) = (norm(m), norm(l));
        if dot(a, a) < 1e-16 || dot(b, b) < 1e-16 || ll * ll < 1e-16 || mm < 1e-16 {
            // RDKit: degenerate geometry → cos Y = 0.
            return self.k_force * (c0 + c1 + c2);
        }
        let t = dot(m, l);
        let cos_y = clip_to_one(t / (mm * ll));
        let sin_y_sq = 1.0 - cos_y * cos_y;
        let sin_y = if sin_y_sq > 0.0 { sin_y_sq.sqrt() } else { 0.0 };
        let cos_2w = 2.0 * sin_y * sin_y - 1.0;
        let energy = self.k_force * (c0 + c1 * sin_y + c2 * cos_2w);
        // dE/dcosY; sin Y → 0 (out-of-plane atom along the normal) is unphysical, floor it.
        let de_dcos = self.k_force * (-c1 * cos_y / sin_y.max(1e-8) - 4.0 * c2 * cos_y);
        let inv = 1.0 / (mm * ll);
        let tm = t / (mm * mm * mm * ll);
        // ∂|m|/∂a = (b × m)/|m|, ∂|m|/∂b = (m × a)/|m|; the |m| divisor is folded into tm.
        let ga = sub(scale(cross(b, l), inv), scale(cross(b, m), tm));
        let gb = sub(scale(cross(l, a), inv), scale(cross(m, a), tm));
        let gl = sub(scale(m, inv), scale(l, t * inv / (ll * ll)));
        sub_scaled(&mut forces[self.i], ga, de_dcos);
        sub_scaled(&mut forces[self.k], gb, de_dcos);
        sub_scaled(&mut forces[self.l], gl, de_dcos);
        let gj = [
            -(ga[0] + gb[0] + gl[0]),
            -(ga[1] + gb[1] + gl[1]),
            -(ga[2] + gb[2] + gl[2]),
        ];
        sub_scaled(&mut forces[self.j], gj, de_dcos);
        energy
    }
}

impl VdwTerm {
    /// Energy; subtracts the gradient from `forces`.
    #[inline]
    pub fn eval(&self, pos: &[Vec3], forces: &mut [Vec3]) -> f64 {
        let d = sub(pos[self.i], pos[self.j]);
        let r2 = dot(d, d);
        if r2 > self.cutoff * self.cutoff || r2 <= 0.0 {
            return 0.0;
        }
        let s2 = self.x * self.x / r2;
        let s6 = s2 * s2 * s2;
        let s12 = s6 * s6;
        // dE/dr · 1/r = D (−12 s¹² + 12 s⁶) / r².
        let g = scale(d, 12.0 * self.d * (s6 - s12) / r2);
        sub_scaled(&mut forces[self.i], g, 1.0);
        sub_scaled(&mut forces[self.j], g, -1.0);
        self.d * (s12 - 2.0 * s6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_angle_correction_has_exact_gradient() {
        // A trigonal (order 3) angle squeezed to 25°, inside RDKit's θ < 30° correction.
        let term = AngleTerm {
            i: 0,
            j: 1,
            k: 2,
            ka: 200.0,
            theta0: 120f64.to_radians(),
            order: 3,
            c: [0.0; 3],
        };
        let t = 25f64.to_radians();
        let pos = vec![
            [1.3, 0.1, 0.0],
            [0.0, 0.0, 0.05],
            [1.4 * t.cos(), 1.4 * t.sin(), 0.2],
        ];
        let mut f = vec![[0.0; 3]; 3];
        let e0 = term.eval(&pos, &mut f);
        assert!(e0 > 0.0);
        let h = 1e-6;
        for a in 0..3 {
            for c in 0..3 {
                let mut p = pos.clone();
                let mut scratch = vec![[0.0; 3]; 3];
                p[a][c] += h;
                let ep = term.eval(&p, &mut scratch);
                p[a][c] -= 2.0 * h;
                let em = term.eval(&p, &mut scratch);
                let numeric = -(ep - em) / (2.0 * h);
                assert!(
                    (numeric - f[a][c]).abs() < 1e-6 * (1.0 + numeric.abs()),
                    "{a} {c}"
                );
            }
        }
    }
}
