//! Small models and random molecules for the property and gradient tests.
#![allow(dead_code)]

use mlff_nequip::{AtomicGraph, Nequip, NequipConfig, NumFeatures, PerType};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A small f64 model exercising every module: 3 layers, l_max 2, parity, self-connections.
pub fn small_model(seed: u64) -> Nequip {
    let mut c = NequipConfig::new(vec!["H".into(), "C".into(), "O".into()], 3.5);
    c.num_layers = 3;
    c.l_max = 2;
    c.num_features = NumFeatures::Uniform(4);
    c.radial_mlp_depth = 1;
    c.radial_mlp_width = 8;
    c.avg_num_neighbors = Some(3.0);
    c.per_type_energy_shifts = Some(PerType::List(vec![-0.5, -1.5, -2.0]));
    c.per_type_energy_scales = Some(PerType::List(vec![0.8, 1.2, 1.5]));
    c.model_dtype = "float64".into();
    c.seed = seed;
    Nequip::new(c).unwrap()
}

/// A random molecule of `n` H/C/O atoms with no two atoms closer than 0.9 Å.
pub fn random_molecule(rng: &mut ChaCha8Rng, n: usize) -> (Vec<u8>, Vec<[f64; 3]>) {
    let numbers: Vec<u8> = (0..n).map(|_| [1, 6, 8][rng.random_range(0..3)]).collect();
    let mut pos: Vec<[f64; 3]> = Vec::new();
    while pos.len() < n {
        let p = [0; 3].map(|_| rng.random_range(-1.8..1.8));
        if pos
            .iter()
            .all(|q| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>() > 0.81)
        {
            pos.push(p);
        }
    }
    (numbers, pos)
}

/// The graph of several molecules in one batch.
pub fn batch_graph(model: &Nequip, mols: &[(Vec<u8>, Vec<[f64; 3]>)]) -> AtomicGraph {
    model
        .graph(mols.iter().map(|(z, p)| (z.as_slice(), p.as_slice())))
        .unwrap()
}

/// A seeded generator.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}
