//! A run resumes only on the settings and data it started with: a rerun after the data files
//! changed (regenerated with another seed) is refused, naming what changed, and writes nothing.

use mlff_bench::device::Device;
use mlff_bench::generate::{GenerateOptions, run as generate};
use mlff_bench::{ModelSpec, Plan, RunRequest};
use std::path::Path;

fn data(out: &Path, seed: u64) {
    let mut options = GenerateOptions::default_data(
        vec!["ethanol".into(), "malonaldehyde".into(), "benzene".into()],
        out.to_path_buf(),
    );
    options.frames = 400;
    options.equilibration = 200;
    options.seed = seed;
    generate(&options).unwrap();
}

fn plan() -> Plan {
    serde_json::from_value(serde_json::json!({
        "preset": "quick", "seeds": [0], "test_fraction": 0.1, "validation_fraction": 0.1,
        "sample": { "molecules": ["ethanol"], "sizes": [30], "iid_test": 40 },
        "time": { "molecules": ["ethanol"], "window": 40, "positions": 2 },
        "cross": { "molecules": ["ethanol", "malonaldehyde"], "train_frames": 60,
                   "test_frames": 40, "ladder_target": "ethanol",
                   "ladder": ["malonaldehyde", "benzene"] },
        "soap": { "r_cut": 4.0, "n_max": 2, "l_max": 2, "sigma": 0.5, "max_train_frames": 30 },
        "md": { "runs": 0, "steps": 0, "save_every": 10, "dt_fs": 0.5, "temperature_k": 500.0,
                "friction_per_fs": 0.05, "heating_rate_k_per_ps": 20000.0,
                "max_temperature_k": 3500.0, "nve_steps": 0 }
    }))
    .unwrap()
}

#[test]
fn a_rerun_on_changed_data_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("data");
    data(&files, 0);
    let request = RunRequest {
        name: "r".into(),
        dir: dir.path().join("results/r"),
        plan: plan(),
        explicit_sizes: true,
        model: ModelSpec::Baseline,
        data: Some(files.clone()),
        frame_spacing_fs: None,
        only: vec!["e1".into()],
        jobs: 1,
        device: Device::Cpu,
    };
    assert!(mlff_bench::run(&request).unwrap().failures.is_empty());
    // The same files: resumes (nothing to do).
    assert!(mlff_bench::run(&request).unwrap().failures.is_empty());
    let manifest = std::fs::read(request.dir.join("run.json")).unwrap();

    data(&files, 1); // regenerated with another seed: other frames under the same names
    let e = mlff_bench::run(&request).unwrap_err().to_string();
    assert!(
        e.contains("different settings") && e.contains("the contents of ethanol's data file"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(request.dir.join("run.json")).unwrap(),
        manifest
    );
}
