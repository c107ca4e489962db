//! Property tests: SOAP vectors are invariant to rotations, reflections, translations and
//! permutations of same-species atoms; kernels are symmetric, PSD, with self-similarity 1.

use mlff_soap::{
    Average, AverageKernel, RadialBasisKind, RematchKernel, Soap, SoapParams, cosine_kernel,
    kernel_matrix, kernel_matrix_symmetric,
};
use ndarray::{Array1, Array2, ArrayView2, array};
use proptest::prelude::*;

const SPECIES: [u32; 3] = [1, 6, 8];

/// Random molecule: 3–7 atoms of H/C/O in a 4 Å box.
fn molecule() -> impl Strategy<Value = (Array1<u32>, Array2<f64>)> {
    (3usize..=7).prop_flat_map(|n| {
        (
            prop::collection::vec(0usize..3, n),
            prop::collection::vec(-2.0f64..2.0, 3 * n),
        )
            .prop_map(move |(s, x)| {
                (
                    s.iter().map(|&i| SPECIES[i]).collect(),
                    Array2::from_shape_vec((n, 3), x).unwrap(),
                )
            })
    })
}

/// Rotation matrix from a (non-zero) quaternion.
fn rotation(q: [f64; 4]) -> Array2<f64> {
    let norm = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    let [w, x, y, z] = q.map(|v| v / norm);
    array![
        [
            1.0 - 2.0 * (y * y + z * z),
            2.0 * (x * y - w * z),
            2.0 * (x * z + w * y)
        ],
        [
            2.0 * (x * y + w * z),
            1.0 - 2.0 * (x * x + z * z),
            2.0 * (y * z - w * x)
        ],
        [
            2.0 * (x * z - w * y),
            2.0 * (y * z + w * x),
            1.0 - 2.0 * (x * x + y * y)
        ],
    ]
}

fn soap(rbf: RadialBasisKind) -> Soap {
    Soap::new(SoapParams::new(&SPECIES, 4.0, 4, 4, 0.5).with_rbf(rbf)).unwrap()
}

fn assert_close(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, what: &str) {
    let scale = a.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
    let err = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    // Rounding in the expansion sums reaches ~2e-10 of the largest component for some random
    // geometries (a CI run found 1.6e-10); a broken invariance shows up at O(1).
    assert!(
        err <= 1e-9 * scale,
        "{what}: max deviation {err:e} (scale {scale:e})"
    );
}

/// Smallest Cholesky pivot of `k + 1e-10 I`; negative or NaN means not PSD.
fn min_cholesky_pivot(k: &Array2<f64>) -> f64 {
    let n = k.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    let mut min = f64::INFINITY;
    for j in 0..n {
        let d = k[[j, j]] + 1e-10 - (0..j).map(|p| l[[j, p]] * l[[j, p]]).sum::<f64>();
        min = min.min(d);
        if d.is_nan() || d <= 0.0 {
            return d;
        }
        l[[j, j]] = d.sqrt();
        for i in (j + 1)..n {
            let v = k[[i, j]] - (0..j).map(|p| l[[i, p]] * l[[j, p]]).sum::<f64>();
            l[[i, j]] = v / l[[j, j]];
        }
    }
    min
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn rotation_reflection_translation_invariance(
        (numbers, positions) in molecule(),
        q in prop::array::uniform4(-1.0f64..1.0).prop_filter("non-zero", |q| q.iter().map(|v| v * v).sum::<f64>() > 1e-2),
        shift in prop::array::uniform3(-10.0f64..10.0),
        reflect in any::<bool>(),
        polynomial in any::<bool>(),
    ) {
        let rbf = if polynomial { RadialBasisKind::Polynomial } else { RadialBasisKind::Gto };
        let soap = soap(rbf);
        let reference = soap.compute(numbers.view(), positions.view()).unwrap();
        let mut r = rotation(q);
        if reflect {
            r.row_mut(0).mapv_inplace(|v| -v);
        }
        let moved = positions.dot(&r.t()) + &Array1::from(shift.to_vec());
        let out = soap.compute(numbers.view(), moved.view()).unwrap();
        assert_close(reference.view(), out.view(), "rotated/reflected/translated");
    }

    #[test]
    fn same_species_permutation_invariance((numbers, positions) in molecule(), seed in any::<u64>()) {
        let soap = soap(RadialBasisKind::Gto);
        // Permute atoms within each species by a seeded shuffle of the sorted order.
        let n = numbers.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| (numbers[i], (seed.wrapping_mul(i as u64 + 1) >> 7) % 1009));
        let mut perm = vec![0; n];
        let mut by_species: Vec<usize> = (0..n).collect();
        by_species.sort_by_key(|&i| (numbers[i], i));
        for (k, &i) in by_species.iter().enumerate() {
            perm[i] = order[k]; // new atom i is old atom perm[i], same species
        }
        let numbers2: Array1<u32> = perm.iter().map(|&p| numbers[p]).collect();
        prop_assert_eq!(&numbers2, &numbers);
        let positions2 = Array2::from_shape_fn((n, 3), |(i, a)| positions[[perm[i], a]]);
        let reference = soap.compute(numbers.view(), positions.view()).unwrap();
        let out = soap.compute(numbers2.view(), positions2.view()).unwrap();
        let reordered = Array2::from_shape_fn(reference.dim(), |(i, f)| reference[[perm[i], f]]);
        assert_close(reordered.view(), out.view(), "permuted rows");
        for average in [Average::Inner, Average::Outer] {
            let s = soap.with_average(average);
            let a = s.compute(numbers.view(), positions.view()).unwrap();
            let b = s.compute(numbers2.view(), positions2.view()).unwrap();
            assert_close(a.view(), b.view(), "permuted average");
        }
    }

    #[test]
    fn kernels_symmetric_psd_unit_diagonal(mols in prop::collection::vec(molecule(), 2..5)) {
        let soap = soap(RadialBasisKind::Gto);
        let local: Vec<Array2<f64>> = mols
            .iter()
            .map(|(z, x)| soap.compute(z.view(), x.view()).unwrap())
            .collect();
        let views: Vec<_> = local.iter().map(|m| m.view()).collect();
        let averaged: Vec<Array2<f64>> = mols
            .iter()
            .map(|(z, x)| soap.with_average(Average::Inner).compute(z.view(), x.view()).unwrap())
            .collect();
        let avg_rows = ndarray::concatenate(
            ndarray::Axis(0),
            &averaged.iter().map(|a| a.view()).collect::<Vec<_>>(),
        )
        .unwrap();
        let kernels = [
            ("cosine", cosine_kernel(avg_rows.view(), avg_rows.view()).unwrap()),
            ("average", kernel_matrix(&AverageKernel { normalize_environments: true }, &views, &views).unwrap()),
            ("rematch", kernel_matrix_symmetric(&RematchKernel::default(), &views).unwrap()),
        ];
        // DScribe's stopping rule (squared relative change < threshold) leaves K(A,B) and
        // K(B,A) ~1e-4 apart at its default 1e-6; converged tightly they agree.
        let tight = RematchKernel { threshold: 1e-18, ..RematchKernel::default() };
        let rect = kernel_matrix(&tight, &views, &views).unwrap();
        for i in 0..rect.nrows() {
            for j in 0..rect.ncols() {
                prop_assert!((rect[[i, j]] - rect[[j, i]]).abs() < 1e-7, "tight rematch asymmetric {:e}", rect[[i, j]] - rect[[j, i]]);
            }
        }
        for (name, k) in kernels {
            for i in 0..k.nrows() {
                prop_assert!((k[[i, i]] - 1.0).abs() < 1e-12, "{} diagonal {}", name, k[[i, i]]);
                for j in 0..k.ncols() {
                    prop_assert!((k[[i, j]] - k[[j, i]]).abs() < 1e-9, "{} asymmetric", name);
                }
            }
            // REMatch is not PSD in general (it is for the average kernel and cosine); DScribe
            // documents it as a kernel in the limit of small alpha only for typical data, so
            // PSD is asserted for the two kernels that are PSD by construction.
            prop_assert!(min_cholesky_pivot(&k) > 0.0, "{} not PSD", name);
        }
    }
}
