//! Behaviour of each strategy on small hand-checkable cases, and the errors for bad requests.

use mlff_splits::*;

/// Indices pinned by `pinned_indices_for_a_fixed_seed`.
const PINNED_TEST: [usize; 5] = [3, 5, 11, 13, 14];
const PINNED_TRAIN: [usize; 6] = [0, 1, 2, 8, 9, 15];
const PINNED_VALIDATION: [usize; 2] = [4, 6];

fn random(n_frames: usize, test: Size, train: Option<Size>) -> Strategy {
    Strategy::Random(RandomParams {
        n_frames,
        test,
        train,
    })
}

fn single(split: &Split) -> &FrameSplit {
    match &split.indices {
        SplitIndices::Single(s) => s,
        other => panic!("expected a single split, got {other:?}"),
    }
}

fn validation(size: Size, placement: ValidationPlacement) -> Validation {
    Validation { size, placement }
}

#[test]
fn random_split_sizes_and_coverage() {
    let split = SplitRequest::new(random(100, Size::Fraction(0.2), None), 7)
        .with_validation(validation(Size::Count(8), ValidationPlacement::Random))
        .generate()
        .unwrap();
    let s = single(&split);
    assert_eq!(
        (s.train.len(), s.validation.len(), s.test.len()),
        (72, 8, 20)
    );
    let mut all: Vec<usize> = [&s.train[..], &s.validation, &s.test].concat();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert!(s.train.windows(2).all(|w| w[0] < w[1]), "sorted");
}

#[test]
fn random_split_depends_on_seed_and_train_size_does_not_change_test() {
    let a = SplitRequest::new(random(1000, Size::Count(100), Some(Size::Count(50))), 1)
        .generate()
        .unwrap();
    let b = SplitRequest::new(random(1000, Size::Count(100), Some(Size::Count(200))), 1)
        .generate()
        .unwrap();
    let c = SplitRequest::new(random(1000, Size::Count(100), Some(Size::Count(50))), 2)
        .generate()
        .unwrap();
    assert_eq!(
        single(&a).test,
        single(&b).test,
        "test draw has its own stream"
    );
    assert_ne!(single(&a).test, single(&c).test);
    assert_eq!(single(&a).train.len(), 50);
}

#[test]
fn random_split_bad_requests() {
    let err = |s: Strategy| SplitRequest::new(s, 0).generate().unwrap_err();
    assert!(matches!(
        err(random(10, Size::Fraction(0.0), None)),
        SplitError::FractionOutOfRange { .. }
    ));
    assert!(matches!(
        err(random(10, Size::Fraction(1.0), None)),
        SplitError::FractionOutOfRange { .. }
    ));
    assert!(matches!(
        err(random(10, Size::Fraction(f64::NAN), None)),
        SplitError::FractionOutOfRange { .. }
    ));
    assert!(matches!(
        err(random(10, Size::Count(11), None)),
        SplitError::SizeTooLarge {
            requested: 11,
            available: 10,
            ..
        }
    ));
    assert!(matches!(
        err(random(10, Size::Count(10), None)),
        SplitError::SizeTooLarge { .. }
    ));
    assert!(matches!(
        err(random(10, Size::Count(0), None)),
        SplitError::ZeroSize { .. }
    ));
    assert!(matches!(
        err(random(0, Size::Count(1), None)),
        SplitError::EmptyDataset { .. }
    ));
    assert!(matches!(
        err(random(10, Size::Count(2), Some(Size::Count(9)))),
        SplitError::SizeTooLarge {
            requested: 9,
            available: 8,
            ..
        }
    ));
    // Validation must leave a training frame, and `tail` needs a time order.
    let request = SplitRequest::new(random(10, Size::Count(2), None), 0);
    let too_big = request
        .clone()
        .with_validation(validation(Size::Count(8), ValidationPlacement::Random));
    assert!(matches!(
        too_big.generate().unwrap_err(),
        SplitError::SizeTooLarge { .. }
    ));
    let tail = request.with_validation(validation(Size::Count(2), ValidationPlacement::Tail));
    assert!(matches!(
        tail.generate().unwrap_err(),
        SplitError::InvalidParameter { .. }
    ));
}

fn segment(time: Option<TimeOrder>, test_fraction: f64, gap: usize) -> TimeTestSegment {
    TimeTestSegment {
        time,
        test_fraction,
        gap,
    }
}

#[test]
fn time_holdout_in_file_order() {
    let strategy = Strategy::TimeHoldout(TimeHoldoutParams {
        segment: segment(Some(TimeOrder::file_order(100)), 0.1, 5),
    });
    let split = SplitRequest::new(strategy, 0)
        .with_validation(validation(Size::Count(10), ValidationPlacement::Tail))
        .generate()
        .unwrap();
    let s = single(&split);
    assert_eq!(s.test, (90..100).collect::<Vec<_>>());
    assert_eq!(s.validation, (75..85).collect::<Vec<_>>());
    assert_eq!(s.train, (0..75).collect::<Vec<_>>());
}

#[test]
fn time_holdout_follows_md_steps() {
    // Frames stored shuffled, as in rMD17: MD step of each stored frame.
    let steps = [40u64, 10, 30, 0, 20, 90, 50, 70, 60, 80];
    let time = TimeOrder::from_md_steps(&steps).unwrap();
    let strategy = Strategy::TimeHoldout(TimeHoldoutParams {
        segment: segment(Some(time), 0.2, 1),
    });
    let split = SplitRequest::new(strategy, 0).generate().unwrap();
    let s = single(&split);
    // Latest two steps (80, 90) are frames 9 and 5; step 70 (frame 7) is the gap.
    assert_eq!(s.test, vec![5, 9]);
    assert_eq!(s.train, vec![0, 1, 2, 3, 4, 6, 8]);
}

#[test]
fn time_strategies_without_time_order_fail() {
    let holdout = Strategy::TimeHoldout(TimeHoldoutParams {
        segment: segment(None, 0.1, 0),
    });
    let windows = Strategy::SlidingWindows(SlidingWindowParams {
        segment: segment(None, 0.1, 0),
        window: 5,
        placement: WindowPlacement::Positions(2),
    });
    let curve = Strategy::LearningCurve(LearningCurveParams {
        n_frames: 100,
        sizes: vec![10],
        pool: LearningPool::Contiguous {
            segment: segment(None, 0.1, 0),
        },
    });
    for strategy in [holdout, windows, curve] {
        let err = SplitRequest::new(strategy, 0).generate().unwrap_err();
        assert!(matches!(err, SplitError::TimeOrderUnknown { .. }), "{err}");
    }
}

#[test]
fn time_holdout_bad_requests() {
    let run = |fraction, gap| {
        SplitRequest::new(
            Strategy::TimeHoldout(TimeHoldoutParams {
                segment: segment(Some(TimeOrder::file_order(100)), fraction, gap),
            }),
            0,
        )
        .generate()
        .unwrap_err()
    };
    assert!(matches!(run(0.0, 0), SplitError::FractionOutOfRange { .. }));
    assert!(matches!(run(1.0, 0), SplitError::FractionOutOfRange { .. }));
    assert!(matches!(run(0.001, 0), SplitError::ZeroSize { .. }));
    assert!(matches!(run(0.1, 90), SplitError::SizeTooLarge { .. }));
    assert!(matches!(
        TimeOrder::from_order(vec![0, 2, 2]).unwrap_err(),
        SplitError::InvalidTimeOrder { .. }
    ));
    assert!(matches!(
        TimeOrder::from_order(vec![0, 3, 1]).unwrap_err(),
        SplitError::InvalidTimeOrder { .. }
    ));
    assert!(matches!(
        TimeOrder::from_md_steps(&[1, 1, 2]).unwrap_err(),
        SplitError::InvalidTimeOrder { .. }
    ));
    assert!(matches!(
        TimeOrder::file_order(3).with_timestep_fs(-0.5).unwrap_err(),
        SplitError::InvalidTimestep { .. }
    ));
}

fn windows_split(placement: WindowPlacement, window: usize, gap: usize) -> Result<Split> {
    let time = TimeOrder::file_order(1000).with_timestep_fs(0.5).unwrap();
    SplitRequest::new(
        Strategy::SlidingWindows(SlidingWindowParams {
            segment: segment(Some(time), 0.1, gap),
            window,
            placement,
        }),
        3,
    )
    .generate()
}

#[test]
fn sliding_windows_by_positions() {
    let split = windows_split(WindowPlacement::Positions(3), 100, 10).unwrap();
    let SplitIndices::Windows {
        test_start,
        test,
        windows,
    } = &split.indices
    else {
        panic!("expected windows");
    };
    assert_eq!(*test_start, 900);
    assert_eq!(test, &(900..1000).collect::<Vec<_>>());
    // Pre-test part is 0..890; starts evenly spaced over 0..=790.
    let starts: Vec<usize> = windows.iter().map(|w| w.start).collect();
    assert_eq!(starts, vec![0, 395, 790]);
    let last = windows.last().unwrap();
    assert_eq!(
        (last.end, last.frames_to_test, last.md_steps_to_test),
        (890, 10, 11)
    );
    assert_eq!(last.time_to_test_fs, Some(5.5));
    assert_eq!(windows[0].time_to_test_fs, Some((900 - 99) as f64 * 0.5));
    assert_eq!(windows[1].train, (395..495).collect::<Vec<_>>());
}

#[test]
fn sliding_windows_by_stride_end_at_the_test_segment() {
    let split = windows_split(WindowPlacement::Stride(300), 200, 0).unwrap();
    let SplitIndices::Windows { windows, .. } = &split.indices else {
        panic!("expected windows");
    };
    let starts: Vec<usize> = windows.iter().map(|w| w.start).collect();
    assert_eq!(starts, vec![100, 400, 700]);
    assert_eq!(windows[2].frames_to_test, 0);
    assert_eq!(windows[2].md_steps_to_test, 1);
}

#[test]
fn sliding_windows_bad_requests() {
    assert!(matches!(
        windows_split(WindowPlacement::Positions(2), 901, 0).unwrap_err(),
        SplitError::WindowTooLarge {
            window: 901,
            pool: 900
        }
    ));
    assert!(matches!(
        windows_split(WindowPlacement::Positions(2), 900, 1).unwrap_err(),
        SplitError::WindowTooLarge { .. }
    ));
    assert!(matches!(
        windows_split(WindowPlacement::Positions(0), 10, 0).unwrap_err(),
        SplitError::InvalidParameter { .. }
    ));
    assert!(matches!(
        windows_split(WindowPlacement::Stride(0), 10, 0).unwrap_err(),
        SplitError::InvalidParameter { .. }
    ));
    assert!(matches!(
        windows_split(WindowPlacement::Positions(3), 899, 0).unwrap_err(),
        SplitError::InvalidParameter { .. }
    ));
    assert!(matches!(
        windows_split(WindowPlacement::Positions(3), 0, 0).unwrap_err(),
        SplitError::ZeroSize { .. }
    ));
}

#[test]
fn sliding_windows_distance_uses_md_steps() {
    // Every stored frame is 10 MD steps after the previous one.
    let steps: Vec<u64> = (0..100).map(|i| 10 * i).collect();
    let time = TimeOrder::from_md_steps(&steps)
        .unwrap()
        .with_timestep_fs(0.5)
        .unwrap();
    let split = SplitRequest::new(
        Strategy::SlidingWindows(SlidingWindowParams {
            segment: segment(Some(time), 0.1, 0),
            window: 10,
            placement: WindowPlacement::Positions(1),
        }),
        0,
    )
    .generate()
    .unwrap();
    let SplitIndices::Windows { windows, .. } = &split.indices else {
        panic!("expected windows");
    };
    assert_eq!(windows[0].md_steps_to_test, 10);
    assert_eq!(windows[0].time_to_test_fs, Some(5.0));
}

fn curve(pool: LearningPool, sizes: Vec<usize>) -> SplitRequest {
    SplitRequest::new(
        Strategy::LearningCurve(LearningCurveParams {
            n_frames: 200,
            sizes,
            pool,
        }),
        11,
    )
}

#[test]
fn contiguous_learning_curve_grows_backwards_from_the_test_segment() {
    let pool = LearningPool::Contiguous {
        segment: segment(Some(TimeOrder::file_order(200)), 0.1, 5),
    };
    let split = curve(pool, vec![10, 50])
        .with_validation(validation(Size::Count(5), ValidationPlacement::Tail))
        .generate()
        .unwrap();
    let SplitIndices::Nested {
        validation,
        test,
        subsets,
    } = &split.indices
    else {
        panic!("expected nested subsets");
    };
    assert_eq!(test, &(180..200).collect::<Vec<_>>());
    assert_eq!(validation, &(170..175).collect::<Vec<_>>());
    assert_eq!(subsets[0].train, (160..170).collect::<Vec<_>>());
    assert_eq!(subsets[1].train, (120..170).collect::<Vec<_>>());
}

#[test]
fn learning_curve_bad_requests() {
    let random_pool = || LearningPool::Random {
        test: Size::Count(20),
    };
    let err = |sizes: Vec<usize>| curve(random_pool(), sizes).generate().unwrap_err();
    assert!(matches!(
        err(vec![10, 10]),
        SplitError::SizesNotIncreasing { position: 1, .. }
    ));
    assert!(matches!(err(vec![]), SplitError::InvalidParameter { .. }));
    assert!(matches!(err(vec![0, 5]), SplitError::ZeroSize { .. }));
    assert!(matches!(
        err(vec![10, 181]),
        SplitError::SizeTooLarge {
            requested: 181,
            available: 180,
            ..
        }
    ));
    let mismatched = LearningPool::Contiguous {
        segment: segment(Some(TimeOrder::file_order(100)), 0.1, 0),
    };
    assert!(matches!(
        curve(mismatched, vec![5]).generate().unwrap_err(),
        SplitError::InvalidTimeOrder { .. }
    ));
}

fn datasets() -> Vec<DatasetFrames> {
    [("aspirin", 50), ("ethanol", 40), ("salicylic", 30)]
        .into_iter()
        .map(|(label, n_frames)| DatasetFrames {
            label: label.into(),
            n_frames,
        })
        .collect()
}

fn cross(plan: CrossPlan, per: Option<usize>) -> SplitRequest {
    SplitRequest::new(
        Strategy::CrossDataset(CrossDatasetParams {
            datasets: datasets(),
            plan,
            train_per_dataset: per,
            test_per_dataset: per,
        }),
        5,
    )
}

fn tasks(split: &Split) -> &[CrossTask] {
    match &split.indices {
        SplitIndices::Cross { tasks } => tasks,
        other => panic!("expected cross-dataset tasks, got {other:?}"),
    }
}

#[test]
fn cross_dataset_plans() {
    let pairs = cross(CrossPlan::AllPairs, Some(10)).generate().unwrap();
    assert_eq!(tasks(&pairs).len(), 6);
    assert_eq!(tasks(&pairs)[0].name, "aspirin -> ethanol");
    // A dataset's training frames are the same in every task that trains on it.
    assert_eq!(tasks(&pairs)[0].train, tasks(&pairs)[1].train);
    let loo = cross(CrossPlan::LeaveOneOut, None).generate().unwrap();
    let names: Vec<&str> = tasks(&loo).iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ethanol + salicylic -> aspirin",
            "aspirin + salicylic -> ethanol",
            "aspirin + ethanol -> salicylic"
        ]
    );
    assert_eq!(tasks(&loo)[0].test.frames.len(), 50);
    let union = cross(
        CrossPlan::Union {
            train: vec!["aspirin".into(), "salicylic".into()],
            test: "ethanol".into(),
        },
        None,
    )
    .with_validation(validation(Size::Count(8), ValidationPlacement::Random))
    .generate()
    .unwrap();
    let task = &tasks(&union)[0];
    let count = |sets: &[LabelledFrames]| sets.iter().map(|s| s.frames.len()).sum::<usize>();
    assert_eq!((count(&task.train), count(&task.validation)), (72, 8));
    for (train, val) in task.train.iter().zip(&task.validation) {
        assert_eq!(train.dataset, val.dataset);
        assert!(train.frames.iter().all(|f| !val.frames.contains(f)));
    }
}

#[test]
fn cross_dataset_bad_requests() {
    let err = |plan| cross(plan, None).generate().unwrap_err();
    assert!(matches!(
        err(CrossPlan::Union {
            train: vec!["benzene".into()],
            test: "ethanol".into()
        }),
        SplitError::UnknownDataset { .. }
    ));
    assert!(matches!(
        err(CrossPlan::Union {
            train: vec!["ethanol".into()],
            test: "ethanol".into()
        }),
        SplitError::InvalidParameter { .. }
    ));
    assert!(matches!(
        cross(CrossPlan::AllPairs, Some(31)).generate().unwrap_err(),
        SplitError::SizeTooLarge {
            requested: 31,
            available: 30,
            ..
        }
    ));
    let mut duplicate = datasets();
    duplicate[1].label = "aspirin".into();
    let request = SplitRequest::new(
        Strategy::CrossDataset(CrossDatasetParams {
            datasets: duplicate,
            plan: CrossPlan::AllPairs,
            train_per_dataset: None,
            test_per_dataset: None,
        }),
        0,
    );
    assert!(matches!(
        request.generate().unwrap_err(),
        SplitError::DuplicateDataset { .. }
    ));
}

/// Stored splits must keep verifying after code changes: these indices were produced by this
/// crate and are pinned, so any change to the sampling (streams, algorithms) fails here.
#[test]
fn pinned_indices_for_a_fixed_seed() {
    let split = SplitRequest::new(random(20, Size::Count(5), Some(Size::Count(8))), 42)
        .with_validation(validation(Size::Count(2), ValidationPlacement::Random))
        .generate()
        .unwrap();
    let s = single(&split);
    assert_eq!(s.test, PINNED_TEST);
    assert_eq!(s.train, PINNED_TRAIN);
    assert_eq!(s.validation, PINNED_VALIDATION);
}
