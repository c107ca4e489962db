//! The mlffbench runner (`cargo xtask …`): command-line front ends over the library crates.
//! The binary's `main` parses arguments; the commands live here so tests can drive them.

pub mod cli;
pub mod data_cmd;
pub mod eval_cmd;
pub mod fetch;
pub mod potential_cmd;
pub mod reproduce_cmd;
pub mod score_cmd;
pub mod soap_cmd;
pub mod split_cmd;
pub mod train_cmd;
