//! The device model on a real GPU against mlff-nequip's CPU model and pip nequip's fixture.
//! Prints a notice and passes when this machine has no CUDA driver or GPU.

mod common;

use mlff_cuda::{CudaBackend, CudaError};
use mlff_nequip_cuda::DeviceNequip;

fn gpu_or_skip(test: &str) -> Option<CudaBackend> {
    match CudaBackend::new(0) {
        Ok(b) => Some(b),
        Err(CudaError::NoDevice { reason }) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "NOTICE: {test} skipped: no CUDA driver/GPU found ({reason})"
            );
            None
        }
        Err(e) => panic!("a CUDA driver is present but the backend failed: {e}"),
    }
}

#[test]
fn gpu_energies_and_forces_match_the_cpu_model_in_f64_and_f32() {
    let Some(gpu) = gpu_or_skip("gpu_energies_and_forces_match_the_cpu_model_in_f64_and_f32")
    else {
        return;
    };
    let gpu = std::sync::Arc::new(gpu);
    let (model, graph, _, _) = common::nequip_ethanol();
    let want = model.predict_as::<f64>(&graph).unwrap();
    for (precision, tol) in [("f64", 1e-10), ("f32", 1e-4)] {
        let got = if precision == "f64" {
            DeviceNequip::<_, f64>::new(gpu.clone(), &model)
                .unwrap()
                .predict(&graph)
                .unwrap()
        } else {
            DeviceNequip::<_, f32>::new(gpu.clone(), &model)
                .unwrap()
                .predict(&graph)
                .unwrap()
        };
        for (what, g, w) in [
            ("energies", &got.energies, &want.energies),
            ("forces", &got.forces, &want.forces),
        ] {
            let scale = w.iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let worst = g
                .iter()
                .zip(w)
                .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
            assert!(
                worst <= tol * scale,
                "{precision} {what}: {worst:e} (scale {scale})"
            );
        }
    }
}
