//! Property tests of the split guarantees: disjoint sets, validation from the training side,
//! no test frame inside a window's training range, nested subsets, same seed → same indices.

use std::collections::HashSet;

use mlff_splits::*;
use proptest::prelude::*;
// The glob imports both export a `Strategy`; ours is meant.
use mlff_splits::Strategy;

fn assert_disjoint(lists: &[&[usize]]) -> Result<(), TestCaseError> {
    let mut seen = HashSet::new();
    for list in lists {
        for &i in *list {
            prop_assert!(seen.insert(i), "frame {} appears twice", i);
        }
    }
    Ok(())
}

/// The split survives a JSON round trip exactly and still verifies.
fn assert_json_round_trip(split: &Split) -> Result<(), TestCaseError> {
    let back = Split::from_json(&split.to_json().unwrap()).unwrap();
    prop_assert_eq!(&back, split);
    back.verify().unwrap();
    Ok(())
}

fn validation(k: usize) -> Option<Validation> {
    (k > 0).then_some(Validation {
        size: Size::Count(k),
        placement: ValidationPlacement::Random,
    })
}

fn request(strategy: Strategy, val: usize, seed: u64) -> SplitRequest {
    SplitRequest {
        strategy,
        validation: validation(val),
        seed,
    }
}

/// A random permutation of 0..n from a proptest seed (for shuffled time orders).
fn shuffled_order(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed | 1;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_split_is_a_disjoint_cover(n in 20usize..400, test_frac in 0.05f64..0.6, val in 0usize..3, seed: u64) {
        let strategy = Strategy::Random(RandomParams { n_frames: n, test: Size::Fraction(test_frac), train: None });
        let r = request(strategy, val, seed);
        let split = r.generate().unwrap();
        let again = r.generate().unwrap();
        prop_assert_eq!(&split, &again);
        let SplitIndices::Single(s) = &split.indices else { unreachable!() };
        assert_disjoint(&[&s.train, &s.validation, &s.test])?;
        prop_assert_eq!(s.train.len() + s.validation.len() + s.test.len(), n);
        prop_assert!(!s.train.is_empty());
        assert_json_round_trip(&split)?;
    }

    #[test]
    fn time_holdout_trains_only_before_the_test_segment(
        n in 20usize..300, test_frac in 0.05f64..0.5, gap in 0usize..5, val in 0usize..3,
        order_seed: u64, seed: u64,
    ) {
        let time = TimeOrder::from_order(shuffled_order(n, order_seed)).unwrap();
        let position: Vec<usize> = {
            let mut p = vec![0; n];
            time.order.as_ref().unwrap().iter().enumerate().for_each(|(pos, &f)| p[f] = pos);
            p
        };
        let strategy = Strategy::TimeHoldout(TimeHoldoutParams {
            segment: TimeTestSegment { time: Some(time), test_fraction: test_frac, gap },
        });
        let split = request(strategy, val, seed).generate().unwrap();
        let SplitIndices::Single(s) = &split.indices else { unreachable!() };
        assert_disjoint(&[&s.train, &s.validation, &s.test])?;
        let first_test = s.test.iter().map(|&f| position[f]).min().unwrap();
        let last_train = s.train.iter().chain(&s.validation).map(|&f| position[f]).max().unwrap();
        prop_assert!(last_train + gap < first_test);
        prop_assert_eq!(first_test + s.test.len(), n);
        assert_json_round_trip(&split)?;
    }

    #[test]
    fn windows_never_contain_test_frames(
        n in 50usize..400, window in 2usize..30, k in 1usize..6, stride in 1usize..50,
        use_stride: bool, gap in 0usize..4, val in 0usize..2, seed: u64,
    ) {
        let placement = if use_stride { WindowPlacement::Stride(stride) } else { WindowPlacement::Positions(k) };
        let strategy = Strategy::SlidingWindows(SlidingWindowParams {
            segment: TimeTestSegment { time: Some(TimeOrder::file_order(n)), test_fraction: 0.1, gap },
            window,
            placement,
        });
        let r = request(strategy, val, seed);
        let split = match r.generate() {
            Ok(split) => split,
            // Only "too many distinct positions for this window" may be refused here.
            Err(e) => {
                prop_assert!(matches!(e, SplitError::InvalidParameter { .. }), "{}", e);
                prop_assert!(k + window > n - n.div_ceil(10) - gap);
                return Ok(());
            }
        };
        prop_assert_eq!(&split, &r.generate().unwrap());
        let SplitIndices::Windows { test_start, test, windows } = &split.indices else { unreachable!() };
        prop_assert!(!windows.is_empty());
        for w in windows {
            assert_disjoint(&[&w.train, &w.validation, test])?;
            prop_assert_eq!(w.end - w.start, window);
            prop_assert!(w.end + gap <= *test_start);
            // File order: frame index = time position; every training frame precedes the test segment.
            prop_assert!(w.train.iter().chain(&w.validation).all(|&f| f >= w.start && f < w.end));
            prop_assert_eq!(w.frames_to_test, test_start - w.end);
        }
        prop_assert!(windows.windows(2).all(|p| p[0].start < p[1].start));
        assert_json_round_trip(&split)?;
    }

    #[test]
    fn learning_curve_subsets_are_nested(
        n in 80usize..400, raw_sizes in proptest::collection::vec(1usize..60, 1..5),
        contiguous: bool, val in 0usize..3, seed: u64,
    ) {
        let mut sizes = raw_sizes;
        sizes.sort_unstable();
        sizes.dedup();
        let pool = if contiguous {
            LearningPool::Contiguous { segment: TimeTestSegment::new(TimeOrder::file_order(n)) }
        } else {
            LearningPool::Random { test: Size::Fraction(0.2) }
        };
        let r = request(Strategy::LearningCurve(LearningCurveParams { n_frames: n, sizes: sizes.clone(), pool }), val, seed);
        let split = r.generate().unwrap();
        prop_assert_eq!(&split, &r.generate().unwrap());
        let SplitIndices::Nested { validation, test, subsets } = &split.indices else { unreachable!() };
        prop_assert_eq!(subsets.iter().map(|s| s.size).collect::<Vec<_>>(), sizes);
        for pair in subsets.windows(2) {
            let larger: HashSet<usize> = pair[1].train.iter().copied().collect();
            prop_assert!(pair[0].train.iter().all(|f| larger.contains(f)), "not nested");
        }
        let largest = &subsets.last().unwrap().train;
        assert_disjoint(&[largest, validation, test])?;
        for s in subsets {
            prop_assert_eq!(s.train.len(), s.size);
        }
        if contiguous {
            let first_test = *test.iter().min().unwrap();
            prop_assert!(largest.iter().all(|&f| f < first_test));
        }
        assert_json_round_trip(&split)?;
    }

    #[test]
    fn cross_dataset_tasks_are_disjoint_per_dataset(
        sizes in proptest::collection::vec(5usize..60, 2..5), per in 2usize..6, val in 0usize..2, seed: u64, loo: bool,
    ) {
        let datasets: Vec<DatasetFrames> = sizes.iter().enumerate()
            .map(|(i, &n_frames)| DatasetFrames { label: format!("mol{i}"), n_frames })
            .collect();
        let plan = if loo { CrossPlan::LeaveOneOut } else { CrossPlan::AllPairs };
        let r = request(Strategy::CrossDataset(CrossDatasetParams {
            datasets, plan, train_per_dataset: Some(per), test_per_dataset: None,
        }), val, seed);
        let split = r.generate().unwrap();
        prop_assert_eq!(&split, &r.generate().unwrap());
        let SplitIndices::Cross { tasks } = &split.indices else { unreachable!() };
        for task in tasks {
            prop_assert!(task.train.iter().all(|t| t.dataset != task.test.dataset));
            for (t, v) in task.train.iter().zip(&task.validation) {
                assert_disjoint(&[&t.frames, &v.frames])?;
                prop_assert_eq!(t.frames.len() + v.frames.len(), per);
            }
        }
        assert_json_round_trip(&split)?;
    }

    #[test]
    fn descriptor_splits_are_disjoint_and_reproducible(
        points in proptest::collection::vec(-10.0f64..10.0, 40..120), k in 2usize..5, picks in 1usize..10, seed: u64,
    ) {
        let n = points.len() / 2;
        let rows = DescriptorRows::new(&points[..2 * n], 2).unwrap();
        let fps = SplitRequest::new(Strategy::FarthestPoint(FarthestPointParams::new(&rows, picks, SelectedRole::Train, None)), seed);
        let a = fps.generate_with_descriptors(&rows).unwrap();
        prop_assert_eq!(&a, &fps.generate_with_descriptors(&rows).unwrap());
        let SplitIndices::Single(s) = &a.indices else { unreachable!() };
        assert_disjoint(&[&s.train, &s.validation, &s.test])?;
        prop_assert_eq!(s.train.len(), picks);
        let clusters = request(Strategy::ClusterHoldout(ClusterHoldoutParams::new(&rows, k, 1)), 1, seed);
        let b = clusters.generate_with_descriptors(&rows).unwrap();
        prop_assert_eq!(&b, &clusters.generate_with_descriptors(&rows).unwrap());
        let SplitIndices::Single(s) = &b.indices else { unreachable!() };
        assert_disjoint(&[&s.train, &s.validation, &s.test])?;
        prop_assert_eq!(s.train.len() + s.validation.len() + s.test.len(), n);
    }
}
