//! The device pipeline, run on the CPU emulation of the kernels, against mlff-nequip's CPU
//! model (the reference, itself checked against nequip's fixtures): energies and forces to
//! 1e-10 in f64 over random architectures and molecules, batches with isolated atoms, and the
//! f32 instantiation.

use mlff_cuda::{Backend, Emulator};
use mlff_nequip::{AtomicGraph, Nequip, NequipConfig, NumFeatures, PerType};
use mlff_nequip_cuda::DeviceNequip;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

#[derive(Clone, Debug)]
struct Arch {
    l_max: u32,
    parity: bool,
    layers: usize,
    mlp_depth: usize,
    resnet: bool,
    seed: u64,
}

/// `(l_max, parity, layers, radial MLP depth, resnet, seed)`.
fn arch(
    l_max: u32,
    parity: bool,
    layers: usize,
    mlp_depth: usize,
    resnet: bool,
    seed: u64,
) -> Arch {
    Arch {
        l_max,
        parity,
        layers,
        mlp_depth,
        resnet,
        seed,
    }
}

fn model(a: &Arch) -> Nequip {
    let mut c = NequipConfig::new(vec!["H".into(), "C".into(), "O".into()], 3.0);
    c.num_layers = a.layers;
    c.l_max = a.l_max;
    c.parity = a.parity;
    c.num_features = NumFeatures::Uniform(3);
    c.radial_mlp_depth = a.mlp_depth;
    c.radial_mlp_width = 5;
    c.num_bessels = 4;
    c.convnet_resnet = a.resnet;
    c.avg_num_neighbors = Some(2.5);
    c.per_type_energy_shifts = Some(PerType::List(vec![-0.5, -1.5, -2.0]));
    c.per_type_energy_scales = Some(PerType::List(vec![0.8, 1.2, 1.5]));
    c.model_dtype = "float64".into();
    c.seed = a.seed;
    Nequip::new(c).unwrap()
}

/// `n` H/C/O atoms in a 3.2 Å box, no pair closer than 0.9 Å.
fn molecule(r: &mut ChaCha8Rng, n: usize) -> (Vec<u8>, Vec<[f64; 3]>) {
    let numbers = (0..n).map(|_| [1, 6, 8][r.random_range(0..3)]).collect();
    let mut pos: Vec<[f64; 3]> = Vec::new();
    while pos.len() < n {
        let p = [0; 3].map(|_| r.random_range(-1.6..1.6));
        if pos
            .iter()
            .all(|q| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>() > 0.81)
        {
            pos.push(p);
        }
    }
    (numbers, pos)
}

fn graph(m: &Nequip, mols: &[(Vec<u8>, Vec<[f64; 3]>)]) -> AtomicGraph {
    m.graph(mols.iter().map(|(z, p)| (z.as_slice(), p.as_slice())))
        .unwrap()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * scale,
            "{what}[{i}]: device {g} vs CPU {w} (tolerance {tol} × {scale})"
        );
    }
}

fn compare(a: &Arch, mols: &[(Vec<u8>, Vec<[f64; 3]>)]) {
    let m = model(a);
    let g = graph(&m, mols);
    let want = m.predict_as::<f64>(&g).unwrap();
    let got = DeviceNequip::<_, f64>::new(Arc::new(Emulator), &m)
        .unwrap()
        .predict(&g)
        .unwrap();
    assert_close("energies", &got.energies, &want.energies, 1e-10);
    assert_close("forces", &got.forces, &want.forces, 1e-10);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn energies_and_forces_match_the_cpu_model(
        l_max in 0u32..=2,
        parity in any::<bool>(),
        layers in 1usize..=3,
        mlp_depth in 1usize..=2,
        resnet in any::<bool>(),
        seed in 0u64..1000,
        sizes in prop::collection::vec(1usize..=6, 1..=3),
    ) {
        let a = Arch { l_max, parity, layers, mlp_depth, resnet, seed };
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        let mols: Vec<_> = sizes.iter().map(|&n| molecule(&mut r, n)).collect();
        compare(&a, &mols);
    }
}

#[test]
fn paper_shaped_layers_with_an_isolated_atom_and_a_lone_frame() {
    let a = arch(2, true, 3, 2, true, 7);
    let mut r = ChaCha8Rng::seed_from_u64(8);
    let mut far = molecule(&mut r, 5);
    far.0.push(8);
    far.1.push([9.0, 9.0, 9.0]); // beyond r_max from everything: no edges
    let lone = (vec![6], vec![[0.0, 0.0, 0.0]]);
    compare(&a, &[far, lone, molecule(&mut r, 4)]);
}

#[test]
fn a_batch_of_isolated_atoms_has_no_edges_and_still_works() {
    let a = arch(1, true, 2, 1, true, 5);
    let lone = |z: u8| (vec![z], vec![[0.0, 0.0, 0.0]]);
    let m = model(&a);
    assert_eq!(graph(&m, &[lone(1), lone(8)]).num_edges(), 0);
    compare(&a, &[lone(1), lone(8), lone(6)]);
}

#[test]
fn f32_instantiation_tracks_the_cpu_f32_model() {
    let a = arch(2, false, 2, 1, false, 3);
    let m = model(&a);
    let mut r = ChaCha8Rng::seed_from_u64(4);
    let g = graph(&m, &[molecule(&mut r, 6), molecule(&mut r, 5)]);
    let want = m.predict_as::<f64>(&g).unwrap();
    let got = DeviceNequip::<_, f32>::new(Arc::new(Emulator), &m)
        .unwrap()
        .predict(&g)
        .unwrap();
    assert_close("f32 energies", &got.energies, &want.energies, 1e-5);
    assert_close("f32 forces", &got.forces, &want.forces, 1e-4);
}

#[test]
fn results_stay_on_the_backend_until_downloaded() {
    let a = arch(1, true, 2, 1, false, 11);
    let m = model(&a);
    let mut r = ChaCha8Rng::seed_from_u64(12);
    let g = graph(&m, &[molecule(&mut r, 5)]);
    let dev = DeviceNequip::<_, f64>::new(Arc::new(Emulator), &m).unwrap();
    let dg = dev.upload_graph(&g).unwrap();
    let pos = Emulator.upload(g.positions()).unwrap();
    let out = dev.energies_forces(&dg, &pos).unwrap();
    assert_eq!(out.forces.len(), 3 * g.num_atoms());
    // Wrong-length positions are a typed error, not a panic.
    let short = Emulator.upload(&g.positions()[..3]).unwrap();
    let err = dev
        .energies_forces(&dg, &short)
        .err()
        .expect("short positions");
    assert!(err.to_string().contains("positions"), "{err}");
    let p = dev.download(&dg, &out).unwrap();
    assert_eq!(p, dev.predict(&g).unwrap());
}

#[test]
fn dual_instantiation_gives_the_directional_derivative_of_forces() {
    // Positions with a tangent v: the device pass on dual numbers returns energies and forces
    // whose tangents are ∇E · v and ∂F/∂r · v — the latter is what the force-loss gradient is
    // built from (mlff-nequip's design B). Reference: mlff-nequip's forward/backward on duals.
    use mlff_e3::{Dual, Scalar};
    type D = Dual<f64>;
    let a = arch(2, true, 3, 2, true, 21);
    let m = model(&a);
    let mut r = ChaCha8Rng::seed_from_u64(22);
    let g = graph(&m, &[molecule(&mut r, 6), molecule(&mut r, 4)]);
    let pos: Vec<D> = g
        .positions()
        .iter()
        .map(|&x| D::new(x, r.random_range(-1.0..1.0)))
        .collect();
    let params: Vec<D> = m.params().iter().map(|&p| D::constant(p)).collect();
    let arch = m.architecture();
    let (energies, tape) = mlff_nequip::forward(arch, &params, &g, &pos).unwrap();
    let ones = vec![D::one(); g.num_frames()];
    let grads = mlff_nequip::backward(arch, &params, &g, &tape, &ones, false).unwrap();
    let want_forces: Vec<D> = grads.positions.iter().map(|&v| -v).collect();

    let dev = DeviceNequip::<_, D>::new(Arc::new(Emulator), &m).unwrap();
    let dg = dev.upload_graph(&g).unwrap();
    let out = dev
        .energies_forces(&dg, &Emulator.upload(&pos).unwrap())
        .unwrap();
    let forces = Emulator.download(&out.forces).unwrap();
    let unshifted = Emulator.download(&out.energies_unshifted).unwrap();
    let values = dev.download(&dg, &out).unwrap().energies;
    let check = |what: &str, got: &[D], want: &[D]| {
        let scale = want
            .iter()
            .fold(1.0f64, |m, x| m.max(x.re.abs()).max(x.eps.abs()));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            for (part, a, b) in [("value", g.re, w.re), ("tangent", g.eps, w.eps)] {
                assert!(
                    (a - b).abs() <= 1e-10 * scale,
                    "{what}[{i}] {part}: device {a} vs CPU {b}"
                );
            }
        }
    };
    check("forces", &forces, &want_forces);
    // Energies: the shifts are constants added on download, so compare values there and
    // tangents (∇E · v) on the unshifted device result.
    let got: Vec<D> = unshifted
        .iter()
        .zip(&values)
        .map(|(u, &v)| D::new(v, u.eps))
        .collect();
    check("energies", &got, &energies.frames);
}

/// The device reverse pass with parameter gradients against mlff-nequip's, in `T`.
fn check_param_gradients<T: mlff_cuda::DeviceReal>(
    a: &Arch,
    mols: &[(Vec<u8>, Vec<[f64; 3]>)],
    lift: impl Fn(f64, &mut ChaCha8Rng) -> T,
    parts: impl Fn(T) -> Vec<f64>,
) {
    let m = model(a);
    let mut r = ChaCha8Rng::seed_from_u64(a.seed + 100);
    let g = graph(&m, mols);
    let pos: Vec<T> = g.positions().iter().map(|&x| lift(x, &mut r)).collect();
    let params: Vec<T> = m.params().iter().map(|&p| T::from_f64(p)).collect();
    let g_e: Vec<T> = (0..g.num_frames())
        .map(|_| T::from_f64(r.random_range(-1.0..1.0)))
        .collect();
    let arch = m.architecture();
    let (_, tape) = mlff_nequip::forward(arch, &params, &g, &pos).unwrap();
    let want = mlff_nequip::backward(arch, &params, &g, &tape, &g_e, true).unwrap();

    let dev = DeviceNequip::<_, T>::new(Arc::new(Emulator), &m).unwrap();
    let dg = dev.upload_graph(&g).unwrap();
    let (_, dtape) = dev.forward(&dg, &Emulator.upload(&pos).unwrap()).unwrap();
    let got = dev
        .backward(&dg, &dtape, &Emulator.upload(&g_e).unwrap(), true)
        .unwrap();
    let flat = |v: &[T]| v.iter().flat_map(|&x| parts(x)).collect::<Vec<f64>>();
    let got_pos = Emulator.download(&got.positions).unwrap();
    assert_close(
        "position gradient",
        &flat(&got_pos),
        &flat(&want.positions),
        1e-10,
    );
    let (gp, wp) = (got.params.unwrap(), want.params.unwrap());
    for seg in arch.layout.segments() {
        let r = seg.range();
        assert_close(&seg.name, &flat(&gp[r.clone()]), &flat(&wp[r]), 1e-10);
    }
}

#[test]
fn parameter_gradients_match_the_cpu_model() {
    let a = arch(2, true, 3, 2, true, 31);
    let mut r = ChaCha8Rng::seed_from_u64(32);
    let mols = [molecule(&mut r, 6), molecule(&mut r, 5)];
    check_param_gradients::<f64>(&a, &mols, |x, _| x, |x| vec![x]);
}

#[test]
fn dual_parameter_gradients_carry_the_force_loss_term() {
    // Positions with a tangent: the parameter gradient's tangent is ∂/∂θ (∇_r E · v), the
    // force-loss term of training (mlff-nequip's design B), against mlff-nequip's dual pass.
    use mlff_e3::Dual;
    let a = arch(1, false, 2, 1, false, 41);
    let mut r = ChaCha8Rng::seed_from_u64(42);
    let mols = [molecule(&mut r, 5), molecule(&mut r, 4)];
    check_param_gradients::<Dual<f64>>(
        &a,
        &mols,
        |x, r| Dual::new(x, r.random_range(-1.0..1.0)),
        |d| vec![d.re, d.eps],
    );
}

#[test]
fn training_loss_gradient_on_the_device_matches_the_cpu() {
    // The whole training gradient (per-atom energy MSE + force MSE, nequip's default loss):
    // mlff-nequip's loss driver over the device passes vs over the CPU passes.
    use mlff_nequip::{CpuPasses, Targets, loss_gradient_with};
    use mlff_train::{LossCoeffs, LossFunction};
    let a = arch(1, true, 2, 1, true, 51);
    let m = model(&a);
    let mut r = ChaCha8Rng::seed_from_u64(52);
    let g = graph(&m, &[molecule(&mut r, 5), molecule(&mut r, 6)]);
    let pred = m.predict(&g).unwrap();
    let energies: Vec<f64> = pred.energies.iter().map(|e| e + 0.3).collect();
    let forces: Vec<f64> = pred
        .forces
        .iter()
        .map(|f| f + r.random_range(-0.2..0.2))
        .collect();
    let targets = Targets {
        energies: &energies,
        forces: &forces,
    };
    // nequip's default loss: per-atom energy MSE and force MSE, 1 : 1.
    let loss = LossFunction::new(&LossCoeffs::default()).unwrap();
    let (want_parts, want) = loss_gradient_with(
        &CpuPasses::<f64>::new(m.architecture()),
        m.params(),
        &g,
        targets,
        &loss,
    )
    .unwrap();
    let device = mlff_nequip_cuda::DevicePasses::new(Arc::new(Emulator), &m);
    let (parts, got) = loss_gradient_with(&device, m.params(), &g, targets, &loss).unwrap();
    assert_eq!(parts.n_frames, want_parts.n_frames);
    assert_close(
        "force error sum",
        &[parts.force_sq_sum, parts.energy_per_atom_sq_sum],
        &[want_parts.force_sq_sum, want_parts.energy_per_atom_sq_sum],
        1e-10,
    );
    assert_close("loss gradient", &got, &want, 1e-10);
    assert!(
        got.iter().any(|v| v.abs() > 1e-6),
        "a trivial gradient proves nothing"
    );
}
