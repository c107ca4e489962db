//! Splits as JSON documents: round trip, regeneration and tamper detection.

use mlff_splits::*;

fn sample_request() -> SplitRequest {
    let time = TimeOrder::from_md_steps(&[
        5, 3, 9, 1, 7, 2, 8, 0, 6, 4, 12, 11, 10, 13, 14, 15, 16, 17, 18, 19,
    ])
    .unwrap()
    .with_timestep_fs(0.5)
    .unwrap();
    SplitRequest::new(
        Strategy::SlidingWindows(SlidingWindowParams {
            segment: TimeTestSegment {
                time: Some(time),
                test_fraction: 0.2,
                gap: 1,
            },
            window: 6,
            placement: WindowPlacement::Stride(4),
        }),
        123,
    )
    .with_validation(Validation {
        size: Size::Fraction(0.34),
        placement: ValidationPlacement::Random,
    })
}

#[test]
fn json_round_trip_and_verify() {
    let split = sample_request().generate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("split.json");
    split.write_json(&path).unwrap();
    let back = Split::read_json(&path).unwrap();
    assert_eq!(back, split);
    back.verify().unwrap();
    let text = split.to_json().unwrap();
    assert!(text.contains("\"strategy\": \"sliding_windows\""), "{text}");
    assert!(text.contains("\"format\": \"mlffbench-split/1\""));
    assert!(
        split.summary().contains("window [1, 7)"),
        "{}",
        split.summary()
    );
}

#[test]
fn verify_detects_edited_indices_and_parameters() {
    let split = sample_request().generate().unwrap();
    let mut edited = split.clone();
    if let SplitIndices::Windows { windows, .. } = &mut edited.indices {
        windows[0].train[0] += 100;
    }
    assert!(matches!(
        edited.verify().unwrap_err(),
        SplitError::Mismatch { .. }
    ));
    let mut reseeded = split.clone();
    reseeded.request.seed += 1;
    assert!(matches!(
        reseeded.verify().unwrap_err(),
        SplitError::Mismatch { .. }
    ));
    let mut wrong_format = split;
    wrong_format.format = "other".into();
    assert!(matches!(
        wrong_format.verify().unwrap_err(),
        SplitError::Mismatch { .. }
    ));
}

#[test]
fn hand_written_json_request_is_accepted() {
    let text = r#"{
        "format": "mlffbench-split/1",
        "request": {
            "strategy": "time_holdout",
            "time": { "n_frames": 10, "timestep_fs": 0.5 },
            "gap": 2,
            "seed": 0
        },
        "indices": { "kind": "single", "train": [0,1,2,3,4,5,6], "validation": [], "test": [9] }
    }"#;
    let split = Split::from_json(text).unwrap();
    // Default test fraction 0.1 of 10 frames is 1 frame; gap 2 leaves frames 0..7 for training.
    split.verify().unwrap();
    assert!(matches!(
        Split::from_json("{").unwrap_err(),
        SplitError::Json(_)
    ));
    let missing = std::path::Path::new("/nonexistent/split.json");
    assert!(matches!(
        Split::read_json(missing).unwrap_err(),
        SplitError::Io { .. }
    ));
}

#[test]
fn runs_give_a_uniform_view() {
    let split = sample_request().generate().unwrap();
    let runs = split.runs();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0].name, "window 0 [1, 7)");
    let SplitIndices::Windows { test, windows, .. } = &split.indices else {
        panic!("expected windows")
    };
    for (run, window) in runs.iter().zip(windows) {
        assert_eq!(run.test.frames, *test);
        assert_eq!(run.train[0].frames, window.train);
        assert_eq!(run.validation[0].frames, window.validation);
        assert_eq!(run.train[0].dataset, SINGLE_DATASET);
    }
    let curve = SplitRequest::new(
        Strategy::LearningCurve(LearningCurveParams {
            n_frames: 100,
            sizes: vec![5, 20],
            pool: LearningPool::Random {
                test: Size::Count(10),
            },
        }),
        0,
    )
    .generate()
    .unwrap();
    let names: Vec<String> = curve.runs().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["n_train = 5", "n_train = 20"]);
}
