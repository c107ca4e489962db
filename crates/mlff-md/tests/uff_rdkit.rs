//! RDKit parity of UFF against `fixtures/uff_rdkit.json` (made by `fixtures/make_uff_rdkit.py`): per-term parameters,
//! energies (1e-6 kcal/mol) and central-difference forces (1e-4 kcal/mol/Å).

use std::collections::HashMap;

use mlff_md::{Molecule, Potential, UffPotential, Vec3};
use serde_json::Value;

fn fixture() -> Value {
    let path = mlff_testkit::fixture("uff_rdkit.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} unreadable: {e}", path.display()));
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn crate_name(fixture_name: &str) -> &str {
    if fixture_name == "salicylic" {
        "salicylic_acid"
    } else {
        fixture_name
    }
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn frame(v: &Value) -> Vec<Vec3> {
    rows(v).into_iter().map(|r| [r[0], r[1], r[2]]).collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

fn molecules() -> Vec<(String, Value, UffPotential, Molecule)> {
    let fx = fixture();
    let mols = fx["molecules"].as_object().unwrap();
    assert_eq!(mols.len(), 10);
    mols.iter()
        .map(|(name, m)| {
            let molecule = Molecule::builtin(crate_name(name)).unwrap();
            let z: Vec<u8> = m["atomic_numbers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u8)
                .collect();
            assert_eq!(molecule.atomic_numbers(), z, "{name}: atom order");
            let uff = UffPotential::new(&molecule).unwrap();
            (name.clone(), m.clone(), uff, molecule)
        })
        .collect()
}

#[test]
fn bond_and_angle_parameters_match_rdkit() {
    for (name, m, uff, _) in molecules() {
        let expected = rows(&m["params"]["bond_stretch_kb_r0"]);
        assert_eq!(uff.bonds.len(), expected.len(), "{name}: bond count");
        for r in &expected {
            let (i, j) = (r[0] as usize, r[1] as usize);
            let t = uff
                .bonds
                .iter()
                .find(|t| (t.i, t.j) == (i, j) || (t.j, t.i) == (i, j))
                .unwrap_or_else(|| panic!("{name}: bond {i}-{j} missing"));
            assert!(
                close(t.kb, r[2], 1e-10),
                "{name} bond {i}-{j}: kb {} vs {}",
                t.kb,
                r[2]
            );
            assert!(
                close(t.r0, r[3], 1e-10),
                "{name} bond {i}-{j}: r0 {} vs {}",
                t.r0,
                r[3]
            );
        }
        let expected = rows(&m["params"]["angle_bend_ka_theta0"]);
        assert_eq!(uff.angles.len(), expected.len(), "{name}: angle count");
        for r in &expected {
            let (i, j, k) = (r[0] as usize, r[1] as usize, r[2] as usize);
            let t = uff
                .angles
                .iter()
                .find(|t| t.j == j && ((t.i, t.k) == (i, k) || (t.k, t.i) == (i, k)))
                .unwrap_or_else(|| panic!("{name}: angle {i}-{j}-{k} missing"));
            assert!(
                close(t.ka, r[3], 1e-10),
                "{name} angle {i}-{j}-{k}: ka {} vs {}",
                t.ka,
                r[3]
            );
            assert!(
                close(t.theta0.to_degrees(), r[4], 1e-10),
                "{name} angle {i}-{j}-{k}: theta0"
            );
        }
    }
}

#[test]
fn torsion_inversion_and_vdw_parameters_match_rdkit() {
    for (name, m, uff, _) in molecules() {
        // The fixture lists each torsion's barrier before RDKit divides it by the number of
        // torsions about the central bond.
        let expected = rows(&m["params"]["torsion_V"]);
        assert_eq!(uff.torsions.len(), expected.len(), "{name}: torsion count");
        let mut per_bond: HashMap<(usize, usize), usize> = HashMap::new();
        for t in &uff.torsions {
            let [_, j, k, _] = t.atoms;
            *per_bond.entry((j.min(k), j.max(k))).or_default() += 1;
        }
        for r in &expected {
            let a: Vec<usize> = r[..4].iter().map(|&x| x as usize).collect();
            let t = uff
                .torsions
                .iter()
                .find(|t| t.atoms[..] == a[..] || t.atoms.iter().rev().eq(a.iter()))
                .unwrap_or_else(|| panic!("{name}: torsion {a:?} missing"));
            let count = per_bond[&(a[1].min(a[2]), a[1].max(a[2]))] as f64;
            assert!(
                close(t.v * count, r[4], 1e-10),
                "{name} torsion {a:?}: V {} vs {}",
                t.v * count,
                r[4]
            );
        }
        let expected = rows(&m["params"]["inversion_K"]);
        assert_eq!(
            uff.inversions.len(),
            3 * expected.len(),
            "{name}: inversion count"
        );
        for r in &expected {
            let centre = r[1] as usize;
            let terms: Vec<_> = uff.inversions.iter().filter(|t| t.j == centre).collect();
            assert_eq!(terms.len(), 3, "{name}: inversions at {centre}");
            for t in terms {
                assert!(
                    close(t.k_force, r[4], 1e-12),
                    "{name} inversion at {centre}"
                );
            }
        }
        let expected = m["params"]["vdw_x_D"].as_object().unwrap();
        for t in &uff.vdw {
            let r = &expected[&format!("{}-{}", t.i, t.j)];
            assert!(
                close(t.x, r[0].as_f64().unwrap(), 1e-12),
                "{name} vdW {}-{}",
                t.i,
                t.j
            );
            assert!(
                close(t.d, r[1].as_f64().unwrap(), 1e-12),
                "{name} vdW {}-{}",
                t.i,
                t.j
            );
        }
    }
}

#[test]
fn energies_and_forces_match_rdkit_at_perturbed_geometries() {
    let (mut worst_e, mut worst_f) = (0.0f64, 0.0f64);
    for (name, m, uff, _) in molecules() {
        let energies: Vec<f64> = m["energies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let geometries = m["geometries"].as_array().unwrap();
        let forces = m["forces"].as_array().unwrap();
        assert_eq!(geometries.len(), 8);
        for (g, ((geom, e_ref), f_ref)) in geometries.iter().zip(&energies).zip(forces).enumerate()
        {
            let pos = frame(geom);
            let mut f = vec![[0.0; 3]; pos.len()];
            let e = uff.energy_forces(&pos, &mut f).unwrap();
            assert!(
                (e - e_ref).abs() < 1e-6,
                "{name} geometry {g}: E {e} vs {e_ref}"
            );
            worst_e = worst_e.max((e - e_ref).abs());
            for (a, (fa, fr)) in f.iter().zip(frame(f_ref)).enumerate() {
                for c in 0..3 {
                    worst_f = worst_f.max((fa[c] - fr[c]).abs());
                    assert!(
                        (fa[c] - fr[c]).abs() < 1e-4,
                        "{name} geometry {g} atom {a}: F {fa:?} vs {fr:?}"
                    );
                }
            }
        }
    }
    eprintln!("UFF vs RDKit: max |ΔE| {worst_e:e} kcal/mol, max |ΔF| {worst_f:e} kcal/mol/Å");
}
