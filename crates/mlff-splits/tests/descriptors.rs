//! Descriptor-based strategies: farthest-point sampling and cluster holdout.

use mlff_splits::*;

/// Points on a line, x = 0, 1, …, n−1 (one-dimensional descriptors).
fn line(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

/// Two tight blobs in 2-D: frames 0..30 near (0, 0), frames 30..50 near (100, 100).
fn two_blobs() -> Vec<f64> {
    (0..50)
        .flat_map(|i| {
            let centre = if i < 30 { 0.0 } else { 100.0 };
            let jitter = (i % 7) as f64 * 0.1;
            [centre + jitter, centre - jitter]
        })
        .collect()
}

#[test]
fn farthest_point_order_picks_the_extremes_of_a_line() {
    let data = line(11);
    let rows = DescriptorRows::new(&data, 1).unwrap();
    let order = farthest_point_order(&rows, 3, 4);
    // Whatever the random start, the next pick is the end farthest from it, then the other end
    // (or the midpoint, if the start was an end).
    let start = order[0] as f64;
    let second = if start >= 5.0 { 0 } else { 10 };
    assert_eq!(order[1], second);
    let third_dist = |f: usize| {
        order[..2]
            .iter()
            .map(|&p| (f as f64 - p as f64).abs())
            .fold(f64::INFINITY, f64::min)
    };
    let best = (0..11)
        .filter(|f| !order[..2].contains(f))
        .map(third_dist)
        .fold(0.0, f64::max);
    assert_eq!(third_dist(order[2]), best);
}

#[test]
fn farthest_point_split_roles() {
    let data = line(100);
    let rows = DescriptorRows::new(&data, 1).unwrap();
    let params = FarthestPointParams::new(&rows, 10, SelectedRole::Test, Some(Size::Count(50)));
    let request = SplitRequest::new(Strategy::FarthestPoint(params), 9);
    assert!(matches!(
        request.generate().unwrap_err(),
        SplitError::NeedsDescriptors { .. }
    ));
    let split = request.generate_with_descriptors(&rows).unwrap();
    let SplitIndices::Single(s) = &split.indices else {
        panic!("expected a single split")
    };
    assert_eq!((s.train.len(), s.test.len()), (50, 10));
    // FPS on a line spreads picks: consecutive test frames are at least ~100/10 apart / 2.
    assert!(s.test.windows(2).all(|w| w[1] - w[0] >= 5), "{:?}", s.test);
    assert!(s.train.iter().all(|f| !s.test.contains(f)));
    split.verify_with_descriptors(&rows).unwrap();
}

#[test]
fn cluster_holdout_holds_out_a_whole_blob() {
    let data = two_blobs();
    let rows = DescriptorRows::new(&data, 2).unwrap();
    let params = ClusterHoldoutParams::new(&rows, 2, 1);
    for seed in 0..8 {
        let split = SplitRequest::new(Strategy::ClusterHoldout(params.clone()), seed)
            .with_validation(Validation {
                size: Size::Count(3),
                placement: ValidationPlacement::Random,
            })
            .generate_with_descriptors(&rows)
            .unwrap();
        let SplitIndices::Single(s) = &split.indices else {
            panic!("expected a single split")
        };
        let blob_a: Vec<usize> = (0..30).collect();
        let blob_b: Vec<usize> = (30..50).collect();
        assert!(
            s.test == blob_a || s.test == blob_b,
            "seed {seed}: {:?}",
            s.test
        );
        assert_eq!(s.train.len() + s.validation.len() + s.test.len(), 50);
        split.verify_with_descriptors(&rows).unwrap();
    }
}

#[test]
fn kmeans_separates_blobs() {
    let data = two_blobs();
    let rows = DescriptorRows::new(&data, 2).unwrap();
    let assignment = kmeans(&rows, 2, 50, 1);
    assert!(assignment[..30].iter().all(|&c| c == assignment[0]));
    assert!(assignment[30..].iter().all(|&c| c == assignment[30]));
    assert_ne!(assignment[0], assignment[30]);
}

#[test]
fn descriptor_errors() {
    let data = line(20);
    let rows = DescriptorRows::new(&data, 1).unwrap();
    assert!(DescriptorRows::new(&data, 3).is_err());
    assert!(DescriptorRows::new(&[], 1).is_err());
    let split = SplitRequest::new(
        Strategy::ClusterHoldout(ClusterHoldoutParams::new(&rows, 4, 1)),
        0,
    )
    .generate_with_descriptors(&rows)
    .unwrap();
    // Different descriptors: fingerprint mismatch.
    let mut other = data.clone();
    other[3] += 1e-12;
    let other_rows = DescriptorRows::new(&other, 1).unwrap();
    assert!(matches!(
        split.verify_with_descriptors(&other_rows).unwrap_err(),
        SplitError::DescriptorMismatch { .. }
    ));
    // Wrong frame count.
    let short = DescriptorRows::new(&data[..10], 1).unwrap();
    assert!(matches!(
        split.verify_with_descriptors(&short).unwrap_err(),
        SplitError::DescriptorShape {
            expected: 20,
            got: 10
        }
    ));
    // Non-finite descriptor.
    let mut bad = data.clone();
    bad[7] = f64::NAN;
    let bad_rows = DescriptorRows::new(&bad, 1).unwrap();
    let mut params = ClusterHoldoutParams::new(&bad_rows, 2, 1);
    assert!(matches!(
        SplitRequest::new(Strategy::ClusterHoldout(params.clone()), 0)
            .generate_with_descriptors(&bad_rows)
            .unwrap_err(),
        SplitError::NonFiniteDescriptor {
            frame: 7,
            column: 0,
            ..
        }
    ));
    // Holding out every cluster leaves no training data.
    params = ClusterHoldoutParams::new(&rows, 2, 2);
    assert!(matches!(
        SplitRequest::new(Strategy::ClusterHoldout(params), 0)
            .generate_with_descriptors(&rows)
            .unwrap_err(),
        SplitError::InvalidParameter { .. }
    ));
    let too_many = FarthestPointParams::new(&rows, 20, SelectedRole::Train, None);
    assert!(matches!(
        SplitRequest::new(Strategy::FarthestPoint(too_many), 0)
            .generate_with_descriptors(&rows)
            .unwrap_err(),
        SplitError::SizeTooLarge { .. }
    ));
}
