//! The library without the command line: generate small trajectories of three molecules, run
//! experiment 1 (sample efficiency) of the quick plan with the two-body baseline, and print the
//! report's path and the findings' first lines.
//!
//! `cargo run --release -p mlff-bench --example baseline_grid`

use mlff_bench::device::Device;
use mlff_bench::generate::{GenerateOptions, run as generate};
use mlff_bench::{ModelSpec, Preset, RunRequest, run};

fn main() -> anyhow::Result<()> {
    let root = std::env::temp_dir().join(format!("mlff-bench-example-{}", std::process::id()));
    let data = root.join("data");
    let mut plan = Preset::Quick.plan();
    let mut molecules: Vec<String> = plan.sample.molecules.clone();
    molecules.extend(plan.cross.molecules.iter().cloned());
    molecules.extend(plan.cross.ladder.iter().cloned());
    molecules.push(plan.cross.ladder_target.clone());
    molecules.sort();
    molecules.dedup();
    let mut options = GenerateOptions::default_data(molecules, data.clone());
    options.frames = 4_000; // 20 ps per molecule: enough for the quick plan's sizes
    generate(&options)?;
    plan.seeds = vec![0, 1];
    plan.md.runs = 0;
    let outcome = run(&RunRequest {
        name: "example".into(),
        dir: root.join("results/example"),
        plan,
        explicit_sizes: false,
        model: ModelSpec::Baseline,
        data: Some(data),
        frame_spacing_fs: None,
        only: vec!["e1".into()],
        jobs: 0,
        device: Device::Cpu,
    })?;
    println!("report: {}", outcome.report.display());
    let report = std::fs::read_to_string(outcome.report.with_file_name("report.md"))?;
    for line in report
        .lines()
        .skip_while(|l| !l.starts_with("## Summary"))
        .take(4)
    {
        println!("{line}");
    }
    Ok(())
}
