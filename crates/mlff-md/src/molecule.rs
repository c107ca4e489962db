//! Molecule descriptions: elements, hybridization, bonds with orders, a starting geometry.
//!
//! The ten rMD17 molecules are embedded (`data/molecules/*.json` at the workspace root), so
//! nothing has to be downloaded. The JSON format, one object per molecule:
//!
//! ```json
//! {"name": "ethanol", "smiles": "CCO",
//!  "atoms": [{"element": "C", "hybridization": "sp3", "position": [0.92, -0.07, 0.07]}, ...],
//!  "bonds": [[0, 1, 1.0], ...]}
//! ```
//!
//! `hybridization` (`sp`, `sp2`, `sp3`; absent for H), `aromatic` and `conjugated` (default
//! false) follow RDKit's perception, which is what UFF atom typing needs. Bond orders are 1,
//! 1.5 (aromatic), 2 or 3.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use crate::error::{MdError, Result};
use crate::units::atomic_mass;
use crate::vec3::Vec3;

/// A chemical element supported by the crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Element {
    /// Hydrogen.
    H,
    /// Carbon.
    C,
    /// Nitrogen.
    N,
    /// Oxygen.
    O,
}

impl Element {
    /// Parses an element symbol (case-sensitive, e.g. `"C"`).
    pub fn from_symbol(symbol: &str) -> Option<Self> {
        match symbol {
            "H" => Some(Self::H),
            "C" => Some(Self::C),
            "N" => Some(Self::N),
            "O" => Some(Self::O),
            _ => None,
        }
    }

    /// The element with this atomic number.
    pub fn from_atomic_number(z: u8) -> Option<Self> {
        match z {
            1 => Some(Self::H),
            6 => Some(Self::C),
            7 => Some(Self::N),
            8 => Some(Self::O),
            _ => None,
        }
    }

    /// Atomic number.
    pub fn atomic_number(self) -> u8 {
        match self {
            Self::H => 1,
            Self::C => 6,
            Self::N => 7,
            Self::O => 8,
        }
    }

    /// Element symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::H => "H",
            Self::C => "C",
            Self::N => "N",
            Self::O => "O",
        }
    }

    /// Standard atomic weight in amu.
    pub fn mass(self) -> f64 {
        atomic_mass(self.atomic_number()).unwrap_or(f64::NAN)
    }
}

/// Orbital hybridization of an atom (RDKit's perception).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hybridization {
    /// No hybridization (hydrogen).
    #[serde(alias = "s")]
    Unspecified,
    /// sp (linear).
    Sp,
    /// sp2 (trigonal).
    Sp2,
    /// sp3 (tetrahedral).
    Sp3,
}

impl std::fmt::Display for Hybridization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unspecified => "unspecified",
            Self::Sp => "sp",
            Self::Sp2 => "sp2",
            Self::Sp3 => "sp3",
        })
    }
}

/// One atom of a molecule description.
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// Element.
    pub element: Element,
    /// Hybridization.
    pub hybridization: Hybridization,
    /// Member of an aromatic ring.
    pub aromatic: bool,
    /// Has at least one conjugated bond (RDKit's `atomHasConjugatedBond`).
    pub conjugated: bool,
    /// Starting position, Å.
    pub position: Vec3,
}

/// A covalent bond between atoms `i` and `j` with a bond order (1, 1.5, 2, 3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bond {
    /// First atom.
    pub i: usize,
    /// Second atom.
    pub j: usize,
    /// Bond order; 1.5 for aromatic bonds.
    pub order: f64,
}

/// A molecule: atoms, bonds and a starting geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Molecule {
    /// Name (e.g. `aspirin`).
    pub name: String,
    /// Atoms in file order.
    pub atoms: Vec<Atom>,
    /// Bonds.
    pub bonds: Vec<Bond>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtomRecord {
    element: String,
    #[serde(default = "unspecified")]
    hybridization: Hybridization,
    #[serde(default)]
    aromatic: bool,
    #[serde(default)]
    conjugated: bool,
    position: [f64; 3],
}

fn unspecified() -> Hybridization {
    Hybridization::Unspecified
}

#[derive(Deserialize)]
struct MoleculeRecord {
    name: String,
    atoms: Vec<AtomRecord>,
    bonds: Vec<(usize, usize, f64)>,
}

/// Names of the ten embedded rMD17 molecules.
pub const BUILTIN_MOLECULES: [&str; 10] = [
    "aspirin",
    "azobenzene",
    "benzene",
    "ethanol",
    "malonaldehyde",
    "naphthalene",
    "paracetamol",
    "salicylic_acid",
    "toluene",
    "uracil",
];

macro_rules! embedded {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/molecules/",
            $name,
            ".json"
        ))
    };
}

fn builtin_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "aspirin" => embedded!("aspirin"),
        "azobenzene" => embedded!("azobenzene"),
        "benzene" => embedded!("benzene"),
        "ethanol" => embedded!("ethanol"),
        "malonaldehyde" => embedded!("malonaldehyde"),
        "naphthalene" => embedded!("naphthalene"),
        "paracetamol" => embedded!("paracetamol"),
        "salicylic_acid" => embedded!("salicylic_acid"),
        "toluene" => embedded!("toluene"),
        "uracil" => embedded!("uracil"),
        _ => return None,
    })
}

impl Molecule {
    /// One of the ten embedded rMD17 molecules ([`BUILTIN_MOLECULES`]); `salicylic` is
    /// accepted for `salicylic_acid` (rMD17's file name).
    pub fn builtin(name: &str) -> Result<Self> {
        let canonical = if name == "salicylic" {
            "salicylic_acid"
        } else {
            name
        };
        let text = builtin_text(canonical).ok_or_else(|| MdError::UnknownMolecule {
            name: name.to_string(),
            known: BUILTIN_MOLECULES.join(", "),
        })?;
        Self::from_json_str(text, canonical)
    }

    /// Reads a description file (JSON, format in the module docs).
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| MdError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_str(&text, &path.display().to_string())
    }

    /// Parses and validates a description; `source_name` only labels errors.
    pub fn from_json_str(text: &str, source_name: &str) -> Result<Self> {
        let format_error = |message: String| MdError::MoleculeFormat {
            source_name: source_name.to_string(),
            message,
        };
        let record: MoleculeRecord =
            serde_json::from_str(text).map_err(|e| format_error(e.to_string()))?;
        if record.atoms.is_empty() {
            return Err(format_error("no atoms".into()));
        }
        let mut atoms = Vec::with_capacity(record.atoms.len());
        for (index, a) in record.atoms.into_iter().enumerate() {
            let element = Element::from_symbol(&a.element).ok_or(MdError::UnknownElement {
                index,
                element: a.element.clone(),
            })?;
            if a.position.iter().any(|x| !x.is_finite()) {
                return Err(format_error(format!("atom {index}: non-finite position")));
            }
            atoms.push(Atom {
                element,
                hybridization: a.hybridization,
                aromatic: a.aromatic,
                conjugated: a.conjugated,
                position: a.position,
            });
        }
        let mut seen = HashSet::new();
        let mut bonds = Vec::with_capacity(record.bonds.len());
        for (index, (i, j, order)) in record.bonds.into_iter().enumerate() {
            if i >= atoms.len() || j >= atoms.len() || i == j {
                return Err(format_error(format!(
                    "bond {index}: atoms ({i}, {j}) invalid for {} atoms",
                    atoms.len()
                )));
            }
            if ![1.0, 1.5, 2.0, 3.0].contains(&order) {
                return Err(format_error(format!(
                    "bond {index} ({i}-{j}): bond order {order} is not 1, 1.5, 2 or 3"
                )));
            }
            if !seen.insert((i.min(j), i.max(j))) {
                return Err(format_error(format!("bond {index} ({i}-{j}) listed twice")));
            }
            bonds.push(Bond { i, j, order });
        }
        Ok(Self {
            name: record.name,
            atoms,
            bonds,
        })
    }

    /// Number of atoms.
    pub fn n_atoms(&self) -> usize {
        self.atoms.len()
    }

    /// Atomic numbers in atom order.
    pub fn atomic_numbers(&self) -> Vec<u8> {
        self.atoms
            .iter()
            .map(|a| a.element.atomic_number())
            .collect()
    }

    /// Starting geometry, Å.
    pub fn positions(&self) -> Vec<Vec3> {
        self.atoms.iter().map(|a| a.position).collect()
    }

    /// Atomic masses, amu.
    pub fn masses(&self) -> Vec<f64> {
        self.atoms.iter().map(|a| a.element.mass()).collect()
    }

    /// Bonded atom pairs `(i, j)`.
    pub fn bond_pairs(&self) -> Vec<(usize, usize)> {
        self.bonds.iter().map(|b| (b.i, b.j)).collect()
    }

    /// Neighbour lists in bond order (atom → bonded atoms).
    pub fn neighbours(&self) -> Vec<Vec<usize>> {
        let mut nbrs = vec![Vec::new(); self.atoms.len()];
        for b in &self.bonds {
            nbrs[b.i].push(b.j);
            nbrs[b.j].push(b.i);
        }
        nbrs
    }

    /// Order of the bond between `i` and `j`, if bonded.
    pub fn bond_order(&self, i: usize, j: usize) -> Option<f64> {
        self.bonds
            .iter()
            .find(|b| (b.i == i && b.j == j) || (b.i == j && b.j == i))
            .map(|b| b.order)
    }
}

/// Covalent radius (Å, Cordero et al. 2008) of a supported element.
fn covalent_radius(element: Element) -> f64 {
    match element {
        Element::H => 0.31,
        Element::C => 0.76,
        Element::N => 0.71,
        Element::O => 0.66,
    }
}

/// Bond lengths up to this multiple of the summed covalent radii count as bonds.
pub const BOND_TOLERANCE: f64 = 1.25;

/// Bonded pairs `(i, j)`, i < j, perceived from a geometry: d_ij < 1.25 (r_i + r_j) with
/// covalent radii. For stability analysis of models whose atom order differs from the
/// embedded descriptions (e.g. trained on real rMD17 files).
pub fn bonds_from_geometry(
    atomic_numbers: &[u8],
    positions: &[Vec3],
) -> Result<Vec<(usize, usize)>> {
    if atomic_numbers.len() != positions.len() {
        return Err(MdError::ShapeMismatch {
            what: "positions vs atomic numbers".into(),
            expected: atomic_numbers.len(),
            got: positions.len(),
        });
    }
    let elements = atomic_numbers
        .iter()
        .enumerate()
        .map(|(index, &z)| {
            Element::from_atomic_number(z).ok_or(MdError::UnknownElement {
                index,
                element: z.to_string(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut bonds = Vec::new();
    for i in 0..positions.len() {
        for j in i + 1..positions.len() {
            let limit =
                BOND_TOLERANCE * (covalent_radius(elements[i]) + covalent_radius(elements[j]));
            if crate::vec3::norm(crate::vec3::sub(positions[i], positions[j])) < limit {
                bonds.push((i, j));
            }
        }
    }
    Ok(bonds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_builtins_load_with_expected_sizes() {
        let sizes = [21, 24, 12, 9, 9, 18, 20, 16, 15, 12];
        for (name, n) in BUILTIN_MOLECULES.iter().zip(sizes) {
            let m = Molecule::builtin(name).unwrap();
            assert_eq!(m.n_atoms(), n, "{name}");
            assert_eq!(&m.name, name);
        }
        assert!(matches!(
            Molecule::builtin("caffeine"),
            Err(MdError::UnknownMolecule { .. })
        ));
    }

    #[test]
    fn perceived_bonds_equal_the_described_ones() {
        for name in BUILTIN_MOLECULES {
            let m = Molecule::builtin(name).unwrap();
            let mut described: Vec<(usize, usize)> = m
                .bonds
                .iter()
                .map(|b| (b.i.min(b.j), b.i.max(b.j)))
                .collect();
            described.sort_unstable();
            let perceived = bonds_from_geometry(&m.atomic_numbers(), &m.positions()).unwrap();
            assert_eq!(perceived, described, "{name}");
        }
        assert!(bonds_from_geometry(&[26], &[[0.0; 3]]).is_err());
        assert!(bonds_from_geometry(&[1, 1], &[[0.0; 3]]).is_err());
    }

    #[test]
    fn bad_descriptions_are_typed_errors() {
        let atom = r#"{"element": "C", "hybridization": "sp3", "position": [0, 0, 0]}"#;
        let bad_element =
            r#"{"name": "x", "atoms": [{"element": "Fe", "position": [0, 0, 0]}], "bonds": []}"#;
        assert!(matches!(
            Molecule::from_json_str(bad_element, "t"),
            Err(MdError::UnknownElement { index: 0, .. })
        ));
        let bad_bond = format!(r#"{{"name": "x", "atoms": [{atom}], "bonds": [[0, 3, 1.0]]}}"#);
        assert!(matches!(
            Molecule::from_json_str(&bad_bond, "t"),
            Err(MdError::MoleculeFormat { .. })
        ));
        let bad_order =
            format!(r#"{{"name": "x", "atoms": [{atom}, {atom}], "bonds": [[0, 1, 1.7]]}}"#);
        assert!(Molecule::from_json_str(&bad_order, "t").is_err());
        let empty = r#"{"name": "x", "atoms": [], "bonds": []}"#;
        assert!(Molecule::from_json_str(empty, "t").is_err());
        assert!(Molecule::from_json_str("{", "t").is_err());
    }
}
