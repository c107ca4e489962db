//! Loads a file and reports the process's peak resident memory against the size of the loaded
//! arrays (Linux: reads `VmHWM` from /proc/self/status).
//!
//! `cargo run --release -p mlff-data --example peak_memory -- FILE`

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: peak_memory FILE")?;
    let before = status_kib("VmHWM:").unwrap_or(0);
    let start = std::time::Instant::now();
    let data = mlff_data::load(&path)?;
    let elapsed = start.elapsed();
    let peak = status_kib("VmHWM:").ok_or("no /proc/self/status")?;
    let arrays =
        8 * (data.positions().len() + data.forces().map_or(0, |f| f.len()) + data.len() * 2);
    println!(
        "{} frames × {} atoms loaded in {:.3} s; arrays {:.1} MiB; peak RSS {:.1} MiB (before load {:.1} MiB); ratio {:.2}",
        data.len(),
        data.n_atoms(),
        elapsed.as_secs_f64(),
        arrays as f64 / 1048576.0,
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        (peak as f64 * 1024.0) / arrays as f64
    );
    Ok(())
}
