//! One Adam / AMSGrad step and one gradient-norm clip on a 1e6-parameter vector.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlff_train::{Adam, AdamConfig, clip_gradient_norm};
use std::hint::black_box;

const N: usize = 1_000_000;

fn vectors() -> (Vec<f64>, Vec<f64>) {
    let params = (0..N).map(|i| ((i % 977) as f64 - 488.0) * 1e-3).collect();
    let grad = (0..N).map(|i| ((i % 613) as f64 - 306.0) * 1e-4).collect();
    (params, grad)
}

fn optimizer_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_1e6");
    group.throughput(Throughput::Elements(N as u64));
    for amsgrad in [false, true] {
        let name = if amsgrad { "amsgrad_step" } else { "adam_step" };
        let (mut params, grad) = vectors();
        let config = AdamConfig {
            amsgrad,
            ..AdamConfig::default()
        };
        let mut adam = Adam::new(N, config).expect("valid config");
        group.bench_function(name, |b| {
            b.iter(|| adam.step(black_box(&mut params), black_box(&grad), 1e-3))
        });
    }
    let (_, mut grad) = vectors();
    group.bench_function("clip_gradient_norm", |b| {
        b.iter(|| clip_gradient_norm(black_box(&mut grad), 1e9))
    });
    group.finish();
}

criterion_group!(benches, optimizer_step);
criterion_main!(benches);
