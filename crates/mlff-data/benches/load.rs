//! Loading an rMD17-sized file: 100,000 frames × 21 atoms (aspirin's size), generated here.
//!
//! `cargo bench -p mlff-data --bench load`

use criterion::{Criterion, criterion_group, criterion_main};
use mlff_data::{Dataset, DatasetParts, OutputFormat, Provenance, Species, TimeOrder, Units};
use ndarray::{Array1, Array3};
use std::hint::black_box;

const FRAMES: usize = 100_000;
const ATOMS: usize = 21;

/// A deterministic synthetic trajectory with rMD17's shapes and a shuffled `old_indices`.
fn synthetic_rmd17() -> Dataset {
    let wave = |i: usize| ((i as f64) * 0.618_033_988_75).fract() - 0.5;
    let positions = Array3::from_shape_fn((FRAMES, ATOMS, 3), |(t, a, k)| {
        a as f64 + 0.1 * wave(t * 63 + a * 3 + k)
    });
    let forces = Array3::from_shape_fn((FRAMES, ATOMS, 3), |(t, a, k)| {
        30.0 * wave(t * 71 + a * 5 + k)
    });
    let energies = Array1::from_shape_fn(FRAMES, |t| -406_000.0 + 5.0 * wave(t));
    let old_indices = (0..FRAMES as u64)
        .map(|i| (i * 7_919) % FRAMES as u64)
        .collect();
    let species = [
        6u8, 6, 6, 6, 6, 6, 6, 6, 6, 8, 8, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1,
    ];
    Dataset::new(DatasetParts {
        species: Species::Fixed(Array1::from(species.to_vec())),
        positions,
        energies: Some(energies),
        forces: Some(forces),
        time_order: TimeOrder::Indexed(old_indices),
        units: Units::KCAL_MOL_ANGSTROM,
        provenance: Provenance {
            molecule: Some("synthetic".into()),
            ..Provenance::default()
        },
    })
    .expect("synthetic data is valid")
}

fn load_rmd17_sized(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let npz = dir.path().join("rmd17_synthetic.npz");
    let xyz = dir.path().join("synthetic.xyz");
    let data = synthetic_rmd17();
    mlff_data::save(&data, &npz, OutputFormat::Rmd17Npz).expect("write npz");
    let small = data
        .select(&(0..10_000).collect::<Vec<_>>())
        .and_then(|s| s.to_dataset())
        .expect("subset");
    mlff_data::save(&small, &xyz, OutputFormat::ExtXyz).expect("write xyz");
    drop(data);

    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.bench_function("rmd17_npz_100000x21", |b| {
        b.iter(|| black_box(mlff_data::load(&npz).expect("load")))
    });
    group.bench_function("extxyz_10000x21", |b| {
        b.iter(|| black_box(mlff_data::load(&xyz).expect("load")))
    });
    let loaded = mlff_data::load(&npz).expect("load");
    group.bench_function("time_ordered_100000", |b| {
        b.iter(|| black_box(loaded.time_ordered().expect("order").len()))
    });
    group.finish();
}

criterion_group!(benches, load_rmd17_sized);
criterion_main!(benches);
