//! `cargo xtask`: the mlffbench runner.

use clap::Parser;
use tracing_subscriber::EnvFilter;
use xtask::cli::{Cli, run};

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
