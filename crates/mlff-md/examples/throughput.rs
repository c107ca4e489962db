//! Throughput on a shared machine, measured in CPU time of this process (so that other
//! processes competing for the cores do not count): UFF aspirin evaluations per CPU-second,
//! and the full default-data workload — ten molecules × (2000 equilibration + 20,000 saved)
//! steps of Langevin MD at 500 K, 0.5 fs.
//!
//! `cargo run -p mlff-md --release --example throughput` (Linux: reads /proc/self/stat).

use std::time::Instant;

use mlff_md::{
    BUILTIN_MOLECULES, Molecule, Potential, Result, TrajectoryConfig, UffPotential,
    generate_trajectory,
};

/// User + system CPU time of this process, seconds (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn main() -> Result<()> {
    let aspirin = Molecule::builtin("aspirin")?;
    let uff = UffPotential::new(&aspirin)?;
    let pos = aspirin.positions();
    let mut forces = vec![[0.0; 3]; pos.len()];
    let n_evals = 400_000;
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    let mut sink = 0.0;
    for _ in 0..n_evals {
        sink += uff.energy_forces(std::hint::black_box(&pos), &mut forces)?;
    }
    let (cpu, wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    println!(
        "UFF aspirin energy+forces: {:.0} evaluations per CPU-second ({:.0} per wall-second) [{sink:.1}]",
        n_evals as f64 / cpu,
        n_evals as f64 / wall
    );

    let config = TrajectoryConfig {
        equilibration_steps: 2000,
        n_frames: 20_000,
        save_every: 1,
        ..TrajectoryConfig::default()
    };
    let (cpu0, wall0) = (cpu_seconds(), Instant::now());
    for name in BUILTIN_MOLECULES {
        let molecule = Molecule::builtin(name)?;
        let uff = UffPotential::new(&molecule)?;
        let t = Instant::now();
        let traj = generate_trajectory(
            &molecule.atomic_numbers(),
            &molecule.positions(),
            &uff,
            &config,
            &mut |_| {},
        )?;
        println!(
            "  {name}: {} frames in {:.2} s wall",
            traj.n_frames(),
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "ten molecules × 22,000 steps: {:.2} CPU-s, {:.2} wall-s",
        cpu_seconds() - cpu0,
        wall0.elapsed().as_secs_f64()
    );
    Ok(())
}
