//! `cargo xtask`: the mlffbench runner.

use anyhow::Result;
use clap::{Parser, Subcommand};

/// The mlffbench runner: data tools, experiments and reports.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {}
}
