//! `cargo xtask split|score|soap|similarity` as a user runs them, on data generated here.

use mlff_data::{Dataset, DatasetParts, OutputFormat, Provenance, Species, TimeOrder, Units};
use ndarray::{Array1, Array3, Axis, array};
use npyz::npz::NpzArchive;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("run xtask")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs xtask and asserts success, returning stdout.
fn ok(args: &[&str]) -> String {
    let out = xtask(args);
    assert!(
        out.status.success(),
        "xtask {args:?} failed:\n{}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs xtask, asserts failure without a panic, and returns stderr.
fn fails(args: &[&str]) -> String {
    let out = xtask(args);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "xtask {args:?} should fail");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

const FRAMES: usize = 40;

/// A 40-frame water "trajectory" (MD17 npz, sequential, 0.5 fs) with smooth, distinct frames.
fn water(dir: &Path) -> (PathBuf, Dataset) {
    let base = array![
        [0.0, 0.0, 0.119],
        [0.0, 0.763, -0.477],
        [0.0, -0.763, -0.477]
    ];
    let mut positions = Array3::zeros((FRAMES, 3, 3));
    let mut forces = Array3::zeros((FRAMES, 3, 3));
    let mut energies = Array1::zeros(FRAMES);
    for t in 0..FRAMES {
        let phase = t as f64 * 0.3;
        for a in 0..3 {
            for c in 0..3 {
                let wiggle = 0.05 * (phase + (a * 3 + c) as f64).sin();
                positions[[t, a, c]] = base[[a, c]] + wiggle;
                forces[[t, a, c]] = (phase * 0.7 + (a + c) as f64).cos();
            }
        }
        energies[t] = -100.0 + phase.sin();
    }
    let data = Dataset::new(DatasetParts {
        species: Species::Fixed(array![8u8, 1, 1]),
        positions,
        energies: Some(energies),
        forces: Some(forces),
        time_order: TimeOrder::Sequential,
        units: Units::KCAL_MOL_ANGSTROM,
        provenance: Provenance {
            molecule: Some("water".into()),
            time_step_fs: Some(0.5),
            ..Provenance::default()
        },
    })
    .unwrap();
    let path = dir.join("water.npz");
    mlff_data::save(&data, &path, OutputFormat::Md17Npz).unwrap();
    (path, data)
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn indices(value: &serde_json::Value) -> Vec<usize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn split_create_and_show() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = water(dir.path());
    let split = dir.path().join("split.json");
    ok(&[
        "split",
        "create",
        "--data",
        p(&data),
        "--strategy",
        "time-holdout",
        "--test-fraction",
        "0.25",
        "--gap",
        "2",
        "--validation",
        "3",
        "--out",
        p(&split),
    ]);
    let json = read_json(&split);
    let single = &json["indices"];
    assert_eq!(indices(&single["test"]), (30..40).collect::<Vec<_>>());
    let mut side = indices(&single["train"]);
    side.extend(indices(&single["validation"]));
    side.sort_unstable();
    assert_eq!(
        side,
        (0..28).collect::<Vec<_>>(),
        "gap of 2 before frame 30"
    );
    let shown = ok(&["split", "show", p(&split)]);
    assert!(
        shown.contains("time_holdout") && shown.contains("verified"),
        "{shown}"
    );

    let windows = dir.path().join("windows.json");
    let out = ok(&[
        "split",
        "create",
        "--data",
        p(&data),
        "--strategy",
        "sliding-windows",
        "--window",
        "10",
        "--positions",
        "3",
        "--out",
        p(&windows),
    ]);
    assert!(out.contains("sliding_windows"), "{out}");

    // A window larger than the pre-test part, and a tampered split, are reported.
    let stderr = fails(&[
        "split",
        "create",
        "--data",
        p(&data),
        "--strategy",
        "sliding-windows",
        "--window",
        "100",
        "--positions",
        "2",
        "--out",
        p(&windows),
    ]);
    assert!(
        stderr.contains("window") && stderr.contains("100"),
        "{stderr}"
    );
    let tampered =
        std::fs::read_to_string(&split)
            .unwrap()
            .replacen("\"seed\": 0", "\"seed\": 1", 1);
    std::fs::write(&split, tampered).unwrap();
    let stderr = fails(&["split", "show", p(&split)]);
    assert!(stderr.contains("does not regenerate"), "{stderr}");
    let missing = dir.path().join("nope.npz");
    let stderr = fails(&[
        "split",
        "create",
        "--data",
        p(&missing),
        "--strategy",
        "random",
        "--out",
        p(&split),
    ]);
    assert!(stderr.contains("nope.npz"), "{stderr}");
}

#[test]
fn split_learning_curve_published_and_unknown_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, data) = water(dir.path());
    let curve = dir.path().join("curve.json");
    ok(&[
        "split",
        "create",
        "--data",
        p(&data_path),
        "--strategy",
        "learning-curve",
        "--sizes",
        "5,10,20",
        "--pool",
        "contiguous",
        "--out",
        p(&curve),
    ]);
    let subsets = read_json(&curve)["indices"]["subsets"].clone();
    // The contiguous pool takes the latest frames before the test segment (frames 36..40).
    assert_eq!(indices(&subsets[0]["train"]), (31..36).collect::<Vec<_>>());
    assert_eq!(indices(&subsets[2]["train"]), (16..36).collect::<Vec<_>>());

    // rMD17's published index files (one index per line).
    let splits = dir.path().join("splits");
    std::fs::create_dir(&splits).unwrap();
    std::fs::write(splits.join("index_train_02.csv"), "3\n1\n4\n15\n").unwrap();
    std::fs::write(splits.join("index_test_02.csv"), "9\n2\n6\n").unwrap();
    let published = dir.path().join("published.json");
    ok(&[
        "split",
        "create",
        "--data",
        p(&data_path),
        "--strategy",
        "rmd17-published",
        "--rmd17-splits",
        p(&splits),
        "--number",
        "2",
        "--out",
        p(&published),
    ]);
    assert_eq!(
        indices(&read_json(&published)["indices"]["test"]),
        vec![2, 6, 9]
    );
    ok(&["split", "show", p(&published)]);

    // Extended XYZ without time information: time strategies refuse, random works.
    let shuffled = Dataset::new(DatasetParts {
        time_order: TimeOrder::Unknown,
        ..data.into_parts()
    })
    .unwrap();
    let xyz = dir.path().join("shuffled.xyz");
    mlff_data::save(&shuffled, &xyz, OutputFormat::ExtXyz).unwrap();
    let out = dir.path().join("x.json");
    let stderr = fails(&[
        "split",
        "create",
        "--data",
        p(&xyz),
        "--strategy",
        "time-holdout",
        "--out",
        p(&out),
    ]);
    assert!(stderr.contains("time order"), "{stderr}");
    ok(&[
        "split",
        "create",
        "--data",
        p(&xyz),
        "--strategy",
        "random",
        "--out",
        p(&out),
    ]);
}

#[test]
fn score_matches_hand_computed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, data) = water(dir.path());
    let split = dir.path().join("split.json");
    ok(&[
        "split",
        "create",
        "--data",
        p(&data_path),
        "--strategy",
        "random",
        "--test",
        "10",
        "--seed",
        "7",
        "--out",
        p(&split),
    ]);
    let test = indices(&read_json(&split)["indices"]["test"]);
    assert_eq!(test.len(), 10);
    // Predictions = reference + 0.6 kcal/mol on every energy, +0.1 on every force component
    // (−0.1 on odd frames, so signs do not cancel in the MAE).
    let energies = data.energies().unwrap().select(Axis(0), &test) + 0.6;
    let mut forces = data.forces().unwrap().select(Axis(0), &test);
    for (t, mut frame) in forces.outer_iter_mut().enumerate() {
        frame += if t % 2 == 0 { 0.1 } else { -0.1 };
    }
    let pred = dir.path().join("pred.npz");
    mlff_data::format::write_npz_arrays(&pred, |w| {
        w.floats("energies", &[10], energies.iter())?;
        w.floats("forces", &[10, 3, 3], forces.iter())
    })
    .unwrap();
    let scores = dir.path().join("scores.json");
    let table = ok(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
        "--out",
        p(&scores),
    ]);
    assert!(table.contains('|') && table.contains("random"), "{table}");
    let json = read_json(&scores);
    let s = &json["runs"][0]["scores"];
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;
    assert!(close(&s["energy"]["mae"], 0.6), "{s}");
    assert!(close(&s["energy"]["per_atom_mae"], 0.2), "{s}");
    assert!(close(&s["forces"]["component_mae"], 0.1), "{s}");
    // In meV: 0.1 kcal/mol/Å = 4.3364104… meV/Å (exact 2019-SI kcal/mol).
    ok(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
        "--unit",
        "mev",
        "--out",
        p(&scores),
    ]);
    let s = &read_json(&scores)["runs"][0]["scores"];
    assert!(
        close(&s["forces"]["component_mae"], 4.336_410_424_180_093),
        "{s}"
    );

    // float32 predictions (as many Python models write) are read too.
    write_f32_npz(
        &pred,
        &[
            ("energies", vec![10], energies.to_vec()),
            ("forces", vec![10, 3, 3], forces.iter().copied().collect()),
        ],
    );
    ok(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
        "--out",
        p(&scores),
    ]);
    let s = &read_json(&scores)["runs"][0]["scores"];
    assert!(
        (s["energy"]["mae"].as_f64().unwrap() - 0.6).abs() < 2e-5,
        "{s}"
    );
    assert!(
        (s["forces"]["component_mae"].as_f64().unwrap() - 0.1).abs() < 1e-6,
        "{s}"
    );

    // Wrong atom count and a missing key are named.
    mlff_data::format::write_npz_arrays(&pred, |w| {
        w.floats("energies", &[10], energies.iter())?;
        w.floats("forces", &[10, 1, 3], forces.iter().take(30))
    })
    .unwrap();
    let stderr = fails(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
    ]);
    assert!(stderr.contains("1 atoms per frame"), "{stderr}");
    mlff_data::format::write_npz_arrays(&pred, |w| w.floats("energies", &[10], energies.iter()))
        .unwrap();
    let stderr = fails(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
    ]);
    assert!(
        stderr.contains("no `forces`") && stderr.contains("pred.npz"),
        "{stderr}"
    );

    // A split made for a longer file than the one scored: refused, not an index panic.
    mlff_data::format::write_npz_arrays(&pred, |w| {
        w.floats("energies", &[10], energies.iter())?;
        w.floats("forces", &[10, 3, 3], forces.iter())
    })
    .unwrap();
    let first: Vec<usize> = (0..5).collect();
    let short = dir.path().join("short.npz");
    let head = data.select(&first).unwrap().to_dataset().unwrap();
    mlff_data::save(&head, &short, mlff_data::OutputFormat::Md17Npz).unwrap();
    let out = dir.path().join("short-scores.json");
    let stderr = fails(&[
        "score",
        "--data",
        p(&short),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
        "--out",
        p(&out),
    ]);
    assert!(
        stderr.contains("made for another dataset") && stderr.contains("5 frames"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn score_multi_run_split_with_predictions_on_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, data) = water(dir.path());
    let split = dir.path().join("windows.json");
    ok(&[
        "split",
        "create",
        "--data",
        p(&data_path),
        "--strategy",
        "sliding-windows",
        "--window",
        "8",
        "--positions",
        "2",
        "--out",
        p(&split),
    ]);
    // Predictions on all 40 frames (as `cargo xtask potential` writes), energies off by 0.3.
    let energies = data.energies().unwrap() - 0.3;
    let pred = dir.path().join("all.npz");
    mlff_data::format::write_npz_arrays(&pred, |w| {
        w.floats("energies", &[FRAMES], energies.iter())?;
        w.floats("forces", &[FRAMES, 3, 3], data.forces().unwrap().iter())?;
        w.string("energy_unit", "kcal/mol")
    })
    .unwrap();
    let scores = dir.path().join("scores.json");
    let pred_pair = format!("{},{}", p(&pred), p(&pred));
    let table = ok(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        &pred_pair,
        "--out",
        p(&scores),
    ]);
    assert!(
        table.contains("window 0") && table.contains("window 1"),
        "{table}"
    );
    let json = read_json(&scores);
    for run in json["runs"].as_array().unwrap() {
        let s = &run["scores"];
        assert_eq!(s["n_frames"], 4, "{s}");
        assert!(
            (s["energy"]["mae"].as_f64().unwrap() - 0.3).abs() < 1e-9,
            "{s}"
        );
        assert_eq!(s["forces"]["component_mae"].as_f64().unwrap(), 0.0, "{s}");
    }
    ok(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
        "--run",
        "1",
    ]);
    let stderr = fails(&[
        "score",
        "--data",
        p(&data_path),
        "--split",
        p(&split),
        "--pred",
        p(&pred),
    ]);
    assert!(stderr.contains("2 runs"), "{stderr}");
}

/// Writes `<f4` arrays to an npz, as `np.savez` does for float32 data.
fn write_f32_npz(path: &Path, arrays: &[(&str, Vec<u64>, Vec<f64>)]) {
    use npyz::WriterBuilder;
    let mut npz = npyz::npz::NpzWriter::create(path).unwrap();
    for (key, shape, values) in arrays {
        let mut w = npz
            .array::<f32>(key, Default::default())
            .unwrap()
            .default_dtype()
            .shape(shape)
            .begin_nd()
            .unwrap();
        w.extend(values.iter().map(|&v| v as f32)).unwrap();
        w.finish().unwrap();
    }
}

fn read_soap(path: &Path) -> (Vec<u64>, Vec<f64>, String) {
    let mut npz = NpzArchive::open(path).unwrap();
    let soap = npz.by_name("soap").unwrap().unwrap();
    let shape = soap.shape().to_vec();
    let values = soap.into_vec::<f64>().unwrap();
    let params = npz.by_name("params_json").unwrap().unwrap();
    let params = params.into_vec::<String>().unwrap().remove(0);
    (shape, values, params)
}

#[test]
fn soap_writes_dscribe_layout_npz() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, data) = water(dir.path());
    let out = dir.path().join("soap.npz");
    let common = [
        "--species",
        "1,8",
        "--r-cut",
        "4",
        "--n-max",
        "3",
        "--l-max",
        "2",
        "--sigma",
        "0.5",
        "--chunk-frames",
        "2",
    ];
    let mut args = vec![
        "soap",
        "--data",
        p(&data_path),
        "--frames",
        "3..8",
        "--out",
        p(&out),
    ];
    args.extend(common);
    ok(&args);
    let soap = mlff_soap::Soap::new(mlff_soap::SoapParams::new(&[1, 8], 4.0, 3, 2, 0.5)).unwrap();
    let f = soap.n_features() as u64;
    let (shape, values, params) = read_soap(&out);
    assert_eq!(shape, vec![5, 3, f]);
    assert!(params.contains("\"n_max\":3"), "{params}");
    // Frame 5 of the file is row block 2 of the output, equal to a direct computation.
    let numbers = array![8u32, 1, 1];
    let direct = soap
        .compute(numbers.view(), data.positions().index_axis(Axis(0), 5))
        .unwrap();
    let block = 2 * 3 * f as usize;
    for (a, b) in values[block..block + direct.len()]
        .iter()
        .zip(direct.iter())
    {
        assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
    }

    args.extend(["--average", "inner"]);
    ok(&args);
    assert_eq!(read_soap(&out).0, vec![5, f]);

    let mut bad = vec![
        "soap",
        "--data",
        p(&data_path),
        "--out",
        p(&out),
        "--l-max",
        "25",
    ];
    bad.extend(&common[..2]);
    let stderr = fails(&bad);
    assert!(stderr.contains("SOAP parameters"), "{stderr}");
}

#[test]
fn similarity_of_test_frames_to_training_set() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, _) = water(dir.path());
    let train = format!("{}:0..20", p(&data_path));
    let test = format!("{}:15..25", p(&data_path));
    let out = dir.path().join("sim.json");
    let params = ["--r-cut", "4", "--n-max", "3", "--l-max", "2"];
    let mut args = vec![
        "similarity",
        "--train",
        &train,
        "--test",
        &test,
        "--out",
        p(&out),
    ];
    args.extend(params);
    ok(&args);
    let json = read_json(&out);
    let frames = json["per_frame"].as_array().unwrap();
    assert_eq!(frames.len(), 10);
    for f in frames {
        let (max, mean) = (f["max"].as_f64().unwrap(), f["mean"].as_f64().unwrap());
        let frame = f["frame"].as_u64().unwrap();
        assert!(mean <= max + 1e-12 && max <= 1.0 + 1e-12, "{f}");
        if frame < 20 {
            // Test frames inside the training set find themselves.
            assert!((max - 1.0).abs() < 1e-12, "{f}");
            assert_eq!(f["nearest_train_frame"], frame);
        }
    }
    assert_eq!(json["summary"]["max"]["count"], 10);

    let csv = dir.path().join("sim.csv");
    let mut args = vec![
        "similarity",
        "--train",
        &train,
        "--test",
        &test,
        "--out",
        p(&csv),
    ];
    args.extend(params);
    ok(&args);
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv_text.lines().count(), 11);

    let outside = format!("{}:30..100", p(&data_path));
    let stderr = fails(&[
        "similarity",
        "--train",
        &train,
        "--test",
        &outside,
        "--out",
        p(&out),
    ]);
    assert!(
        stderr.contains("outside the dataset's 40 frames"),
        "{stderr}"
    );
}

/// Issue 18: a split is checked wherever it is read — `score` and `train` refuse a split whose
/// indices were edited (it no longer regenerates from its request), one made for a longer file,
/// and hand-given training and validation frames that overlap; nothing is written.
#[test]
fn every_command_that_reads_a_split_checks_it() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, data) = water(dir.path());
    let split = dir.path().join("split.json");
    ok(&[
        "split",
        "create",
        "--data",
        p(&data_path),
        "--strategy",
        "random",
        "--test",
        "10",
        "--seed",
        "7",
        "--out",
        p(&split),
    ]);
    // Predictions on every frame, so only the split can be wrong.
    let pred = dir.path().join("pred.npz");
    mlff_data::format::write_npz_arrays(&pred, |w| {
        w.floats("energies", &[FRAMES], data.energies().unwrap().iter())?;
        w.floats("forces", &[FRAMES, 3, 3], data.forces().unwrap().iter())
    })
    .unwrap();
    let config = dir.path().join("nequip.yaml");
    std::fs::write(
        &config,
        "r_max: 3.0\nnum_layers: 1\nnum_features: 4\nmax_epochs: 1\n",
    )
    .unwrap();

    // An edited split: the training side and the test set share a frame.
    let mut edited = read_json(&split);
    let first_test = edited["indices"]["test"][0].clone();
    edited["indices"]["train"][0] = first_test;
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, edited.to_string()).unwrap();
    let out = dir.path().join("scores.json");
    for args in [
        vec![
            "score",
            "--data",
            p(&data_path),
            "--split",
            p(&tampered),
            "--pred",
            p(&pred),
        ],
        vec![
            "train",
            "--config",
            p(&config),
            "--data",
            p(&data_path),
            "--split",
            p(&tampered),
        ],
    ] {
        let run_dir = dir.path().join("run");
        let out_args = if args[0] == "score" {
            vec!["--out", p(&out)]
        } else {
            vec!["--out", p(&run_dir)]
        };
        let stderr = fails(&[&args[..], &out_args[..]].concat());
        assert!(
            stderr.contains("tampered.json") && stderr.contains("does not regenerate"),
            "{args:?}: {stderr}"
        );
        assert!(
            !out.exists() && !run_dir.exists(),
            "{args:?}: nothing may be written"
        );
    }

    // A split of the 40-frame file used with its first 20 frames.
    let head: Vec<usize> = (0..20).collect();
    let short = dir.path().join("short.npz");
    let head = data.select(&head).unwrap().to_dataset().unwrap();
    mlff_data::save(&head, &short, OutputFormat::Md17Npz).unwrap();
    let run_dir = dir.path().join("run-short");
    let stderr = fails(&[
        "train",
        "--config",
        p(&config),
        "--data",
        p(&short),
        "--split",
        p(&split),
        "--out",
        p(&run_dir),
    ]);
    assert!(
        stderr.contains("made for another dataset") && stderr.contains("out of range for 20"),
        "{stderr}"
    );
    assert!(!run_dir.exists(), "nothing may be written");

    // Hand-given frames that overlap, or lie past the data.
    for (train, val, expected) in [
        ("1,2,3", "3,4", "frame 3 appears more than once"),
        (
            "1,2,99",
            "5",
            "index 99 at position 2 is out of range for 40 frames",
        ),
    ] {
        let run_dir = dir.path().join("run-idx");
        let stderr = fails(&[
            "train",
            "--config",
            p(&config),
            "--data",
            p(&data_path),
            "--train-idx",
            train,
            "--val-idx",
            val,
            "--out",
            p(&run_dir),
        ]);
        assert!(stderr.contains(expected), "{train} / {val}: {stderr}");
        assert!(!run_dir.exists(), "nothing may be written");
    }
}

/// Issue 18: `train --resume` refuses a run whose configuration, data or frames changed (every
/// difference named, nothing written), resumes an unchanged one, and `max_epochs: 0` is refused.
#[test]
fn resume_refuses_changed_settings() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, data) = water(dir.path());
    let yaml = |lr: &str, epochs: usize| {
        format!(
            "r_max: 3.0\nnum_layers: 1\nl_max: 1\nnum_features: 4\nradial_mlp_depth: 1\n\
             radial_mlp_width: 8\nmodel_dtype: float64\nseed: 3\nlearning_rate: {lr}\n\
             batch_size: 5\nmax_epochs: {epochs}\n"
        )
    };
    let config = dir.path().join("a.yaml");
    std::fs::write(&config, yaml("0.01", 1)).unwrap();
    let out = dir.path().join("run");
    let train = |config: &Path, data: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--config",
            p(config),
            "--data",
            p(data),
            "--n-train",
            "20",
            "--n-val",
            "5",
            "--out",
            p(&out),
            "--quiet",
        ];
        args.extend(extra);
        xtask(&args)
    };
    let first = train(&config, &data_path, &[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let state = std::fs::read(out.join("settings.json")).unwrap();

    let changed = dir.path().join("b.yaml");
    std::fs::write(&changed, yaml("0.5", 2)).unwrap();
    let mut other = data.clone();
    other.provenance_mut().molecule = Some("water, edited".into());
    let other_path = dir.path().join("other.npz");
    mlff_data::save(&other, &other_path, OutputFormat::Md17Npz).unwrap();
    let refused = train(&changed, &other_path, &["--resume"]);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    for what in [
        "config `learning_rate`: 0.01 then, 0.5 now",
        "config `max_epochs`: 1 then, 2 now",
        "the data file's contents",
    ] {
        assert!(stderr.contains(what), "{what}: {stderr}");
    }
    assert_eq!(std::fs::read(out.join("settings.json")).unwrap(), state);

    std::fs::write(&config, yaml("0.01", 2)).unwrap();
    let resumed = train(&config, &data_path, &["--resume"]);
    let stderr = text(&resumed.stderr);
    assert!(
        !resumed.status.success() && stderr.contains("max_epochs"),
        "{stderr}"
    );
    std::fs::write(&config, yaml("0.01", 1)).unwrap();
    let resumed = train(&config, &data_path, &["--resume"]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));

    let zero = dir.path().join("zero.yaml");
    std::fs::write(&zero, yaml("0.01", 0)).unwrap();
    let zero_out = dir.path().join("zero-run");
    let run = xtask(&[
        "train",
        "--config",
        p(&zero),
        "--data",
        p(&data_path),
        "--n-train",
        "20",
        "--out",
        p(&zero_out),
    ]);
    let stderr = text(&run.stderr);
    assert!(
        !run.status.success() && stderr.contains("max_epochs") && stderr.contains("at least 1"),
        "{stderr}"
    );
    assert!(!zero_out.exists(), "nothing may be written");
}

/// Issue 18: parameters with a cost have bounds, and frame ranges read the same everywhere
/// (`..END` and `START..` are ranges, not parse errors).
#[test]
fn costly_parameters_are_bounded_and_ranges_parse_alike() {
    let dir = tempfile::tempdir().unwrap();
    let (data_path, _) = water(dir.path());
    let out = dir.path().join("soap.npz");
    let stderr = fails(&[
        "soap",
        "--data",
        p(&data_path),
        "--n-max",
        "100000",
        "--out",
        p(&out),
    ]);
    assert!(
        stderr.contains("n_max = 100000 is invalid") && stderr.contains("32"),
        "{stderr}"
    );
    assert!(!out.exists());
    // `eval --frames=..3` parses (the model file is what is missing here), a bad bound names it.
    let model = dir.path().join("missing.json");
    let stderr = fails(&[
        "eval",
        "--model",
        p(&model),
        "--data",
        p(&data_path),
        "--frames=..3",
    ]);
    assert!(
        stderr.contains("missing.json") && !stderr.contains("parse"),
        "{stderr}"
    );
    let stderr = fails(&[
        "eval",
        "--model",
        p(&model),
        "--data",
        p(&data_path),
        "--frames=a..3",
    ]);
    assert!(stderr.contains("`a` in `a..3`"), "{stderr}");
}
