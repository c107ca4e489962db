#![doc = include_str!("../README.md")]

pub mod error;
pub mod forward;
pub mod graph;
pub mod model;
pub mod reverse;
pub mod training;

pub use error::{DeviceModelError, Result};
pub use forward::DeviceTape;
pub use graph::DeviceGraph;
pub use model::{DeviceNequip, DeviceOutput};
pub use reverse::DeviceGradients;
pub use training::DevicePasses;
