//! Energy units; forces are energy per ångström in the same unit.

use serde::{Deserialize, Serialize};

/// 1 kcal/mol in eV (CODATA-based value used by ASE: 1 kcal/mol = 43.3641043 meV).
pub const KCAL_PER_MOL_IN_EV: f64 = 0.043_364_104_3;

/// An energy unit; the matching force unit is this unit per ångström.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyUnit {
    /// kcal/mol (MD17 / rMD17 files).
    KcalPerMol,
    /// Electronvolt.
    ElectronVolt,
    /// Millielectronvolt (how NequIP papers report rMD17 errors).
    MilliElectronVolt,
}

impl EnergyUnit {
    /// Size of one of this unit in eV.
    pub fn in_ev(self) -> f64 {
        match self {
            EnergyUnit::KcalPerMol => KCAL_PER_MOL_IN_EV,
            EnergyUnit::ElectronVolt => 1.0,
            EnergyUnit::MilliElectronVolt => 1e-3,
        }
    }

    /// Factor that converts a value in `self` into `target` (energy or force alike).
    pub fn factor_to(self, target: EnergyUnit) -> f64 {
        if self == target {
            1.0
        } else {
            self.in_ev() / target.in_ev()
        }
    }

    /// Energy unit symbol, e.g. `meV`.
    pub fn energy_symbol(self) -> &'static str {
        match self {
            EnergyUnit::KcalPerMol => "kcal/mol",
            EnergyUnit::ElectronVolt => "eV",
            EnergyUnit::MilliElectronVolt => "meV",
        }
    }

    /// Force unit symbol, e.g. `meV/Å`.
    pub fn force_symbol(self) -> &'static str {
        match self {
            EnergyUnit::KcalPerMol => "kcal/mol/Å",
            EnergyUnit::ElectronVolt => "eV/Å",
            EnergyUnit::MilliElectronVolt => "meV/Å",
        }
    }
}

impl std::fmt::Display for EnergyUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.energy_symbol())
    }
}

impl std::str::FromStr for EnergyUnit {
    type Err = crate::error::MetricsError;

    /// Parses `kcal/mol`, `eV` or `meV` (also `kcal_per_mol`, `electron_volt`,
    /// `milli_electron_volt`, as written in JSON).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "kcal/mol" | "kcal_per_mol" => Ok(EnergyUnit::KcalPerMol),
            "eV" | "electron_volt" => Ok(EnergyUnit::ElectronVolt),
            "meV" | "milli_electron_volt" => Ok(EnergyUnit::MilliElectronVolt),
            other => Err(crate::error::MetricsError::InvalidParameter {
                what: "energy unit".into(),
                reason: format!("`{other}` is not one of kcal/mol, eV, meV"),
            }),
        }
    }
}
