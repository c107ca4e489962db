//! Property tests: perfect predictions score zero, errors scale linearly, frame order does not
//! matter, chunked parallel sums equal a naive loop, bootstrap is seeded and brackets the
//! estimate, rank correlation is invariant under monotone maps.

use mlff_metrics::*;
use ndarray::{Array1, Array3};
use proptest::prelude::*;

fn labels(frames: usize, atoms: usize, seed: u64) -> (Array1<f64>, Array3<f64>) {
    // A cheap deterministic generator; proptest supplies the seed.
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let e = Array1::from_shape_fn(frames, |_| 10.0 * next());
    let f = Array3::from_shape_fn((frames, atoms, 3), |_| 5.0 * next());
    (e, f)
}

fn run(
    pe: &Array1<f64>,
    pf: &Array3<f64>,
    re: &Array1<f64>,
    rf: &Array3<f64>,
    z: &Array1<u8>,
) -> Scores {
    score(
        &Labels::new(pe.view(), pf.view()),
        &Labels::new(re.view(), rf.view()),
        &AtomicNumbers::Shared(z.view()),
        EnergyUnit::KcalPerMol,
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn perfect_predictions_score_zero(frames in 1usize..20, atoms in 1usize..8, seed: u64) {
        let (e, f) = labels(frames, atoms, seed);
        let z = Array1::from_elem(atoms, 6u8);
        let s = run(&e, &f, &e, &f, &z);
        prop_assert_eq!(s.energy.mae, 0.0);
        prop_assert_eq!(s.forces.component_rmse, 0.0);
        prop_assert_eq!(s.forces.magnitude_mae, 0.0);
        prop_assert!((s.forces.cosine_similarity.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn errors_scale_linearly_and_frame_order_is_irrelevant(
        frames in 1usize..600, atoms in 1usize..6, seed: u64, scale in 0.1f64..10.0,
    ) {
        let (re, rf) = labels(frames, atoms, seed);
        let (de, df) = labels(frames, atoms, seed.wrapping_add(1));
        let z = Array1::from_shape_fn(atoms, |i| [1u8, 6, 8][i % 3]);
        let s = run(&(&re + &de), &(&rf + &df), &re, &rf, &z);
        let scaled = run(&(&re + &(&de * scale)), &(&rf + &(&df * scale)), &re, &rf, &z);
        let rel = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1e-12);
        prop_assert!(rel(scaled.forces.component_mae, scale * s.forces.component_mae));
        prop_assert!(rel(scaled.energy.per_atom_rmse, scale * s.energy.per_atom_rmse));
        prop_assert!(rel(scaled.forces.vector_error_mean, scale * s.forces.vector_error_mean));
        // Naive single-threaded reference of the chunked parallel sums (frames > 256 span chunks).
        let naive_mae = df.iter().map(|v| v.abs()).sum::<f64>() / df.len() as f64;
        prop_assert!(rel(s.forces.component_mae, naive_mae));
        let naive_rmse = (df.iter().map(|v| v * v).sum::<f64>() / df.len() as f64).sqrt();
        prop_assert!(rel(s.forces.component_rmse, naive_rmse));
        // Reversing the frames leaves aggregates unchanged (up to rounding).
        let rev = |a: &Array3<f64>| a.slice(ndarray::s![..;-1, .., ..]).to_owned();
        let rev1 = |a: &Array1<f64>| a.slice(ndarray::s![..;-1]).to_owned();
        let r = run(&rev1(&(&re + &de)), &rev(&(&rf + &df)), &rev1(&re), &rev(&rf), &z);
        prop_assert!(rel(r.forces.component_rmse, s.forces.component_rmse));
        prop_assert!(rel(r.energy.mae, s.energy.mae));
        // Per-element atom counts add up; per-frame MAE averages to the overall MAE.
        prop_assert_eq!(s.per_element.iter().map(|e| e.atoms).sum::<usize>(), frames * atoms);
        let mean_frame = s.per_frame.iter().map(|f| f.force_component_mae).sum::<f64>() / frames as f64;
        prop_assert!(rel(mean_frame, s.forces.component_mae));
        // Results are bit-for-bit reproducible.
        prop_assert_eq!(&s, &run(&(&re + &de), &(&rf + &df), &re, &rf, &z));
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_estimate(
        values in proptest::collection::vec(0.0f64..10.0, 2..200), seed: u64,
    ) {
        let options = BootstrapOptions { resamples: 200, confidence: 0.9, seed };
        let a = bootstrap_ci(&values, Statistic::Mean, &options).unwrap();
        prop_assert_eq!(a, bootstrap_ci(&values, Statistic::Mean, &options).unwrap());
        prop_assert!(a.lower <= a.upper);
        let (min, max) = values.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        prop_assert!(a.lower >= min - 1e-12 && a.upper <= max + 1e-12);
        let wide = bootstrap_ci(&values, Statistic::Mean, &BootstrapOptions { confidence: 0.99, ..options }).unwrap();
        prop_assert!(wide.lower <= a.lower && wide.upper >= a.upper);
    }

    #[test]
    fn rank_correlation_is_invariant_under_monotone_maps(
        pairs in proptest::collection::vec((-5.0f64..5.0, -5.0f64..5.0), 3..60),
    ) {
        let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
        let Ok(rho) = spearman(&x, &y) else { return Ok(()) };
        let mapped: Vec<f64> = x.iter().map(|v| v.exp() + 3.0 * v).collect();
        let rho2 = spearman(&mapped, &y).unwrap();
        prop_assert!((rho.coefficient - rho2.coefficient).abs() < 1e-12);
        prop_assert!((0.0..=1.0).contains(&rho.p_value));
        let r = pearson(&x, &y).unwrap();
        let r_swapped = pearson(&y, &x).unwrap();
        prop_assert!((r.coefficient - r_swapped.coefficient).abs() < 1e-12);
        prop_assert!((-1.0..=1.0).contains(&r.coefficient));
    }
}
