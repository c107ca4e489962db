//! Per-atom SOAP time for ethanol and aspirin at (r_cut 5, n_max 8, l_max 6, sigma 0.5).
//!
//! Frames come from `../shared/data/extxyz/*.xyz` (or `$MLFFBENCH_SHARED/data/extxyz`) when
//! present; otherwise a seeded random compact cluster with the molecule's composition is used
//! (for molecules this small every atom is inside the 6.9 Å neighbour cutoff either way, so the
//! work per atom is the same). Throughput is reported per atom.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlff_soap::{Soap, SoapParams};
use ndarray::{Array1, Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;
use std::path::PathBuf;

/// Frames of one molecule: atomic numbers and positions `(frames, atoms, 3)`.
struct Frames {
    numbers: Array1<u32>,
    positions: Array3<f64>,
    source: String,
}

fn atomic_number(symbol: &str) -> Option<u32> {
    match symbol {
        "H" => Some(1),
        "C" => Some(6),
        "N" => Some(7),
        "O" => Some(8),
        _ => None,
    }
}

/// Minimal extended-XYZ reader (species and the first three columns), first `max_frames`.
fn read_xyz(path: &PathBuf, max_frames: usize) -> Option<Frames> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    let mut numbers = Vec::new();
    let mut coords = Vec::new();
    let mut n_frames = 0;
    while n_frames < max_frames {
        let Some(header) = lines.next() else { break };
        let n: usize = header.trim().parse().ok()?;
        lines.next()?;
        let mut frame_numbers = Vec::with_capacity(n);
        for _ in 0..n {
            let mut fields = lines.next()?.split_whitespace();
            frame_numbers.push(atomic_number(fields.next()?)?);
            for _ in 0..3 {
                coords.push(fields.next()?.parse::<f64>().ok()?);
            }
        }
        if n_frames > 0 && frame_numbers != numbers {
            return None;
        }
        numbers = frame_numbers;
        n_frames += 1;
    }
    let n_atoms = numbers.len();
    Some(Frames {
        numbers: Array1::from(numbers),
        positions: Array3::from_shape_vec((n_frames, n_atoms, 3), coords).ok()?,
        source: path.display().to_string(),
    })
}

/// Seeded compact cluster: atoms placed in a sphere with a 1.0 Å minimum separation.
fn generated(numbers: &[u32], radius: f64, seed: u64) -> Frames {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos: Vec<[f64; 3]> = Vec::new();
    while pos.len() < numbers.len() {
        let p = [
            rng.random_range(-radius..radius),
            rng.random_range(-radius..radius),
            rng.random_range(-radius..radius),
        ];
        let inside = p.iter().map(|x| x * x).sum::<f64>() <= radius * radius;
        let apart = pos
            .iter()
            .all(|q| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>() >= 1.0);
        if inside && apart {
            pos.push(p);
        }
    }
    let flat: Vec<f64> = pos.iter().flatten().copied().collect();
    Frames {
        numbers: Array1::from(numbers.to_vec()),
        positions: Array3::from_shape_vec((1, numbers.len(), 3), flat).expect("n × 3"),
        source: format!("generated cluster (seed {seed})"),
    }
}

fn composition(counts: &[(u32, usize)]) -> Vec<u32> {
    counts
        .iter()
        .flat_map(|&(z, n)| std::iter::repeat_n(z, n))
        .collect()
}

fn molecules() -> Vec<(&'static str, Frames)> {
    let dir = mlff_testkit::shared_dir()
        .unwrap_or_default()
        .join("data/extxyz");
    let ethanol = read_xyz(&dir.join("ethanol_md17_2000_random.xyz"), 10)
        .unwrap_or_else(|| generated(&composition(&[(6, 2), (8, 1), (1, 6)]), 2.2, 1));
    let aspirin = read_xyz(&dir.join("aspirin_ccsd_15.xyz"), 10)
        .unwrap_or_else(|| generated(&composition(&[(6, 9), (8, 4), (1, 8)]), 3.2, 2));
    vec![("ethanol", ethanol), ("aspirin", aspirin)]
}

fn bench_soap(c: &mut Criterion) {
    let soap = Soap::new(SoapParams::new(&[1, 6, 8], 5.0, 8, 6, 0.5)).expect("valid parameters");
    let mut group = c.benchmark_group("soap_per_atom");
    for (name, frames) in molecules() {
        eprintln!("{name}: {}", frames.source);
        let n_atoms = frames.numbers.len();
        let first: Array2<f64> = frames.positions.index_axis(ndarray::Axis(0), 0).to_owned();
        group.throughput(Throughput::Elements(n_atoms as u64));
        group.bench_function(format!("{name}_single_thread"), |b| {
            b.iter(|| {
                soap.compute(black_box(frames.numbers.view()), black_box(first.view()))
                    .expect("valid frame")
            })
        });
        let n_frames = frames.positions.len_of(ndarray::Axis(0));
        group.throughput(Throughput::Elements((n_atoms * n_frames) as u64));
        group.bench_function(format!("{name}_batch_{n_frames}_frames_rayon"), |b| {
            b.iter(|| {
                soap.compute_batch(frames.numbers.view(), frames.positions.view(), None)
                    .expect("valid frames")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_soap);
criterion_main!(benches);
