//! `cargo xtask train --device`: the loss passes on the device pipeline (here its CPU emulation)
//! train the same model as the CPU, and `cuda` without a GPU is a clear error.

use mlff_nequip::Checkpoint;
use std::path::Path;
use std::process::Command;

mod common;

fn train(config: &Path, data: &Path, out: &Path, device: &str) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["train", "--config"])
        .arg(config)
        .arg("--data")
        .arg(data)
        .args([
            "--train-idx",
            "0,50,100,150",
            "--val-idx",
            "200,250",
            "--quiet",
        ])
        .arg("--out")
        .arg(out)
        .args(["--device", device])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

#[test]
fn training_on_the_emulated_device_matches_the_cpu_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tiny.yaml");
    std::fs::write(
        &config,
        "r_max: 4.0\nnum_layers: 2\nl_max: 1\nnum_features: 4\nradial_mlp_depth: 1\n\
         radial_mlp_width: 8\nmodel_dtype: float64\nseed: 3\nlearning_rate: 0.01\n\
         batch_size: 2\nmax_epochs: 2\nloss_coeffs:\n  total_energy: [1.0, PerAtomMSELoss]\n  \
         forces: 1.0\n",
    )
    .unwrap();
    let data = common::generated_ethanol(dir.path(), 260);
    let (cpu, emu) = (dir.path().join("cpu"), dir.path().join("emulated"));
    let (ok, text) = train(&config, &data, &cpu, "cpu");
    assert!(ok, "{text}");
    let (ok, text) = train(&config, &data, &emu, "emulated");
    assert!(ok, "{text}");
    assert!(
        text.contains("CPU emulation of the CUDA kernels"),
        "the loss passes did not run on the device pipeline: {text}"
    );
    let a = Checkpoint::load(&cpu.join("best_model.json"))
        .unwrap()
        .params;
    let b = Checkpoint::load(&emu.join("best_model.json"))
        .unwrap()
        .params;
    let initial = Checkpoint::load(&cpu.join("initial_model.json"))
        .unwrap()
        .params;
    assert_ne!(a, initial, "training did not move the weights");
    let worst = a
        .iter()
        .zip(&b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    assert!(worst < 1e-8, "device-trained weights differ by {worst:e}");

    if mlff_cuda::CudaBackend::new(0).is_err() {
        let (ok, text) = train(&config, &data, &dir.path().join("gpu"), "cuda");
        assert!(!ok && text.contains("--device cuda"), "{text}");
        assert!(!text.contains("panicked"), "{text}");
        assert!(
            !dir.path().join("gpu").exists(),
            "output written before the device check"
        );
    }
}
