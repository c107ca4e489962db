//! The device pipeline (CPU emulation of the kernels) against pip nequip 0.19.1's own output
//! for its ethanol fixture: an independent reference, not only our CPU model.

mod common;

use mlff_cuda::Emulator;
use mlff_nequip_cuda::DeviceNequip;
use std::sync::Arc;

fn max_rel_err(got: &[f64], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    got.iter()
        .zip(want)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
        / scale
}

#[test]
fn emulated_device_model_matches_nequip_energies_and_forces() {
    let (model, graph, energy, forces) = common::nequip_ethanol();
    let got = DeviceNequip::<_, f64>::new(Arc::new(Emulator), &model)
        .unwrap()
        .predict(&graph)
        .unwrap();
    let err_e = max_rel_err(&got.energies, &energy);
    let err_f = max_rel_err(&got.forces, &forces);
    println!("relative errors vs nequip: energy {err_e:e}, forces {err_f:e}");
    assert!(err_e < 1e-9, "energies: {err_e:e}");
    assert!(err_f < 1e-9, "forces: {err_f:e}");
}
