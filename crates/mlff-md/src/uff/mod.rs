//! The universal force field (UFF) exactly as RDKit builds and evaluates it.
//!
//! Atom typing, term selection and parameters follow RDKit's `UFF::Tools` builder and
//! `ForceField/UFF` contributions (read, not copied): bond stretch with bond-order and
//! electronegativity corrections; angle bend as a Fourier series (sp3 and other centres) or
//! `(1 − cos 3θ)/9` (sp2 centres) / `1 + cos θ` (sp) with RDKit's small-angle correction;
//! torsions about every bond between non-terminal sp2/sp3 atoms, each barrier divided by the
//! number of torsions about that bond; three inversions per sp2 C/N/O centre of degree 3;
//! Lennard-Jones 12-6 between atoms three or more bonds apart (1-4 pairs unscaled). No
//! electrostatics, as in RDKit.

mod params;
mod terms;

pub use params::{AtomicParams, atomic_params};
pub use terms::{AngleTerm, BondTerm, InversionTerm, TorsionTerm, VdwTerm};

use std::collections::VecDeque;

use crate::error::{MdError, Result};
use crate::molecule::{Element, Hybridization, Molecule};
use crate::potential::{Potential, check_frame};
use crate::vec3::{Vec3, norm, sub};

/// RDKit's default `vdwThresh`: pairs farther than this × x_ij in the construction geometry
/// get no van der Waals term.
const VDW_CONSTRUCTION_MULTIPLIER: f64 = 100.0;
/// RDKit's `vdWContrib` evaluation threshold multiplier (zero energy beyond 10 x_ij).
const VDW_EVALUATION_MULTIPLIER: f64 = 10.0;

/// The UFF atom type label of an atom (RDKit's `getAtomLabel` for H, C, N, O).
pub fn uff_atom_type(molecule: &Molecule, index: usize) -> Result<&'static str> {
    let atom = &molecule.atoms[index];
    let missing = || MdError::MissingUffParameters {
        index,
        element: atom.element.symbol().to_string(),
        hybridization: atom.hybridization.to_string(),
    };
    let resonant = atom.aromatic || atom.conjugated;
    Ok(match (atom.element, atom.hybridization) {
        (Element::H, _) => "H_",
        (Element::C, Hybridization::Sp3) => "C_3",
        (Element::C, Hybridization::Sp2) if resonant => "C_R",
        (Element::C, Hybridization::Sp2) => "C_2",
        (Element::C, Hybridization::Sp) => "C_1",
        (Element::N, Hybridization::Sp3) => "N_3",
        (Element::N, Hybridization::Sp2) if resonant => "N_R",
        (Element::N, Hybridization::Sp2) => "N_2",
        (Element::N, Hybridization::Sp) => "N_1",
        (Element::O, Hybridization::Sp3) => "O_3",
        (Element::O, Hybridization::Sp2) if resonant => "O_R",
        (Element::O, Hybridization::Sp2) => "O_2",
        (Element::O, Hybridization::Sp) => "O_1",
        _ => return Err(missing()),
    })
}

/// UFF for one molecule: the full list of RDKit's energy terms with their parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct UffPotential {
    n_atoms: usize,
    /// UFF atom type label per atom.
    pub atom_types: Vec<&'static str>,
    /// Bond-stretch terms, in bond order of the description.
    pub bonds: Vec<BondTerm>,
    /// Angle-bend terms.
    pub angles: Vec<AngleTerm>,
    /// Torsion terms.
    pub torsions: Vec<TorsionTerm>,
    /// Inversion terms (three per sp2 centre).
    pub inversions: Vec<InversionTerm>,
    /// van der Waals pairs.
    pub vdw: Vec<VdwTerm>,
}

/// UFF energy split by term kind, kcal/mol.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct UffEnergyParts {
    /// Bond stretch.
    pub bond: f64,
    /// Angle bend.
    pub angle: f64,
    /// Torsion.
    pub torsion: f64,
    /// Inversion.
    pub inversion: f64,
    /// van der Waals.
    pub vdw: f64,
}

impl UffEnergyParts {
    /// Sum of all parts.
    pub fn total(&self) -> f64 {
        self.bond + self.angle + self.torsion + self.inversion + self.vdw
    }
}

/// Topological distance (number of bonds, `u32::MAX` if disconnected) between all atom pairs.
fn bond_path_lengths(neighbours: &[Vec<usize>]) -> Vec<Vec<u32>> {
    let n = neighbours.len();
    let mut all = vec![vec![u32::MAX; n]; n];
    let mut queue = VecDeque::new();
    for (start, dist) in all.iter_mut().enumerate() {
        dist[start] = 0;
        queue.push_back(start);
        while let Some(a) = queue.pop_front() {
            for &b in &neighbours[a] {
                if dist[b] == u32::MAX {
                    dist[b] = dist[a] + 1;
                    queue.push_back(b);
                }
            }
        }
    }
    all
}

/// RDKit gives sp2 atoms in 3- and 4-membered rings special angle terms that are not
/// implemented here; refuse such molecules instead of computing a different energy.
fn reject_small_sp2_rings(molecule: &Molecule, nbrs: &[Vec<usize>]) -> Result<()> {
    for (j, around) in nbrs.iter().enumerate() {
        if molecule.atoms[j].hybridization != Hybridization::Sp2 {
            continue;
        }
        for (a, &i) in around.iter().enumerate() {
            for &k in &around[a + 1..] {
                let three = nbrs[i].contains(&k);
                let four = nbrs[i].iter().any(|&m| m != j && nbrs[k].contains(&m));
                if three || four {
                    return Err(MdError::UnsupportedTopology {
                        index: j,
                        reason: "sp2 atom in a 3- or 4-membered ring (RDKit special angle terms)"
                            .into(),
                    });
                }
            }
        }
    }
    Ok(())
}

impl UffPotential {
    /// Types the atoms and builds every UFF term for `molecule` (its positions are the
    /// construction geometry RDKit uses to select van der Waals pairs).
    pub fn new(molecule: &Molecule) -> Result<Self> {
        let n = molecule.n_atoms();
        let atom_types = (0..n)
            .map(|i| uff_atom_type(molecule, i))
            .collect::<Result<Vec<_>>>()?;
        let params: Vec<AtomicParams> = atom_types
            .iter()
            .map(|t| atomic_params(t).expect("every typed label has parameters"))
            .collect();
        let neighbours = molecule.neighbours();
        reject_small_sp2_rings(molecule, &neighbours)?;
        let mut uff = Self {
            n_atoms: n,
            atom_types,
            bonds: Vec::new(),
            angles: Vec::new(),
            torsions: Vec::new(),
            inversions: Vec::new(),
            vdw: Vec::new(),
        };
        uff.add_bonds(molecule, &params);
        uff.add_angles(molecule, &params, &neighbours);
        uff.add_torsions(molecule, &params, &neighbours);
        uff.add_inversions(molecule, &neighbours);
        uff.add_vdw(molecule, &params, &neighbours);
        Ok(uff)
    }

    fn add_bonds(&mut self, molecule: &Molecule, params: &[AtomicParams]) {
        for b in &molecule.bonds {
            let r0 = params::bond_rest_length(b.order, &params[b.i], &params[b.j]);
            let kb = params::bond_force_constant(r0, &params[b.i], &params[b.j]);
            self.bonds.push(BondTerm {
                i: b.i,
                j: b.j,
                kb,
                r0,
            });
        }
    }

    fn add_angles(&mut self, molecule: &Molecule, params: &[AtomicParams], nbrs: &[Vec<usize>]) {
        for (j, around) in nbrs.iter().enumerate() {
            let order = match molecule.atoms[j].hybridization {
                Hybridization::Sp => 1,
                // RDKit's 3- and 4-ring special cases are refused in `new`.
                Hybridization::Sp2 => 3,
                _ => 0,
            };
            let centre = &params[j];
            let theta0 = centre.theta0;
            let c = if order == 0 {
                let (s, c0) = (theta0.sin(), theta0.cos());
                let c2 = 1.0 / (4.0 * (s * s).max(1e-8));
                [c2 * (2.0 * c0 * c0 + 1.0), -4.0 * c2 * c0, c2]
            } else {
                [0.0; 3]
            };
            for (a, &i) in around.iter().enumerate() {
                for &k in &around[a + 1..] {
                    let o12 = molecule.bond_order(i, j).unwrap_or(1.0);
                    let o23 = molecule.bond_order(k, j).unwrap_or(1.0);
                    let ka = params::angle_force_constant(
                        theta0, o12, o23, &params[i], centre, &params[k],
                    );
                    self.angles.push(AngleTerm {
                        i,
                        j,
                        k,
                        ka,
                        theta0,
                        order,
                        c,
                    });
                }
            }
        }
    }

    fn torsion_parameters(
        molecule: &Molecule,
        params: &[AtomicParams],
        (j, k): (usize, usize),
        order: f64,
        end_is_sp2: bool,
    ) -> (f64, u8, f64) {
        let (hj, hk) = (
            molecule.atoms[j].hybridization,
            molecule.atoms[k].hybridization,
        );
        let (oj, ok) = (
            molecule.atoms[j].element == Element::O,
            molecule.atoms[k].element == Element::O,
        );
        use Hybridization::{Sp2, Sp3};
        match (hj, hk) {
            (Sp3, Sp3) if order == 1.0 && oj && ok => (2.0, 2, -1.0),
            (Sp3, Sp3) => ((params[j].v1 * params[k].v1).sqrt(), 3, -1.0),
            (Sp2, Sp2) => (
                params::sp2_torsion_barrier(order, &params[j], &params[k]),
                2,
                1.0,
            ),
            _ if order == 1.0 && ((hj == Sp3 && oj && !ok) || (hk == Sp3 && ok && !oj)) => (
                params::sp2_torsion_barrier(order, &params[j], &params[k]),
                2,
                -1.0,
            ),
            _ if order == 1.0 && end_is_sp2 => (2.0, 3, -1.0),
            _ => (1.0, 6, 1.0),
        }
    }

    fn add_torsions(&mut self, molecule: &Molecule, params: &[AtomicParams], nbrs: &[Vec<usize>]) {
        let eligible = |a: usize| {
            nbrs[a].len() > 1
                && matches!(
                    molecule.atoms[a].hybridization,
                    Hybridization::Sp2 | Hybridization::Sp3
                )
                && !nbrs[a]
                    .iter()
                    .any(|&b| molecule.bond_order(a, b) == Some(3.0))
        };
        for bond in &molecule.bonds {
            let (j, k) = (bond.i, bond.j);
            if !eligible(j) || !eligible(k) {
                continue;
            }
            let start = self.torsions.len();
            for &i in nbrs[j].iter().filter(|&&i| i != k) {
                for &l in nbrs[k].iter().filter(|&&l| l != j && l != i) {
                    let end_is_sp2 = molecule.atoms[i].hybridization == Hybridization::Sp2
                        || molecule.atoms[l].hybridization == Hybridization::Sp2;
                    let (v, n, cos_term) =
                        Self::torsion_parameters(molecule, params, (j, k), bond.order, end_is_sp2);
                    self.torsions.push(TorsionTerm {
                        atoms: [i, j, k, l],
                        v,
                        n,
                        cos_term,
                    });
                }
            }
            let count = (self.torsions.len() - start) as f64;
            for t in &mut self.torsions[start..] {
                t.v /= count;
            }
        }
    }

    fn add_inversions(&mut self, molecule: &Molecule, nbrs: &[Vec<usize>]) {
        for (j, around) in nbrs.iter().enumerate() {
            let atom = &molecule.atoms[j];
            if around.len() != 3 || atom.hybridization != Hybridization::Sp2 {
                continue;
            }
            let bound_to_sp2_o = atom.element == Element::C
                && around.iter().any(|&b| {
                    molecule.atoms[b].element == Element::O
                        && molecule.atoms[b].hybridization == Hybridization::Sp2
                });
            let k_force = if bound_to_sp2_o { 50.0 } else { 6.0 } / 3.0;
            for out in 0..3 {
                let (i, k) = (around[(out + 1) % 3], around[(out + 2) % 3]);
                self.inversions.push(InversionTerm {
                    i,
                    j,
                    k,
                    l: around[out],
                    k_force,
                    c: [1.0, -1.0, 0.0],
                });
            }
        }
    }

    fn add_vdw(&mut self, molecule: &Molecule, params: &[AtomicParams], nbrs: &[Vec<usize>]) {
        let path = bond_path_lengths(nbrs);
        for i in 0..self.n_atoms {
            for j in i + 1..self.n_atoms {
                if path[i][j] < 3 {
                    continue;
                }
                let x = (params[i].x1 * params[j].x1).sqrt();
                let r = norm(sub(molecule.atoms[i].position, molecule.atoms[j].position));
                if r >= VDW_CONSTRUCTION_MULTIPLIER * x {
                    continue;
                }
                self.vdw.push(VdwTerm {
                    i,
                    j,
                    x,
                    d: (params[i].d1 * params[j].d1).sqrt(),
                    cutoff: VDW_EVALUATION_MULTIPLIER * x,
                });
            }
        }
    }

    /// Builds UFF for one of the embedded molecules by name.
    pub fn for_builtin(name: &str) -> Result<Self> {
        Self::new(&Molecule::builtin(name)?)
    }

    /// Energy split by term kind (no forces; `positions` must have `n_atoms` finite entries).
    pub fn energy_parts(&self, positions: &[Vec3]) -> Result<UffEnergyParts> {
        let mut scratch = vec![[0.0; 3]; self.n_atoms];
        check_frame(self.n_atoms, positions, &scratch)?;
        Ok(self.accumulate(positions, &mut scratch))
    }

    fn accumulate(&self, pos: &[Vec3], forces: &mut [Vec3]) -> UffEnergyParts {
        UffEnergyParts {
            bond: self.bonds.iter().map(|t| t.eval(pos, forces)).sum(),
            angle: self.angles.iter().map(|t| t.eval(pos, forces)).sum(),
            torsion: self.torsions.iter().map(|t| t.eval(pos, forces)).sum(),
            inversion: self.inversions.iter().map(|t| t.eval(pos, forces)).sum(),
            vdw: self.vdw.iter().map(|t| t.eval(pos, forces)).sum(),
        }
    }
}

impl Potential for UffPotential {
    fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    fn energy_forces(&self, positions: &[Vec3], forces: &mut [Vec3]) -> Result<f64> {
        check_frame(self.n_atoms, positions, forces)?;
        forces.fill([0.0; 3]);
        Ok(self.accumulate(positions, forces).total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_without_a_uff_type_are_reported() {
        let text = r#"{"name": "x", "atoms": [
            {"element": "C", "position": [0, 0, 0]},
            {"element": "H", "position": [1.1, 0, 0]}], "bonds": [[0, 1, 1.0]]}"#;
        let m = Molecule::from_json_str(text, "test").unwrap();
        match UffPotential::new(&m) {
            Err(MdError::MissingUffParameters {
                index: 0, element, ..
            }) => assert_eq!(element, "C"),
            other => panic!("expected missing parameters, got {other:?}"),
        }
    }

    #[test]
    fn sp2_atoms_in_small_rings_are_refused() {
        // Cyclopropene-like C3 ring with an sp2 atom (hydrogens omitted).
        let text = r#"{"name": "x", "atoms": [
            {"element": "C", "hybridization": "sp2", "position": [0, 0, 0]},
            {"element": "C", "hybridization": "sp2", "position": [1.3, 0, 0]},
            {"element": "C", "hybridization": "sp3", "position": [0.65, 1.2, 0]}],
            "bonds": [[0, 1, 2.0], [1, 2, 1.0], [2, 0, 1.0]]}"#;
        let m = Molecule::from_json_str(text, "test").unwrap();
        assert!(matches!(
            UffPotential::new(&m),
            Err(MdError::UnsupportedTopology { .. })
        ));
    }

    #[test]
    fn typing_follows_hybridization_and_resonance() {
        let m = Molecule::builtin("aspirin").unwrap();
        let uff = UffPotential::new(&m).unwrap();
        assert_eq!(&uff.atom_types[..5], ["C_3", "C_R", "O_R", "O_R", "C_R"]);
        let ethanol = UffPotential::for_builtin("ethanol").unwrap();
        assert_eq!(&ethanol.atom_types[..4], ["C_3", "C_3", "O_3", "H_"]);
    }
}
