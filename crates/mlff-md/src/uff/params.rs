//! UFF atomic parameters (Rappé et al., JACS 114, 10024 (1992), Table 1) for H, C, N, O,
//! and the parameter-combination rules RDKit uses.

/// Per-atom-type UFF parameters (only the columns the energy uses).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AtomicParams {
    /// Valence bond radius r_i, Å.
    pub r1: f64,
    /// Natural valence angle θ0, radians.
    pub theta0: f64,
    /// van der Waals distance x_i, Å.
    pub x1: f64,
    /// van der Waals well depth D_i, kcal/mol.
    pub d1: f64,
    /// Effective charge Z_i.
    pub z1: f64,
    /// sp3 torsional barrier V_i, kcal/mol.
    pub v1: f64,
    /// sp2 torsional barrier U_i, kcal/mol.
    pub u1: f64,
    /// GMP electronegativity χ_i.
    pub gmp_xi: f64,
}

/// Bond-order correction scale λ of the rest length.
pub const LAMBDA: f64 = 0.1332;
/// Force-constant prefactor G (kcal·Å/mol per e²).
pub const G: f64 = 332.06;

/// Builds parameters from a row of the published table: r1, θ0 (degrees), x1, D1, Z1, V1, U1, χ.
const fn p(row: [f64; 8]) -> AtomicParams {
    let [r1, theta0_deg, x1, d1, z1, v1, u1, gmp_xi] = row;
    AtomicParams {
        r1,
        theta0: theta0_deg * std::f64::consts::PI / 180.0,
        x1,
        d1,
        z1,
        v1,
        u1,
        gmp_xi,
    }
}

/// Parameters of a UFF atom type label (`H_`, `C_3`, `C_R`, `C_2`, `C_1`, `N_*`, `O_*`).
pub fn atomic_params(label: &str) -> Option<AtomicParams> {
    Some(match label {
        "H_" => p([0.354, 180.0, 2.886, 0.044, 0.712, 0.0, 0.0, 4.528]),
        "C_3" => p([0.757, 109.47, 3.851, 0.105, 1.912, 2.119, 2.0, 5.343]),
        "C_R" => p([0.729, 120.0, 3.851, 0.105, 1.912, 0.0, 2.0, 5.343]),
        "C_2" => p([0.732, 120.0, 3.851, 0.105, 1.912, 0.0, 2.0, 5.343]),
        "C_1" => p([0.706, 180.0, 3.851, 0.105, 1.912, 0.0, 2.0, 5.343]),
        "N_3" => p([0.700, 106.7, 3.660, 0.069, 2.544, 0.45, 2.0, 6.899]),
        "N_R" => p([0.699, 120.0, 3.660, 0.069, 2.544, 0.0, 2.0, 6.899]),
        "N_2" => p([0.685, 111.2, 3.660, 0.069, 2.544, 0.0, 2.0, 6.899]),
        "N_1" => p([0.656, 180.0, 3.660, 0.069, 2.544, 0.0, 2.0, 6.899]),
        "O_3" => p([0.658, 104.51, 3.500, 0.060, 2.300, 0.018, 2.0, 8.741]),
        "O_R" => p([0.680, 110.0, 3.500, 0.060, 2.300, 0.0, 2.0, 8.741]),
        "O_2" => p([0.634, 120.0, 3.500, 0.060, 2.300, 0.0, 2.0, 8.741]),
        "O_1" => p([0.639, 180.0, 3.500, 0.060, 2.300, 0.0, 2.0, 8.741]),
        _ => return None,
    })
}

/// Rest length of a bond: r_i + r_j + r_BO − r_EN (bond-order and electronegativity corrections).
pub fn bond_rest_length(order: f64, a: &AtomicParams, b: &AtomicParams) -> f64 {
    let (ri, rj) = (a.r1, b.r1);
    let r_bo = -LAMBDA * (ri + rj) * order.ln();
    let (xi, xj) = (a.gmp_xi, b.gmp_xi);
    let d = xi.sqrt() - xj.sqrt();
    let r_en = ri * rj * d * d / (xi * ri + xj * rj);
    ri + rj + r_bo - r_en
}

/// Bond force constant k_ij = 2 G Z_i Z_j / r_ij³ (energy ½ k (r − r0)²).
pub fn bond_force_constant(rest_length: f64, a: &AtomicParams, b: &AtomicParams) -> f64 {
    2.0 * G * a.z1 * b.z1 / rest_length.powi(3)
}

/// Angle force constant K_ijk for central-atom natural angle `theta0` (radians).
pub fn angle_force_constant(
    theta0: f64,
    order12: f64,
    order23: f64,
    a: &AtomicParams,
    centre: &AtomicParams,
    c: &AtomicParams,
) -> f64 {
    let cos0 = theta0.cos();
    let r12 = bond_rest_length(order12, a, centre);
    let r23 = bond_rest_length(order23, centre, c);
    let r13 = (r12 * r12 + r23 * r23 - 2.0 * r12 * r23 * cos0).sqrt();
    let beta = 2.0 * G / (r12 * r23);
    let prefactor = beta * a.z1 * c.z1 / r13.powi(5);
    let r_term = r12 * r23;
    let inner = 3.0 * r_term * (1.0 - cos0 * cos0) - r13 * r13 * cos0;
    prefactor * r_term * inner
}

/// The sp2–sp2 torsion barrier (Rappé eq. 17): 5 √(U_j U_k) (1 + 4.18 ln BO).
pub fn sp2_torsion_barrier(order: f64, a: &AtomicParams, b: &AtomicParams) -> f64 {
    5.0 * (a.u1 * b.u1).sqrt() * (1.0 + 4.18 * order.ln())
}
