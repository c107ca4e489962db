//! Hot paths of mlff-md: UFF energy+forces, trajectory generation, sGDML evaluation.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mlff_md::{
    Molecule, Potential, SgdmlModel, TrajectoryConfig, UffPotential, generate_trajectory,
};

fn uff_energy_forces(c: &mut Criterion) {
    for name in ["aspirin", "ethanol"] {
        let molecule = Molecule::builtin(name).unwrap();
        let uff = UffPotential::new(&molecule).unwrap();
        let pos = molecule.positions();
        let mut forces = vec![[0.0; 3]; pos.len()];
        c.bench_function(&format!("uff_energy_forces/{name}"), |b| {
            b.iter(|| uff.energy_forces(black_box(&pos), &mut forces).unwrap())
        });
    }
}

fn trajectory_generation(c: &mut Criterion) {
    let molecule = Molecule::builtin("aspirin").unwrap();
    let uff = UffPotential::new(&molecule).unwrap();
    let config = TrajectoryConfig {
        equilibration_steps: 0,
        n_frames: 2000,
        save_every: 1,
        ..TrajectoryConfig::default()
    };
    let mut group = c.benchmark_group("trajectory");
    group.sample_size(20);
    group.bench_function("aspirin_langevin_2000_steps", |b| {
        b.iter(|| {
            generate_trajectory(
                &molecule.atomic_numbers(),
                &molecule.positions(),
                &uff,
                &config,
                &mut |_| {},
            )
            .unwrap()
        })
    });
    group.finish();
}

fn sgdml_energy_forces(c: &mut Criterion) {
    // Third-party model: the benchmark is skipped with a notice where it is absent.
    let Some(path) = mlff_testkit::third_party("sgdml/ethanol.npz") else {
        return;
    };
    let model = SgdmlModel::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut group = c.benchmark_group("sgdml");
    group.sample_size(20);
    group.bench_function("ethanol_energy_forces", |b| {
        let pos = model.training_geometry(0).unwrap();
        let mut forces = vec![[0.0; 3]; pos.len()];
        b.iter(|| model.energy_forces(black_box(&pos), &mut forces).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches,
    uff_energy_forces,
    trajectory_generation,
    sgdml_energy_forces
);
criterion_main!(benches);
