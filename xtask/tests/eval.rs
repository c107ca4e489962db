//! `cargo xtask eval`: a pip-nequip export and our own checkpoint on dataset files.

use mlff_data::format::NpzReader;
use mlff_nequip::{Checkpoint, Nequip, NequipConfig, NumFeatures, graph_of, load_nequip_dir};
use std::path::Path;
use std::process::Command;

mod common;

fn xtask(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn read(path: &Path, key: &str) -> Vec<f64> {
    NpzReader::open(path)
        .unwrap()
        .floats(key)
        .unwrap()
        .unwrap()
        .values
}

#[test]
fn nequip_export_evaluates_a_real_md17_file_in_frame_order() {
    let model_dir = common::nequip_ethanol();
    let Some(data) = mlff_testkit::third_party("md17_ethanol_first2000.npz") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pred.npz");
    let (ok, text) = xtask(&[
        "eval",
        "--model",
        p(&model_dir),
        "--data",
        p(&data),
        "--out",
        p(&out),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains("2000 frames") && text.contains("force MAE"),
        "{text}"
    );
    let energies = read(&out, "energies");
    let forces = read(&out, "forces");
    assert_eq!(energies.len(), 2000);
    assert_eq!(forces.len(), 2000 * 9 * 3);
    // Frame 1999 alone gives the same numbers as in the batched run.
    let model = load_nequip_dir(&model_dir).unwrap();
    let ds = mlff_data::load(&data).unwrap();
    let alone = model
        .predict(&graph_of(&model, &ds, &[1999]).unwrap())
        .unwrap();
    assert!((alone.energies[0] - energies[1999]).abs() < 1e-9 * alone.energies[0].abs().max(1.0));
    assert!(
        alone
            .forces
            .iter()
            .zip(&forces[1999 * 27..])
            .all(|(a, b)| (a - b).abs() < 1e-9)
    );
}

#[test]
fn our_checkpoint_evaluates_an_extxyz_file_and_bad_paths_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let xyz = dir.path().join("water.xyz");
    std::fs::write(
        &xyz,
        "3\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-10.5\nO 0 0 0 1 2 3\nH 0 0 0.97 1 2 3\nH 0 0.95 -0.2 1 2 3\n\
         3\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-11.5\nO 0 0 0.05 1 2 3\nH 0 0 1.0 1 2 3\nH 0 0.9 -0.2 1 2 3\n",
    )
    .unwrap();
    let mut config = NequipConfig::new(vec!["H".into(), "O".into()], 4.0);
    config.num_layers = 2;
    config.num_features = NumFeatures::Uniform(4);
    let model = Nequip::new(config).unwrap();
    let ckpt = dir.path().join("model.json");
    Checkpoint::of(&model, None, serde_json::Value::Null)
        .save(&ckpt)
        .unwrap();
    let out = dir.path().join("pred.npz");
    let (ok, text) = xtask(&[
        "eval",
        "--model",
        p(&ckpt),
        "--data",
        p(&xyz),
        "--out",
        p(&out),
    ]);
    assert!(ok, "{text}");
    let ds = mlff_data::load(&xyz).unwrap();
    let direct = model
        .predict(&graph_of(&model, &ds, &[0, 1]).unwrap())
        .unwrap();
    assert_eq!(read(&out, "energies"), direct.energies);

    let (ok, text) = xtask(&[
        "eval",
        "--model",
        p(&dir.path().join("missing.json")),
        "--data",
        p(&xyz),
    ]);
    assert!(!ok && text.contains("missing.json"), "{text}");
    // A model without oxygen refuses water, naming the element.
    let mut config = NequipConfig::new(vec!["H".into(), "C".into()], 4.0);
    config.num_layers = 1;
    Checkpoint::of(&Nequip::new(config).unwrap(), None, serde_json::Value::Null)
        .save(&ckpt)
        .unwrap();
    let (ok, text) = xtask(&["eval", "--model", p(&ckpt), "--data", p(&xyz)]);
    assert!(!ok && text.contains("Z=8"), "{text}");
}

#[test]
fn device_emulated_matches_cpu_and_cuda_without_a_gpu_is_a_clear_error() {
    let model_dir = common::nequip_ethanol();
    let dir = tempfile::tempdir().unwrap();
    let data = common::generated_ethanol(dir.path(), 8);
    let run = |device: &str, out: &Path| {
        xtask(&[
            "eval",
            "--model",
            p(&model_dir),
            "--data",
            p(&data),
            "--frames",
            "0..8",
            "--device",
            device,
            "--out",
            p(out),
        ])
    };
    let (cpu_out, gpu_out) = (dir.path().join("cpu.npz"), dir.path().join("gpu.npz"));
    let emu_out = dir.path().join("emulated.npz");
    let (ok, text) = run("cpu", &cpu_out);
    assert!(ok, "{text}");
    // The device pipeline (kernels run by their CPU emulation) through the same command.
    let (ok, text) = run("emulated", &emu_out);
    assert!(ok, "{text}");
    for key in ["energies", "forces"] {
        let (a, b) = (read(&cpu_out, key), read(&emu_out, key));
        let scale = a.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let worst = a
            .iter()
            .zip(&b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        assert!(worst < 1e-9 * scale, "emulated vs CPU {key}: {worst:e}");
    }
    let (ok, text) = run("cuda", &gpu_out);
    if mlff_cuda::CudaBackend::new(0).is_err() {
        assert!(!ok, "--device cuda succeeded without a GPU: {text}");
        assert!(
            text.contains("--device cuda") && !text.contains("panicked"),
            "{text}"
        );
        return;
    }
    assert!(ok, "{text}");
    let (a, b) = (read(&cpu_out, "forces"), read(&gpu_out, "forces"));
    let worst = a
        .iter()
        .zip(&b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    assert!(worst < 1e-3, "GPU vs CPU forces differ by {worst}");
}
