#![doc = include_str!("../README.md")]

pub mod error;
pub mod graph;
pub mod model;

pub use error::{DeviceModelError, Result};
pub use graph::DeviceGraph;
pub use model::{DeviceNequip, DeviceOutput};
