//! `reproduce --model external --model-card CARD` from the command line, with the example card
//! of docs/external-models/ase-pair (the README's worked example), and its argument errors.
//! The run itself needs Python with `ase` (`MLFFBENCH_PYTHON`, else `python3`): skipped with a
//! notice when missing, unless `MLFFBENCH_REQUIRE_ASE=1` (CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn xtask(args: &[&str], path_first: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    if let Some(dir) = path_first {
        // The example card runs `python3`: the one with ase comes first.
        let path = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{}:{path}", dir.display()));
    }
    command.output().expect("run xtask")
}

/// A small grid over three 400-frame molecules.
const TINY_PLAN: &str = r#"{
  "preset": "quick", "seeds": [0], "test_fraction": 0.1, "validation_fraction": 0.1,
  "sample": { "molecules": ["ethanol"], "sizes": [30], "iid_test": 40 },
  "time": { "molecules": ["ethanol"], "window": 40, "positions": 2 },
  "cross": { "molecules": ["ethanol", "malonaldehyde"], "train_frames": 60, "test_frames": 40,
             "ladder_target": "ethanol", "ladder": ["malonaldehyde", "benzene"] },
  "soap": { "r_cut": 4.0, "n_max": 2, "l_max": 2, "sigma": 0.5, "max_train_frames": 30 },
  "md": { "runs": 0, "steps": 0, "save_every": 10, "dt_fs": 0.5, "temperature_k": 500.0,
          "friction_per_fs": 0.05, "heating_rate_k_per_ps": 20000.0,
          "max_temperature_k": 3500.0, "nve_steps": 0 }
}"#;

fn card() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/external-models/ase-pair/card.yaml")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_example_card_benchmarks_through_the_command_line() {
    let Some(python) = mlff_testkit::python_with(&["ase.calculators.socketio", "numpy"]) else {
        return;
    };
    // A directory whose `python3` is the interpreter with ase.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let interpreter = Command::new(&python)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .unwrap();
    let interpreter = String::from_utf8_lossy(&interpreter.stdout)
        .trim()
        .to_owned();
    // A wrapper, not a link: a virtual environment is found from the path it was started by.
    let wrapper = bin.join("python3");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{interpreter}' \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let data = dir.path().join("data");
    let out = xtask(
        &[
            "gen-data",
            "--molecules",
            "ethanol,malonaldehyde,benzene",
            "--frames",
            "400",
            "--equilibration",
            "200",
            "--out",
            data.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let plan = dir.path().join("plan.json");
    std::fs::write(&plan, TINY_PLAN).unwrap();
    let results = dir.path().join("results");
    let out = xtask(
        &[
            "reproduce",
            "--model",
            "external",
            "--model-card",
            card().to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--plan",
            plan.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
            "--sizes",
            "40",
            "--md-steps",
            "0",
            "--only",
            "e1",
        ],
        Some(&bin),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let run = results.join("quick-ase-pair");
    assert!(run.join("report.html").is_file());
    let cell: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(run.join("cells/e1-ethanol-n40-s0.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cell["model"], "ase-pair");
    assert!(cell["tests"][0]["scores"]["force_mae"].as_f64().unwrap() > 0.0);
    // The cell's work directory holds what the commands saw and wrote.
    let work = run.join("work/e1-ethanol-n40-s0");
    for file in [
        "train.extxyz",
        "validation.extxyz",
        "frames.json",
        "model/model.json",
    ] {
        assert!(work.join(file).is_file(), "{file}");
    }
    let head = std::fs::read_to_string(work.join("train.extxyz")).unwrap();
    assert!(
        head.lines().nth(1).unwrap().contains("energy_unit=eV"),
        "{head:.300}"
    );
}

#[test]
fn external_needs_a_card_and_a_card_needs_external() {
    let out = xtask(&["reproduce", "--model", "external"], None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--model external needs --model-card"),
        "{}",
        stderr(&out)
    );
    let out = xtask(
        &[
            "reproduce",
            "--model",
            "baseline",
            "--model-card",
            card().to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("--model-card is for --model external"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_card_with_a_misspelt_key_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("card.yaml");
    std::fs::write(
        &bad,
        "name: m\nserve: s {unixsocket}\nevaluation_timout_s: 5\n",
    )
    .unwrap();
    let results = dir.path().join("results");
    let out = xtask(
        &[
            "reproduce",
            "--model",
            "external",
            "--model-card",
            bad.to_str().unwrap(),
            "--results",
            results.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let text = stderr(&out);
    assert!(
        text.contains("evaluation_timout_s") && text.contains("card.yaml"),
        "{text}"
    );
    assert!(!results.exists(), "nothing written");
}
