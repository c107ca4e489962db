//! `cargo xtask`: the mlffbench runner.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use xtask::cli::{Cli, run};

/// mimalloc keeps freed pages for reuse. A training step frees and reallocates tens of MB of
/// per-pass buffers; glibc's malloc hands much of that back to the kernel and faults it in
/// again on the next step, which cost ~6 % of a small-model step (measured, docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cli.log));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    run(cli)
}
