//! Spherical harmonics, Wigner 3j and Wigner D against e3nn 0.6.0 (`fixtures/e3nn_reference.npz`,
//! made by `fixtures/make_e3nn_reference.py`; provenance in `fixtures/e3nn_reference.json`).

mod common;

use common::{load_npz, max_abs_diff};
use mlff_e3::{ShNormalization, SphericalHarmonics};

#[test]
fn spherical_harmonics_match_e3nn_in_all_normalisations() {
    let f = load_npz("e3nn_reference.npz");
    let vectors = &f["vectors"].data;
    for (key, norm) in [
        ("sh_component", ShNormalization::Component),
        ("sh_integral", ShNormalization::Integral),
        ("sh_norm", ShNormalization::Norm),
    ] {
        let sh = SphericalHarmonics::new(4, true, norm);
        let ours = sh.compute(vectors).unwrap();
        let err = max_abs_diff(&ours, &f[key].data);
        assert!(err < 1e-12, "{key}: max error {err}");
    }
}

#[test]
fn wigner_3j_matches_e3nn_for_all_degrees_up_to_3() {
    let f = load_npz("e3nn_reference.npz");
    let mut checked = 0;
    for l1 in 0..=3u32 {
        for l2 in 0..=3u32 {
            for l3 in 0..=3u32 {
                let Some(reference) = f.get(&format!("w3j_{l1}_{l2}_{l3}")) else {
                    assert!(
                        !mlff_e3::wigner::triangle(l1, l2, l3),
                        "fixture lacks {l1} {l2} {l3}"
                    );
                    continue;
                };
                let ours = mlff_e3::wigner_3j(l1, l2, l3).unwrap();
                let err = max_abs_diff(&ours, &reference.data);
                assert!(err < 1e-12, "w3j {l1} {l2} {l3}: max error {err}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 34);
}

#[test]
fn rotations_and_wigner_d_match_e3nn() {
    let f = load_npz("e3nn_reference.npz");
    let angles = &f["euler_alpha_beta_gamma"].data;
    for t in 0..8 {
        let (a, b, c) = (angles[3 * t], angles[3 * t + 1], angles[3 * t + 2]);
        let r = mlff_e3::angles_to_matrix(a, b, c);
        let flat: Vec<f64> = r.iter().flatten().copied().collect();
        let err = max_abs_diff(&flat, &f["rotation_matrices"].data[9 * t..9 * t + 9]);
        assert!(err < 1e-12, "rotation {t}: max error {err}");
        for l in 0..=3u32 {
            let d = (2 * l + 1) as usize;
            let reference = &f[&format!("wigner_D_{l}")].data[t * d * d..(t + 1) * d * d];
            let from_angles = mlff_e3::wigner_d_from_angles(l, a, b, c);
            let err = max_abs_diff(&from_angles, reference);
            assert!(
                err < 1e-12,
                "D^{l} from angles, triple {t}: max error {err}"
            );
            let from_matrix = mlff_e3::wigner_d_from_matrix(l, &r).unwrap();
            let err = max_abs_diff(&from_matrix, reference);
            assert!(
                err < 1e-12,
                "D^{l} from matrix, triple {t}: max error {err}"
            );
        }
    }
}
