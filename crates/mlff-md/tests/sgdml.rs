//! sGDML evaluator against the models in `../shared/data/sgdml` (third-party; each test skips
//! with a notice where they are absent, `mlff_testkit::third_party`): the paracetamol golden test
//! (DFT forces `TG` at geometries `R`), finite-difference forces, and every model loading.

use mlff_md::npz::read_numeric_array;
use mlff_md::{Potential, SgdmlModel, Vec3, evaluate_frames};

fn frame(data: &[f64], t: usize, n: usize) -> Vec<Vec3> {
    data[t * 3 * n..(t + 1) * 3 * n]
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect()
}

#[test]
fn paracetamol_reproduces_dft_forces() {
    let Some(path) = mlff_testkit::third_party("sgdml/paracetamol.npz") else {
        return;
    };
    let model = SgdmlModel::load(&path).unwrap();
    assert_eq!(model.atomic_numbers().len(), 20);
    let r = read_numeric_array(&path, "R").unwrap();
    let tg = read_numeric_array(&path, "TG").unwrap();
    let t = read_numeric_array(&path, "T").unwrap();
    assert_eq!(r.shape, [1000, 20, 3]);
    let out = evaluate_frames(&model, &r.data).unwrap();
    let force_mae = out
        .forces
        .iter()
        .zip(&tg.data)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / tg.data.len() as f64;
    let energy_mae = out
        .energies
        .iter()
        .zip(&t.data)
        .map(|(a, b)| (a - b).abs())
        .sum::<f64>()
        / t.data.len() as f64;
    eprintln!(
        "paracetamol sGDML vs DFT: force MAE {force_mae:e} kcal/mol/Å, energy MAE {energy_mae:e} kcal/mol"
    );
    assert!(force_mae < 1e-3, "force MAE {force_mae}");
    assert!(energy_mae < 0.5, "energy MAE {energy_mae}");
}

#[test]
fn forces_are_the_gradient_of_the_energy() {
    let Some(path) = mlff_testkit::third_party("sgdml/paracetamol.npz") else {
        return;
    };
    let model = SgdmlModel::load(&path).unwrap();
    let r = read_numeric_array(&path, "R").unwrap();
    let mut pos = frame(&r.data, 3, 20);
    pos[5][1] += 0.05; // off the training set
    let mut f = vec![[0.0; 3]; 20];
    model.energy_forces(&pos, &mut f).unwrap();
    let scale = f.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
    // The paracetamol energy is a sum of 12,000 kernel terms (total ≈ −5e5 kcal/mol before the
    // offset) whose cancellation leaves ~1e-5 kcal/mol round-off, so differences with small
    // steps are noise: a five-point stencil (truncation O(h⁴)) with h = 1e-2 Å, checked to
    // 1e-4 of the largest force. The exact 1e-6 check is the synthetic-model unit test in
    // `src/sgdml.rs`.
    let h = 1e-2;
    let energy_at = |a: usize, c: usize, shift: f64| {
        let mut p = pos.clone();
        p[a][c] += shift;
        model.energy(&p).unwrap()
    };
    for (a, c) in [(0, 0), (5, 1), (11, 2), (19, 0)] {
        let numeric = -(8.0 * (energy_at(a, c, h) - energy_at(a, c, -h))
            - (energy_at(a, c, 2.0 * h) - energy_at(a, c, -2.0 * h)))
            / (12.0 * h);
        let err = (numeric - f[a][c]).abs() / scale;
        assert!(
            err < 1e-5,
            "atom {a} comp {c}: {numeric} vs {} (rel {err:e})",
            f[a][c]
        );
    }
}

#[test]
fn every_model_loads_and_is_finite_at_its_training_geometry() {
    let Some(dir) = mlff_testkit::third_party("sgdml") else {
        return;
    };
    let names = [
        "aspirin",
        "ethanol",
        "malonaldehyde",
        "naphthalene",
        "paracetamol",
        "salicylic_acid",
        "toluene",
        "uracil",
    ];
    for name in names {
        let model = SgdmlModel::load(&dir.join(format!("{name}.npz"))).unwrap();
        let geometry = model.training_geometry(0).unwrap();
        let mut f = vec![[0.0; 3]; geometry.len()];
        let e = model.energy_forces(&geometry, &mut f).unwrap();
        let fmax = f.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
        eprintln!(
            "{name}: {} atoms, {} kernel centres, E = {e:.3} kcal/mol, max |F| = {fmax:.2}",
            geometry.len(),
            model.n_centres()
        );
        assert!(
            e.is_finite() && f.iter().flatten().all(|x| x.is_finite()),
            "{name}"
        );
        // The rebuilt geometry has the molecule's bond graph (the atom order is MD17's).
        let bonds = mlff_md::bonds_from_geometry(model.atomic_numbers(), &geometry).unwrap();
        let molecule = mlff_md::Molecule::builtin(name).unwrap();
        assert_eq!(bonds.len(), molecule.bonds.len(), "{name}: bond count");
        // A DFT training geometry at ~500 K: forces are large but bounded.
        assert!(fmax < 300.0, "{name}: max |F| {fmax}");
    }
}

#[test]
fn bad_model_files_are_typed_errors() {
    let missing = std::path::Path::new("/nonexistent/model.npz");
    assert!(matches!(
        SgdmlModel::load(missing),
        Err(mlff_md::MdError::Io { .. })
    ));
    // An npz that is not an sGDML model (the MD17 ethanol data) lacks the model arrays.
    let Some(data) = mlff_testkit::third_party("md17_ethanol_first2000.npz") else {
        return;
    };
    assert!(matches!(
        SgdmlModel::load(&data),
        Err(mlff_md::MdError::NpzFormat { .. })
    ));
}

#[test]
fn evaluation_does_not_depend_on_the_thread_count() {
    let Some(path) = mlff_testkit::third_party("sgdml/ethanol.npz") else {
        return;
    };
    let model = SgdmlModel::load(&path).unwrap();
    let pos = model.training_geometry(7).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut f = vec![[0.0; 3]; pos.len()];
            let e = model.energy_forces(&pos, &mut f).unwrap();
            (e, f)
        })
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn langevin_md_with_an_sgdml_model_stays_intact() {
    let Some(path) = mlff_testkit::third_party("sgdml/ethanol.npz") else {
        return;
    };
    let model = SgdmlModel::load(&path).unwrap();
    let start = model.training_geometry(0).unwrap();
    let config = mlff_md::TrajectoryConfig {
        equilibration_steps: 200,
        n_frames: 600,
        seed: 3,
        ..mlff_md::TrajectoryConfig::default()
    };
    let traj =
        mlff_md::generate_trajectory(model.atomic_numbers(), &start, &model, &config, &mut |_| {})
            .unwrap();
    let bonds = mlff_md::bonds_from_geometry(model.atomic_numbers(), &start).unwrap();
    let n = start.len();
    let half = 300 * 3 * n;
    let report = mlff_md::stability::stability(
        &traj.positions[half..],
        &traj.positions[..half],
        n,
        &bonds,
        traj.dt_fs,
    )
    .unwrap();
    assert_eq!(report.collapse_frame, None);
    assert!(traj.energies.iter().all(|e| e.is_finite()));
}
