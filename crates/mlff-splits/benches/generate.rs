//! Split generation on rMD17-sized data (100,000 frames), and descriptor-based strategies on
//! 10,000 frames × 32-dimensional descriptors.

use criterion::{Criterion, criterion_group, criterion_main};
use mlff_splits::*;
use std::hint::black_box;

const N: usize = 100_000;

fn segment(time: TimeOrder) -> TimeTestSegment {
    TimeTestSegment {
        time: Some(time),
        test_fraction: 0.1,
        gap: 100,
    }
}

fn val() -> Validation {
    Validation {
        size: Size::Count(50),
        placement: ValidationPlacement::Random,
    }
}

fn bench_frame_strategies(c: &mut Criterion) {
    let shuffled: Vec<u64> = (0..N as u64)
        .map(|i| (i * 7919) % N as u64 * 5 + 3)
        .collect();
    let time = TimeOrder::from_md_steps(&shuffled).unwrap();
    let requests = [
        (
            "random_1000_train_1000_test",
            Strategy::Random(RandomParams {
                n_frames: N,
                test: Size::Count(1000),
                train: Some(Size::Count(1000)),
            }),
        ),
        (
            "time_holdout",
            Strategy::TimeHoldout(TimeHoldoutParams {
                segment: segment(time.clone()),
            }),
        ),
        (
            "sliding_windows_5x1000",
            Strategy::SlidingWindows(SlidingWindowParams {
                segment: segment(time),
                window: 1000,
                placement: WindowPlacement::Positions(5),
            }),
        ),
        (
            "learning_curve_8_sizes_to_50000",
            Strategy::LearningCurve(LearningCurveParams {
                n_frames: N,
                sizes: vec![200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000],
                pool: LearningPool::Random {
                    test: Size::Count(1000),
                },
            }),
        ),
        (
            "cross_dataset_loo_10x100000",
            Strategy::CrossDataset(CrossDatasetParams {
                datasets: (0..10)
                    .map(|i| DatasetFrames {
                        label: format!("mol{i}"),
                        n_frames: N,
                    })
                    .collect(),
                plan: CrossPlan::LeaveOneOut,
                train_per_dataset: Some(1000),
                test_per_dataset: Some(1000),
            }),
        ),
    ];
    let mut group = c.benchmark_group("split_100000_frames");
    for (name, strategy) in requests {
        let request = SplitRequest::new(strategy, 0).with_validation(val());
        group.bench_function(name, |b| b.iter(|| black_box(request.generate().unwrap())));
    }
    let split = SplitRequest::new(
        Strategy::TimeHoldout(TimeHoldoutParams {
            segment: segment(TimeOrder::file_order(N)),
        }),
        0,
    )
    .generate()
    .unwrap();
    group.bench_function("time_holdout_json_round_trip_and_verify", |b| {
        b.iter(|| {
            let back = Split::from_json(&split.to_json().unwrap()).unwrap();
            back.verify().unwrap();
        })
    });
    group.finish();
}

fn bench_descriptor_strategies(c: &mut Criterion) {
    let (n, dim) = (10_000, 32);
    let data: Vec<f64> = (0..n * dim)
        .map(|i| ((i as f64 * 0.618_033_988_7).fract() - 0.5) * (1.0 + (i / dim % 5) as f64))
        .collect();
    let rows = DescriptorRows::new(&data, dim).unwrap();
    let mut group = c.benchmark_group("descriptor_10000x32");
    group.sample_size(10);
    group.bench_function("farthest_point_200_picks", |b| {
        b.iter(|| black_box(farthest_point_order(&rows, 200, 0)))
    });
    group.bench_function("kmeans_k10_max20_iterations", |b| {
        b.iter(|| black_box(kmeans(&rows, 10, 20, 0)))
    });
    group.bench_function("fingerprint", |b| b.iter(|| black_box(fingerprint(&rows))));
    group.finish();
}

criterion_group!(benches, bench_frame_strategies, bench_descriptor_strategies);
criterion_main!(benches);
