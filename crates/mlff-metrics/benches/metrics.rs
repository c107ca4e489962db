//! Scoring 100,000 frames of 21 atoms (aspirin-sized rMD17 test set), and the statistics on
//! per-frame errors of that size.

use criterion::{Criterion, criterion_group, criterion_main};
use mlff_metrics::*;
use ndarray::{Array1, Array3};
use std::hint::black_box;

const FRAMES: usize = 100_000;
const ATOMS: usize = 21;

fn synthetic(shift: f64) -> (Array1<f64>, Array3<f64>) {
    let e = Array1::from_shape_fn(FRAMES, |t| {
        -406_000.0 + ((t as f64 * 0.37 + shift).sin()) * 5.0
    });
    let f = Array3::from_shape_fn((FRAMES, ATOMS, 3), |(t, a, c)| {
        ((t * 63 + a * 3 + c) as f64 * 0.618 + shift).sin() * 30.0
    });
    (e, f)
}

fn bench(c: &mut Criterion) {
    let (re, rf) = synthetic(0.0);
    let (pe, pf) = synthetic(0.05);
    let z: Array1<u8> = [
        6u8, 6, 6, 6, 6, 6, 6, 6, 6, 8, 8, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1,
    ]
    .into_iter()
    .collect();
    let reference = Labels::new(re.view(), rf.view());
    let predicted = Labels::new(pe.view(), pf.view());
    let species = AtomicNumbers::Shared(z.view());
    let mut group = c.benchmark_group("metrics_100000x21");
    group.sample_size(20);
    group.bench_function("score", |b| {
        b.iter(|| {
            black_box(score(&predicted, &reference, &species, EnergyUnit::KcalPerMol).unwrap())
        })
    });
    let scores = score(&predicted, &reference, &species, EnergyUnit::KcalPerMol).unwrap();
    let options = BootstrapOptions {
        resamples: 200,
        confidence: 0.95,
        seed: 0,
    };
    group.bench_function("bootstrap_4_metrics_200_resamples", |b| {
        b.iter(|| black_box(scores.bootstrap(&options).unwrap()))
    });
    let x: Vec<f64> = scores
        .per_frame
        .iter()
        .map(|f| f.energy_error_per_atom)
        .collect();
    let y: Vec<f64> = scores
        .per_frame
        .iter()
        .map(|f| f.force_component_mae)
        .collect();
    group.bench_function("pearson", |b| {
        b.iter(|| black_box(pearson(&x, &y).unwrap()))
    });
    group.bench_function("spearman", |b| {
        b.iter(|| black_box(spearman(&x, &y).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
