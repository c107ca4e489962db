//! Criterion benchmarks of NequIP's `uvu` convolution tensor product, forward and backward
//! (all three gradients), with per-edge weights. Throughput is reported in FLOP/s of the
//! sparse contraction as counted by `TensorProduct::{forward,backward}_flops_per_sample`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mlff_e3::{Irreps, Scalar, TensorProduct, Weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

/// `mul` copies of every irrep up to `lmax`, both parities (NequIP hidden features with parity).
fn features(mul: usize, lmax: u32) -> Irreps {
    let blocks: Vec<String> = (0..=lmax)
        .flat_map(|l| [format!("{mul}x{l}e"), format!("{mul}x{l}o")])
        .collect();
    blocks.join("+").parse().unwrap()
}

fn random<T: Scalar>(rng: &mut ChaCha8Rng, n: usize) -> Vec<T> {
    (0..n)
        .map(|_| T::from_f64(rng.random_range(-1.0..1.0)))
        .collect()
}

fn bench_config<T: Scalar>(c: &mut Criterion, name: &str, mul: usize, lmax: u32, edges: usize) {
    let feat = features(mul, lmax);
    let tp = TensorProduct::nequip_convolution(&feat, &Irreps::spherical_harmonics(lmax), &feat)
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (d1, d2, dout) = (
        tp.irreps_in1().dim(),
        tp.irreps_in2().dim(),
        tp.irreps_out().dim(),
    );
    let x1: Vec<T> = random(&mut rng, edges * d1);
    let x2: Vec<T> = random(&mut rng, edges * d2);
    let w: Vec<T> = random(&mut rng, edges * tp.weight_numel());
    let g: Vec<T> = random(&mut rng, edges * dout);
    let mut out = vec![T::zero(); edges * dout];
    let (mut g1, mut g2, mut gw) = (
        vec![T::zero(); x1.len()],
        vec![T::zero(); x2.len()],
        vec![T::zero(); w.len()],
    );
    let nnz: usize = tp.paths().iter().map(|p| p.entries.len()).sum();
    eprintln!(
        "{name}: {} paths, {nnz} non-zero 3j entries, weights/edge {}, dims {d1}x{d2}->{dout}, \
         FLOP/edge fwd {} bwd {}",
        tp.paths().len(),
        tp.weight_numel(),
        tp.forward_flops_per_sample(),
        tp.backward_flops_per_sample()
    );
    let mut group = c.benchmark_group(format!("uvu_tp/{name}"));
    group.sample_size(10);
    group.throughput(Throughput::Elements(
        (tp.forward_flops_per_sample() * edges) as u64,
    ));
    group.bench_function(BenchmarkId::new("forward", edges), |b| {
        b.iter(|| {
            tp.forward(black_box(&x1), &x2, Weights::PerSample(&w), &mut out)
                .unwrap()
        })
    });
    group.throughput(Throughput::Elements(
        (tp.backward_flops_per_sample() * edges) as u64,
    ));
    group.bench_function(BenchmarkId::new("backward", edges), |b| {
        b.iter(|| {
            tp.backward(
                black_box(&x1),
                &x2,
                Weights::PerSample(&w),
                &g,
                &mut g1,
                &mut g2,
                &mut gw,
            )
            .unwrap()
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_config::<f32>(c, "rmd17_64ch_l3_f32", 64, 3, 2000);
    bench_config::<f64>(c, "rmd17_64ch_l3_f64", 64, 3, 2000);
    bench_config::<f32>(c, "small_32ch_l2_f32", 32, 2, 2000);
}

criterion_group!(tp_benches, benches);
criterion_main!(tp_benches);
