//! Energy+forces and one training step for a batch of 5 aspirin frames (21 atoms), float32,
//! at the two sizes of the issue: l_max 2 / 3 layers / 32 features (r_max 5) and the paper's
//! rMD17 configuration (l_max 3 / 5 layers / 64 features / radial MLP 3×64, r_max 4).
//!
//! `training_step` is what one step of `cargo xtask train` does: loss and exact gradient, the
//! AMSGrad Adam update and the EMA of the weights. Like `xtask`, this binary allocates through
//! mimalloc (see `xtask/src/main.rs`).
#![allow(missing_docs)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{Criterion, criterion_group, criterion_main};
use mlff_md::Molecule;
use mlff_nequip::{AtomicGraph, Nequip, NequipConfig, NumFeatures, Targets, batch_loss_gradient};
use mlff_train::{Adam, Ema, TrainConfig};
use rand::{Rng, SeedableRng};
use std::cell::OnceCell;

struct Size {
    name: &'static str,
    l_max: u32,
    layers: usize,
    features: usize,
    mlp_depth: usize,
    r_max: f64,
}

const SIZES: [Size; 2] = [
    Size {
        name: "l2_3layers_32ch_r5",
        l_max: 2,
        layers: 3,
        features: 32,
        mlp_depth: 2,
        r_max: 5.0,
    },
    Size {
        name: "paper_l3_5layers_64ch_r4",
        l_max: 3,
        layers: 5,
        features: 64,
        mlp_depth: 3,
        r_max: 4.0,
    },
];

fn setup(size: &Size) -> (Nequip, AtomicGraph) {
    let mol = Molecule::builtin("aspirin").unwrap();
    let numbers = mol.atomic_numbers();
    let mut c = NequipConfig::new(vec!["H".into(), "C".into(), "O".into()], size.r_max);
    c.l_max = size.l_max;
    c.num_layers = size.layers;
    c.num_features = NumFeatures::Uniform(size.features);
    c.radial_mlp_depth = size.mlp_depth;
    c.radial_mlp_width = 64;
    c.avg_num_neighbors = Some(15.0);
    c.model_dtype = "float32".into();
    let model = Nequip::new(c).unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let frames: Vec<Vec<[f64; 3]>> = (0..5)
        .map(|_| {
            mol.positions()
                .iter()
                .map(|p| p.map(|x| x + rng.random_range(-0.05..0.05)))
                .collect()
        })
        .collect();
    let graph = model
        .graph(frames.iter().map(|p| (numbers.as_slice(), p.as_slice())))
        .unwrap();
    (model, graph)
}

/// A configuration's model, graph and training targets (its own predictions, forces + 0.1).
struct Case {
    model: Nequip,
    graph: AtomicGraph,
    energies: Vec<f64>,
    forces: Vec<f64>,
}

impl Case {
    fn new(size: &Size) -> Self {
        let (model, graph) = setup(size);
        let flops = model
            .architecture()
            .forward_flops(graph.num_atoms(), graph.num_edges());
        eprintln!(
            "{}: {} edges, forward {:.1} MFLOP per frame ({} parameters)",
            size.name,
            graph.num_edges(),
            flops as f64 / 5.0 / 1e6,
            model.params().len()
        );
        let pred = model.predict_as::<f64>(&graph).unwrap();
        let forces = pred.forces.iter().map(|f| f + 0.1).collect();
        Case {
            model,
            graph,
            energies: pred.energies,
            forces,
        }
    }

    fn targets(&self) -> Targets<'_> {
        Targets {
            energies: &self.energies,
            forces: &self.forces,
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("nequip_aspirin_batch5_f32");
    group.sample_size(10);
    let train = TrainConfig::rmd17_paper();
    let loss = train.loss().unwrap();
    for size in &SIZES {
        // Built on first use: a filtered run (and its profile) holds only what it measures.
        let case = OnceCell::new();
        let case = || case.get_or_init(|| Case::new(size));
        group.bench_function(format!("energy_forces/{}", size.name), |b| {
            let case = case();
            b.iter(|| case.model.predict_as::<f32>(&case.graph).unwrap())
        });
        group.bench_function(format!("loss_and_gradient/{}", size.name), |b| {
            let case = case();
            let arch = case.model.architecture();
            b.iter(|| {
                let params = case.model.params();
                batch_loss_gradient::<f32>(arch, params, &case.graph, case.targets(), &loss)
                    .unwrap()
            })
        });
        group.bench_function(format!("training_step/{}", size.name), |b| {
            let case = case();
            let mut params = case.model.params().to_vec();
            let mut adam = Adam::new(params.len(), train.adam()).unwrap();
            let mut ema = Ema::new(&params, train.ema_decay, train.ema_use_num_updates).unwrap();
            b.iter(|| {
                let (_, grad) = batch_loss_gradient::<f32>(
                    case.model.architecture(),
                    &params,
                    &case.graph,
                    case.targets(),
                    &loss,
                )
                .unwrap();
                adam.step(&mut params, &grad, train.learning_rate).unwrap();
                ema.update(&params);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
