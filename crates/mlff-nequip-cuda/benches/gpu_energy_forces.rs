//! Energy+forces of NequIP on the GPU, data resident on the device, for batches of aspirin
//! frames, and one training step's loss gradient, in the paper's rMD17 configuration (l_max 3, 5 layers, 64 features, radial MLP 3×64,
//! r_max 4 Å), float32 and float64. Without a GPU it prints a notice and measures nothing:
//! timing the CPU emulation would say nothing about the kernels.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mlff_cuda::{Backend, CudaBackend, DeviceReal};
use mlff_md::Molecule;
use mlff_nequip::{AtomicGraph, Nequip, NequipConfig, NumFeatures, Targets, loss_gradient_with};
use mlff_nequip_cuda::{DeviceNequip, DevicePasses};
use mlff_train::{LossCoeffs, LossFunction};
use rand::{Rng, SeedableRng};
use std::sync::Arc;

fn paper_model(dtype: &str) -> Nequip {
    let mut c = NequipConfig::new(vec!["H".into(), "C".into(), "O".into()], 4.0);
    (c.l_max, c.num_layers, c.num_features) = (3, 5, NumFeatures::Uniform(64));
    (c.radial_mlp_depth, c.radial_mlp_width) = (3, 64);
    c.avg_num_neighbors = Some(15.0);
    c.model_dtype = dtype.into();
    Nequip::new(c).unwrap()
}

fn aspirin_batch(model: &Nequip, frames: usize) -> AtomicGraph {
    let mol = Molecule::builtin("aspirin").unwrap();
    let numbers = mol.atomic_numbers();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let positions: Vec<Vec<[f64; 3]>> = (0..frames)
        .map(|_| {
            let jitter = |p: &[f64; 3]| p.map(|x| x + rng.random_range(-0.05..0.05));
            mol.positions().iter().map(jitter).collect()
        })
        .collect();
    model
        .graph(positions.iter().map(|p| (numbers.as_slice(), p.as_slice())))
        .unwrap()
}

fn bench_precision<T: DeviceReal>(c: &mut Criterion, gpu: &Arc<CudaBackend>, dtype: &str) {
    let model = paper_model(dtype);
    let device = DeviceNequip::<_, T>::new(gpu.clone(), &model).unwrap();
    let mut group = c.benchmark_group(format!("gpu_nequip_paper_aspirin_{dtype}"));
    group.sample_size(20);
    for frames in [5, 64] {
        let graph = aspirin_batch(&model, frames);
        let dg = device.upload_graph(&graph).unwrap();
        let pos: Vec<T> = graph.positions().iter().map(|&v| T::from_f64(v)).collect();
        let pos = gpu.upload(&pos).unwrap();
        group.throughput(Throughput::Elements(frames as u64));
        group.bench_function(format!("energy_forces_batch{frames}"), |b| {
            b.iter(|| {
                let out = device.energies_forces(&dg, &pos).unwrap();
                gpu.synchronize().unwrap();
                out
            })
        });
    }
    // One training step's loss and exact gradient (forces term via the dual pass), as
    // `cargo xtask train --device cuda` computes it, on the batch of 5 frames.
    let graph = aspirin_batch(&model, 5);
    let p = model.predict(&graph).unwrap();
    let targets = Targets {
        energies: &p.energies.iter().map(|e| e + 0.1).collect::<Vec<_>>(),
        forces: &p.forces.iter().map(|f| 0.9 * f).collect::<Vec<_>>(),
    };
    let loss = LossFunction::new(&LossCoeffs::default()).unwrap();
    let passes = DevicePasses::new(gpu.clone(), &model);
    group.bench_function("training_loss_gradient_batch5", |b| {
        b.iter(|| loss_gradient_with(&passes, model.params(), &graph, targets, &loss).unwrap())
    });
    group.finish();
}

fn bench(c: &mut Criterion) {
    let gpu = match CudaBackend::new(0) {
        Ok(gpu) => Arc::new(gpu),
        Err(e) => {
            eprintln!("NOTICE: no GPU benchmark: {e}");
            return;
        }
    };
    eprintln!("GPU: {:?} ({})", gpu.device_name(), gpu.arch());
    bench_precision::<f32>(c, &gpu, "float32");
    bench_precision::<f64>(c, &gpu, "float64");
}

criterion_group!(benches, bench);
criterion_main!(benches);
