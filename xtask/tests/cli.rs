//! The `cargo xtask data …` commands as a user runs them.

use std::path::Path;
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

const XYZ: &str = "3\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-10.5 time_index=3 dt_fs=0.5\nO 0 0 0 1 2 3\nH 0 0 1 1 2 3\nH 0 1 0 1 2 3\n3\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-11.5 time_index=1 dt_fs=0.5\nO 0 0 0.1 1 2 3\nH 0 0 1 1 2 3\nH 0 1 0 1 2 3\n";

#[test]
fn info_and_convert_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("water.xyz");
    std::fs::write(&xyz, XYZ).unwrap();
    let npz = dir.path().join("rmd17_water.npz");
    let out = xtask(&["data", "convert", p(&xyz), p(&npz)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = xtask(&["data", "info", p(&npz)]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for expected in [
        "rMD17 npz",
        "frames       2",
        "H2 O1",
        "mean -11.0000",
        "indexed",
    ] {
        assert!(
            stdout.contains(expected),
            "`{expected}` missing from:\n{stdout}"
        );
    }
    let out = xtask(&["data", "info", "--json", p(&npz)]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["frames"], 2);

    // eV conversion is explicit and recorded.
    let ev = dir.path().join("ev.xyz");
    assert!(
        xtask(&["data", "convert", "--energy-unit", "ev", p(&npz), p(&ev)])
            .status
            .success()
    );
    let info = text(&xtask(&["data", "info", p(&ev)]).stdout);
    assert!(info.contains("energy eV"), "{info}");
}

#[test]
fn bad_input_gives_a_message_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.npz");
    let out = xtask(&["data", "info", p(&missing)]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("nope.npz") && !stderr.contains("panicked"),
        "{stderr}"
    );

    let broken = dir.path().join("broken.xyz");
    std::fs::write(&broken, "3\ncomment\nO 0 0 0\n").unwrap();
    let stderr = text(&xtask(&["data", "info", p(&broken)]).stderr);
    assert!(
        stderr.contains("file ends early") && !stderr.contains("panicked"),
        "{stderr}"
    );

    let out = xtask(&["data", "convert", p(&broken), "out.unknown"]);
    assert!(!out.status.success());
}

#[test]
fn train_refuses_a_configuration_that_is_not_a_mapping() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("list.yaml", "- r_max: 4.0\n- num_layers: 3\n"),
        ("scalar.yaml", "4.0\n"),
        ("array.json", "[1, 2]"),
        ("empty.yaml", ""),
    ] {
        let config = dir.path().join(name);
        std::fs::write(&config, content).unwrap();
        let out = dir.path().join(format!("run-{name}"));
        let args = ["train", "--config", p(&config), "--data", "unused.npz"];
        let run = xtask(&[&args[..], &["--n-train", "5", "--out", p(&out)]].concat());
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains(name) && stderr.contains("must be a mapping"),
            "{name}: {stderr}"
        );
        assert!(!out.exists(), "{name}: nothing may be written");
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn train_refuses_a_misspelt_key_naming_the_file_line_and_the_key_meant() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("nequip.yaml");
    std::fs::write(
        &config,
        "# a comment\nr_max: 4.0\nnum_layers: 2\n\nlearnig_rate: 0.5\nmax_epochs: 1\n",
    )
    .unwrap();
    let out = dir.path().join("run");
    let run = xtask(&[
        "train",
        "--config",
        p(&config),
        "--data",
        "unused.npz",
        "--n-train",
        "5",
        "--out",
        p(&out),
    ]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .contains("nequip.yaml:5: unknown key `learnig_rate` (did you mean `learning_rate`?)"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written");
}

#[test]
fn a_bad_training_value_names_the_file_and_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cfg.yaml");
    let mut yaml = String::from("r_max: 4.0\nnum_layers: 2\n");
    yaml.push_str(&"# padding\n".repeat(7));
    yaml.push_str("learning_rate: fast\n"); // line 10
    std::fs::write(&config, yaml).unwrap();
    let out = dir.path().join("run");
    let run = xtask(&[
        "train",
        "--config",
        p(&config),
        "--data",
        "unused.npz",
        "--n-train",
        "5",
        "--out",
        p(&out),
    ]);
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cfg.yaml") && stderr.contains("line 10"),
        "{stderr}"
    );
    assert!(!out.exists());
}
