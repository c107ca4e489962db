//! Units of MLFF data: energies in kcal/mol, eV or meV, lengths in Å or bohr, forces in
//! energy per length. One definition shared by every crate (datasets, metrics, reports), with
//! conversion factors from the exact 2019 SI constants. Conversion is always an explicit call.
//!
//! ```
//! use mlff_units::EnergyUnit;
//! let mev = 2.0 * EnergyUnit::KcalPerMol.factor_to(EnergyUnit::MilliElectronVolt);
//! assert!((mev - 86.728_208).abs() < 1e-5);
//! assert_eq!("eV".parse::<EnergyUnit>(), Ok(EnergyUnit::ElectronVolt));
//! ```

use serde::{Deserialize, Serialize};
use std::fmt;

/// Electronvolts per kcal/mol: 4184 J / (N_A · e), exact with the 2019 SI constants.
pub const EV_PER_KCAL_MOL: f64 = 0.043_364_104_241_800_934;

/// Ångström per bohr (CODATA 2018).
pub const ANGSTROM_PER_BOHR: f64 = 0.529_177_210_903;

/// Unit of energies (forces are in this unit per length unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyUnit {
    /// kcal/mol: the MD17 family's unit.
    KcalPerMol,
    /// Electronvolt: ASE's and nequip's usual unit.
    ElectronVolt,
    /// Millielectronvolt: the unit papers report errors in.
    MilliElectronVolt,
}

impl EnergyUnit {
    /// The size of one of this unit in eV.
    pub fn in_ev(self) -> f64 {
        match self {
            EnergyUnit::KcalPerMol => EV_PER_KCAL_MOL,
            EnergyUnit::ElectronVolt => 1.0,
            EnergyUnit::MilliElectronVolt => 1e-3,
        }
    }

    /// Factor that converts a value in `self` to a value in `to`.
    pub fn factor_to(self, to: EnergyUnit) -> f64 {
        if self == to {
            1.0
        } else {
            self.in_ev() / to.in_ev()
        }
    }

    /// The conventional symbol, e.g. `kcal/mol`.
    pub fn symbol(self) -> &'static str {
        match self {
            EnergyUnit::KcalPerMol => "kcal/mol",
            EnergyUnit::ElectronVolt => "eV",
            EnergyUnit::MilliElectronVolt => "meV",
        }
    }

    /// The force unit per Å, e.g. `meV/Å`.
    pub fn force_symbol(self) -> &'static str {
        match self {
            EnergyUnit::KcalPerMol => "kcal/mol/Å",
            EnergyUnit::ElectronVolt => "eV/Å",
            EnergyUnit::MilliElectronVolt => "meV/Å",
        }
    }

    /// Parses a symbol as written in files, JSON and on the command line (`kcal/mol`, `eV`,
    /// `meV`, and spellings such as `kcal_per_mol`, `electron_volt`); `None` if unknown.
    pub fn parse(text: &str) -> Option<Self> {
        match text
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' '], "_")
            .as_str()
        {
            "kcal/mol" | "kcal_mol" | "kcalmol" | "kcal_per_mol" => Some(EnergyUnit::KcalPerMol),
            "ev" | "electronvolt" | "electron_volt" => Some(EnergyUnit::ElectronVolt),
            "mev" | "millielectronvolt" | "milli_electron_volt" => {
                Some(EnergyUnit::MilliElectronVolt)
            }
            _ => None,
        }
    }
}

/// A unit name that is not one of kcal/mol, eV, meV.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown energy unit `{0}`: expected kcal/mol, eV or meV")]
pub struct UnknownUnit(pub String);

impl std::str::FromStr for EnergyUnit {
    type Err = UnknownUnit;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        EnergyUnit::parse(text).ok_or_else(|| UnknownUnit(text.to_owned()))
    }
}

impl fmt::Display for EnergyUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Unit of lengths (positions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthUnit {
    /// Ångström: every format this crate reads uses it.
    Angstrom,
    /// Bohr radius: some quantum-chemistry outputs.
    Bohr,
}

impl LengthUnit {
    /// The size of one of this unit in Å.
    pub fn in_angstrom(self) -> f64 {
        match self {
            LengthUnit::Angstrom => 1.0,
            LengthUnit::Bohr => ANGSTROM_PER_BOHR,
        }
    }

    /// Factor that converts a value in `self` to a value in `to`.
    pub fn factor_to(self, to: LengthUnit) -> f64 {
        if self == to {
            1.0
        } else {
            self.in_angstrom() / to.in_angstrom()
        }
    }

    /// The conventional symbol, e.g. `Å`.
    pub fn symbol(self) -> &'static str {
        match self {
            LengthUnit::Angstrom => "Å",
            LengthUnit::Bohr => "bohr",
        }
    }
}

/// The units of one dataset: energies in `energy`, positions in `length`, forces in `energy/length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Units {
    /// Unit of energies.
    pub energy: EnergyUnit,
    /// Unit of positions.
    pub length: LengthUnit,
}

impl Units {
    /// kcal/mol and Å, the MD17 family's units.
    pub const KCAL_MOL_ANGSTROM: Units = Units {
        energy: EnergyUnit::KcalPerMol,
        length: LengthUnit::Angstrom,
    };
    /// eV and Å, ASE's units.
    pub const EV_ANGSTROM: Units = Units {
        energy: EnergyUnit::ElectronVolt,
        length: LengthUnit::Angstrom,
    };
}

impl Default for Units {
    fn default() -> Self {
        Units::KCAL_MOL_ANGSTROM
    }
}

impl fmt::Display for Units {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "energy {e}, positions {l}, forces {e}/{l}",
            e = self.energy.symbol(),
            l = self.length.symbol()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kcal_to_ev_matches_the_thermochemical_calorie() {
        let f = EnergyUnit::KcalPerMol.factor_to(EnergyUnit::ElectronVolt);
        // 4184 J / (6.02214076e23 * 1.602176634e-19 J)
        let expected = 4184.0 / (6.022_140_76e23 * 1.602_176_634e-19);
        assert!((f - expected).abs() < 1e-15, "{f} vs {expected}");
        assert!(
            (EnergyUnit::KcalPerMol.factor_to(EnergyUnit::MilliElectronVolt) - 43.364_104).abs()
                < 1e-6
        );
    }

    #[test]
    fn conversions_are_inverse() {
        for a in [
            EnergyUnit::KcalPerMol,
            EnergyUnit::ElectronVolt,
            EnergyUnit::MilliElectronVolt,
        ] {
            for b in [
                EnergyUnit::KcalPerMol,
                EnergyUnit::ElectronVolt,
                EnergyUnit::MilliElectronVolt,
            ] {
                assert!((a.factor_to(b) * b.factor_to(a) - 1.0).abs() < 1e-14);
            }
        }
        assert!(
            (LengthUnit::Bohr.factor_to(LengthUnit::Angstrom) - ANGSTROM_PER_BOHR).abs() < 1e-15
        );
    }

    #[test]
    fn parses_common_spellings() {
        assert_eq!(EnergyUnit::parse("kcal/mol"), Some(EnergyUnit::KcalPerMol));
        assert_eq!(EnergyUnit::parse("eV"), Some(EnergyUnit::ElectronVolt));
        assert_eq!(
            EnergyUnit::parse("meV"),
            Some(EnergyUnit::MilliElectronVolt)
        );
        assert_eq!(EnergyUnit::parse("hartree"), None);
        assert_eq!(
            EnergyUnit::parse("kcal_per_mol"),
            Some(EnergyUnit::KcalPerMol)
        );
        assert_eq!(
            EnergyUnit::parse("milli_electron_volt"),
            Some(EnergyUnit::MilliElectronVolt)
        );
        assert!(
            "Hartree"
                .parse::<EnergyUnit>()
                .unwrap_err()
                .to_string()
                .contains("Hartree")
        );
    }
}
