//! Fit and prediction time of the pair model on a synthetic UFF trajectory of ethanol.

use criterion::{Criterion, criterion_group, criterion_main};
use mlff_baseline::{PairConfig, fit};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let data = common::uff_trajectory("ethanol", 400, 3);
    c.bench_function("fit ethanol 400 frames", |b| {
        b.iter(|| fit(PairConfig::default(), &[&data]).unwrap())
    });
    let model = fit(PairConfig::default(), &[&data]).unwrap();
    c.bench_function("predict ethanol 400 frames", |b| {
        b.iter(|| model.predict(&data).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
