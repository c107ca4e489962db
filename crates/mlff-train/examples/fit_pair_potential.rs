//! Fits the crate's learnable pair potential with the full training machinery (statistics,
//! AMSGrad, plateau scheduler, EMA, checkpoints, curve).
//!
//! `cargo run -p mlff-train --example fit_pair_potential [DATASET] [OUT_DIR]`
//!
//! Without a dataset it generates 300 noisy 5-atom argon clusters labelled with a Lennard-Jones
//! potential (ε = 0.238 kcal/mol, σ = 3.4 Å); with one (e.g.
//! `../shared/data/md17_ethanol_first2000.npz`) it trains on its first 200 frames and validates
//! on its last 10%. Output goes to OUT_DIR (default `target/fit_pair_potential`).

use mlff_data::{Dataset, DatasetParts, Provenance, Species, TimeOrder, Units};
use mlff_train::pair_potential::{PairPotential, RadialBasis};
use mlff_train::{CheckpointKind, DataStats, Objective, TrainConfig, Trainer};
use ndarray::{Array1, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::error::Error;

const CONFIG: &str = "
seed: 1
max_epochs: 60
batch_size: 5
learning_rate: 0.02
optimizer_amsgrad: true
lr_scheduler_name: ReduceLROnPlateau
lr_scheduler_patience: 5
lr_scheduler_factor: 0.5
use_ema: true
ema_decay: 0.99
early_stopping_lower_bounds: {LR: 1.0e-5}
save_checkpoint_freq: 10
loss_coeffs:
  forces: 1
  total_energy: [1, PerAtomMSELoss]
";

/// Lennard-Jones argon clusters: a square pyramid of nearest-neighbour distance 3.8 Å, jiggled.
fn argon_clusters(n_frames: usize) -> Result<Dataset, Box<dyn Error + Send + Sync>> {
    let (eps, sigma) = (0.238, 3.4);
    let base = [
        [0.0, 0.0, 0.0],
        [3.8, 0.0, 0.0],
        [0.0, 3.8, 0.0],
        [3.8, 3.8, 0.0],
        [1.9, 1.9, 2.7],
    ];
    let n = base.len();
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut positions = Array3::zeros((n_frames, n, 3));
    let mut forces = Array3::zeros((n_frames, n, 3));
    let mut energies = Array1::zeros(n_frames);
    for t in 0..n_frames {
        for a in 0..n {
            for c in 0..3 {
                positions[(t, a, c)] = base[a][c] + rng.random_range(-0.3..0.3);
            }
        }
        for a in 0..n {
            for b in (a + 1)..n {
                let d: Vec<f64> = (0..3)
                    .map(|c| positions[(t, a, c)] - positions[(t, b, c)])
                    .collect();
                let r = d.iter().map(|x| x * x).sum::<f64>().sqrt();
                let s6 = (sigma / r).powi(6);
                energies[t] += 4.0 * eps * (s6 * s6 - s6);
                let de_dr = 4.0 * eps * (-12.0 * s6 * s6 + 6.0 * s6) / r;
                for c in 0..3 {
                    forces[(t, a, c)] -= de_dr * d[c] / r;
                    forces[(t, b, c)] += de_dr * d[c] / r;
                }
            }
        }
    }
    Ok(Dataset::new(DatasetParts {
        species: Species::Fixed(Array1::from(vec![18u8; n])),
        positions,
        energies: Some(energies),
        forces: Some(forces),
        time_order: TimeOrder::Sequential,
        units: Units::default(),
        provenance: Provenance::default(),
    })?)
}

fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (data, basis) = match args.first() {
        Some(path) => (
            mlff_data::load(path)?,
            RadialBasis {
                n_basis: 12,
                r_min: 0.7,
                r_max: 4.0,
            },
        ),
        None => (
            argon_clusters(300)?,
            RadialBasis {
                n_basis: 12,
                r_min: 2.8,
                r_max: 8.0,
            },
        ),
    };
    let out = args
        .get(1)
        .map_or("target/fit_pair_potential", String::as_str);
    let n = data.len();
    let train: Vec<usize> = (0..200.min(n * 9 / 10)).collect();
    let val: Vec<usize> = (n - n / 10..n).collect();

    let stats = DataStats::compute(&data, &train, basis.r_max)?;
    println!(
        "training statistics: shifts {:?} (rank {}), force RMS {:.4}, ⟨neighbours⟩ {:.3}",
        stats.per_species_energy_shift,
        stats.composition_rank,
        stats.forces_rms.unwrap_or(f64::NAN),
        stats.avg_num_neighbors
    );
    let model = PairPotential::new(&data, basis, |z| stats.energy_shift_of(z))?;
    let config = TrainConfig::from_yaml_str(CONFIG)?;
    let start = vec![0.0; model.n_params()];
    let before = model.evaluate(&start, &val)?.metrics();

    let outcome = Trainer::new(&model, config, train, val)?
        .output_dir(out)
        .progress(true)
        .on_checkpoint(|event| {
            if event.kind == CheckpointKind::Best {
                tracing::debug!(epoch = event.epoch, "new best model");
            }
            Ok(())
        })
        .run(start)?;
    let last = outcome.state.curve.last().expect("at least one epoch");
    println!(
        "stopped after {} epochs ({:?}); best epoch {:?}",
        outcome.state.epoch, outcome.stop, outcome.state.best
    );
    println!(
        "validation force MAE {:.4} → {:.4}, energy/atom MAE {:.4} → {:.4} (data units)",
        before.force_mae.unwrap_or(f64::NAN),
        last.validation.force_mae.unwrap_or(f64::NAN),
        before.energy_per_atom_mae.unwrap_or(f64::NAN),
        last.validation.energy_per_atom_mae.unwrap_or(f64::NAN),
    );
    println!("curve, checkpoints: {out}/");
    Ok(())
}
