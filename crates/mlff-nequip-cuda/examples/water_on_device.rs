//! NequIP energies and forces of two water molecules on the GPU — or, without one, on the CPU
//! emulation of the same kernels — next to the CPU model.
//!
//! `cargo run -p mlff-nequip-cuda --example water_on_device`

use mlff_cuda::{CudaBackend, Emulator};
use mlff_nequip::{Nequip, NequipConfig};
use mlff_nequip_cuda::DeviceNequip;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = NequipConfig::new(vec!["H".into(), "O".into()], 4.0);
    config.model_dtype = "float64".into();
    let model = Nequip::new(config)?;
    let numbers = [8u8, 1, 1, 8, 1, 1];
    let positions = [
        [0.0, 0.0, 0.0],
        [0.96, 0.0, 0.0],
        [-0.24, 0.93, 0.0],
        [2.8, 0.1, 0.2],
        [3.7, 0.2, 0.1],
        [2.6, 0.9, -0.4],
    ];
    let graph = model.graph([(&numbers[..], &positions[..])])?;
    let cpu = model.predict(&graph)?;
    let (executor, device) = match CudaBackend::new(0) {
        Ok(gpu) => (
            format!("GPU {}", gpu.device_name()?),
            DeviceNequip::<_, f64>::new(Arc::new(gpu), &model)?.predict(&graph)?,
        ),
        Err(e) => (
            format!("CPU emulation of the kernels ({e})"),
            DeviceNequip::<_, f64>::new(Arc::new(Emulator), &model)?.predict(&graph)?,
        ),
    };
    println!("executor: {executor}");
    println!(
        "energy: device {:.12} / CPU {:.12}",
        device.energies[0], cpu.energies[0]
    );
    let worst = device
        .forces
        .iter()
        .zip(&cpu.forces)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    println!("largest force difference: {worst:.3e}");
    Ok(())
}
