//! Units and physical constants: lengths in Å, time in fs, masses in amu (Da), energies in kcal/mol.

/// Boltzmann constant in kcal/(mol·K) (molar gas constant R = 8.314462618 J/(mol·K) / 4184).
pub const BOLTZMANN_KCAL_PER_MOL_K: f64 = 8.314_462_618 / 4184.0;

/// Molar mass of one dalton in kg/mol (CODATA 2018: N_A · 1 Da).
const KG_PER_MOL_PER_DALTON: f64 = 0.999_999_999_65e-3;

/// Acceleration in Å/fs² produced by a force of 1 kcal/(mol·Å) acting on 1 amu.
///
/// 1 kcal/mol/Å / 1 Da = 4184 J/mol / (1e-10 m · 1e-3 kg/mol) = 4.184e16 m/s² = 4.184e-4 Å/fs².
pub const ACCELERATION_PER_FORCE_OVER_MASS: f64 = 4184.0 / KG_PER_MOL_PER_DALTON * 1e10 * 1e-20;

/// Converts m v² in amu·Å²/fs² to kcal/mol.
pub const KCAL_PER_MOL_PER_AMU_A2_FS2: f64 = 1.0 / ACCELERATION_PER_FORCE_OVER_MASS;

/// kcal/mol in one electronvolt (1 eV · N_A / 4184 J).
pub const KCAL_PER_MOL_PER_EV: f64 = 1.602_176_634e-19 * 6.022_140_76e23 / 4184.0;

/// Femtoseconds per picosecond.
pub const FS_PER_PS: f64 = 1000.0;

/// Standard atomic weight (amu) of the supported elements, by atomic number.
pub fn atomic_mass(atomic_number: u8) -> Option<f64> {
    match atomic_number {
        1 => Some(1.008),
        6 => Some(12.011),
        7 => Some(14.007),
        8 => Some(15.999),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_textbook_values() {
        assert!((BOLTZMANN_KCAL_PER_MOL_K - 0.001_987_204).abs() < 1e-9);
        assert!((ACCELERATION_PER_FORCE_OVER_MASS - 4.184e-4).abs() < 1e-12);
        assert!((KCAL_PER_MOL_PER_EV - 23.060_548).abs() < 1e-5);
        assert_eq!(atomic_mass(2), None);
    }
}
