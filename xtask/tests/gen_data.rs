//! `gen-data` and `potential` as a user runs them: layouts, determinism, resume, consistency.

use std::path::Path;
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("run xtask")
}

fn ok(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "xtask failed:\n{stderr}");
    stderr
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `potential` and returns the predicted energies and forces.
fn predict(spec: &str, data: &Path, out: &Path) -> (Vec<f64>, Vec<f64>) {
    ok(xtask(&[
        "potential",
        "--potential",
        spec,
        "--data",
        p(data),
        "--out",
        p(out),
    ]));
    let mut npz = npyz::npz::NpzArchive::open(out).unwrap();
    let mut read =
        |name: &str| -> Vec<f64> { npz.by_name(name).unwrap().unwrap().into_vec().unwrap() };
    (read("energies"), read("forces"))
}

fn generate(dir: &Path, seed: &str) -> String {
    ok(xtask(&[
        "gen-data",
        "--molecules",
        "ethanol",
        "--frames",
        "60",
        "--equilibration",
        "40",
        "--save-every",
        "1",
        "--seed",
        seed,
        "--out",
        p(dir),
    ]))
}

#[test]
fn default_data_saves_every_tenth_step_and_records_the_spacing() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["gen-data", "--molecules", "ethanol", "--frames", "30"];
    ok(xtask(&[&args[..], &["--out", p(dir.path())]].concat()));
    let md17 = mlff_data::load(dir.path().join("md17_ethanol.npz")).unwrap();
    // 0.5 fs steps, every 10th saved: the files say 5 fs between frames.
    assert_eq!(md17.provenance().time_step_fs, Some(5.0));
    let rmd17 = mlff_data::load(dir.path().join("rmd17_ethanol.npz")).unwrap();
    assert_eq!(rmd17.provenance().time_step_fs, Some(5.0));
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("ethanol.gen.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record["save_every"], 10);
    assert_eq!(record["dt_fs"], 0.5);
    // Files from other settings (an older default, say) are regenerated, not reused.
    let stale = ["--save-every", "1", "--out", p(dir.path())];
    let out = ok(xtask(&[&args[..], &stale[..]].concat()));
    assert!(!out.contains("already generated"));
    let regenerated = mlff_data::load(dir.path().join("md17_ethanol.npz")).unwrap();
    assert_eq!(regenerated.provenance().time_step_fs, Some(0.5));
}

#[test]
fn generates_both_layouts_deterministically_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "3");
    let md17 = mlff_data::load(dir.path().join("md17_ethanol.npz")).unwrap();
    let rmd17 = mlff_data::load(dir.path().join("rmd17_ethanol.npz")).unwrap();
    assert_eq!((md17.len(), md17.n_atoms()), (60, 9));
    assert_eq!(md17.provenance().time_step_fs, Some(0.5));
    assert!(
        md17.provenance()
            .theory
            .as_deref()
            .unwrap()
            .starts_with("UFF")
    );

    // The rMD17 layout is a shuffle whose old_indices recover the MD17 order exactly.
    let order = rmd17.time_ordered().unwrap();
    assert_ne!(
        order.indices(),
        (0..60).collect::<Vec<_>>().as_slice(),
        "frames were not shuffled"
    );
    for (t, frame) in order.frames().enumerate() {
        assert_eq!(
            frame.positions,
            md17.positions().index_axis(ndarray::Axis(0), t)
        );
        assert_eq!(frame.energy, md17.energies().map(|e| e[t]));
    }
    // Consecutive frames 0.5 fs apart move little: it is a trajectory, not random geometries.
    let max_step = (1..60)
        .map(|t| {
            let d = &md17.positions().index_axis(ndarray::Axis(0), t)
                - &md17.positions().index_axis(ndarray::Axis(0), t - 1);
            d.rows()
                .into_iter()
                .map(|r| r.dot(&r).sqrt())
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max);
    assert!(max_step < 0.1, "largest per-atom step {max_step} Å");

    // A rerun with the same parameters skips the molecule; the same seed elsewhere gives the same data.
    let modified = std::fs::metadata(dir.path().join("md17_ethanol.npz"))
        .unwrap()
        .modified()
        .unwrap();
    assert!(generate(dir.path(), "3").contains("already generated"));
    assert_eq!(
        std::fs::metadata(dir.path().join("md17_ethanol.npz"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    let again = tempfile::tempdir().unwrap();
    generate(again.path(), "3");
    assert_eq!(
        std::fs::read(dir.path().join("md17_ethanol.npz")).unwrap(),
        std::fs::read(again.path().join("md17_ethanol.npz")).unwrap()
    );
    // Another seed regenerates (the record differs) and gives another trajectory.
    generate(dir.path(), "4");
    let other = mlff_data::load(dir.path().join("md17_ethanol.npz")).unwrap();
    assert_ne!(other.positions(), md17.positions());
}

#[test]
fn potential_reproduces_the_generating_energies_and_refuses_mismatches() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "0");
    let data = dir.path().join("md17_ethanol.npz");
    let pred = dir.path().join("pred.npz");
    let (energies, forces) = predict("uff:ethanol", &data, &pred);
    let reference = mlff_data::load(&data).unwrap();
    for (a, b) in energies.iter().zip(reference.energies().unwrap()) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    for (a, b) in forces.iter().zip(reference.forces().unwrap()) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }

    let out = xtask(&[
        "potential",
        "--potential",
        "uff:aspirin",
        "--data",
        p(&data),
        "--out",
        p(&pred),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("9 atoms per frame")
            && !stderr.contains("panicked"),
        "{stderr}"
    );
    // Issue 18: same atom count in another order, and coordinates far out of range.
    let frames: Vec<usize> = (0..3).collect();
    let subset = reference.select(&frames).unwrap().to_dataset().unwrap();
    let mut parts = subset.into_parts();
    let mut z = match &parts.species {
        mlff_data::Species::Fixed(z) => z.clone(),
        _ => unreachable!(),
    };
    z.swap(0, 8);
    let positions = parts.positions.clone();
    parts.species = mlff_data::Species::Fixed(z);
    let swapped = dir.path().join("swapped.npz");
    let permuted = mlff_data::Dataset::new(parts).unwrap();
    mlff_data::save(&permuted, &swapped, mlff_data::OutputFormat::Md17Npz).unwrap();
    let mut parts = permuted.into_parts();
    parts.species = reference.species().clone();
    parts.positions = positions * 1e200;
    let far = dir.path().join("far.npz");
    mlff_data::save(
        &mlff_data::Dataset::new(parts).unwrap(),
        &far,
        mlff_data::OutputFormat::Md17Npz,
    )
    .unwrap();
    for (file, expected) in [
        (&swapped, "atom 0 of frame 0 is Z="),
        (&far, "non-finite energy or force on frame 0"),
    ] {
        let out_file = dir.path().join("refused.npz");
        let out = xtask(&[
            "potential",
            "--potential",
            "uff:ethanol",
            "--data",
            p(file),
            "--out",
            p(&out_file),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.code() == Some(1) && stderr.contains(expected),
            "{expected}: {stderr}"
        );
        assert!(!out_file.exists(), "nothing may be written");
    }

    let out = xtask(&[
        "gen-data",
        "--molecules",
        "caffeine",
        "--out",
        p(dir.path()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("unknown molecule `caffeine`"),
        "{stderr}"
    );
}

#[test]
fn sgdml_model_generates_a_near_dft_trajectory() {
    let Some(model) = mlff_testkit::third_party("sgdml/ethanol.npz") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = format!("sgdml:{}", model.display());
    ok(xtask(&[
        "gen-data",
        "--potential",
        &spec,
        "--frames",
        "20",
        "--equilibration",
        "20",
        "--out",
        p(dir.path()),
    ]));
    let data = mlff_data::load(dir.path().join("md17_ethanol.npz")).unwrap();
    assert_eq!((data.len(), data.n_atoms()), (20, 9));
    assert!(
        data.provenance()
            .theory
            .as_deref()
            .unwrap()
            .starts_with("sGDML")
    );
    // sGDML ethanol energies sit near the MD17 DFT values (≈ -97,000 kcal/mol), unlike UFF's.
    let e = data.energies().unwrap();
    assert!(
        e.iter().all(|&x| (-97_300.0..-97_000.0).contains(&x)),
        "{e}"
    );
    // The same model evaluated by `potential` reproduces the trajectory's labels.
    let pred = dir.path().join("pred.npz");
    let data_path = dir.path().join("md17_ethanol.npz");
    let (energies, _) = predict(&spec, &data_path, &pred);
    for (a, b) in energies.iter().zip(e) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}
