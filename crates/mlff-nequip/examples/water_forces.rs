//! Builds a small NequIP model, evaluates a water molecule and checks one force component
//! against a central finite difference of the energy.

use mlff_nequip::{Nequip, NequipConfig, NumFeatures};

fn main() -> Result<(), mlff_nequip::NequipError> {
    let mut config = NequipConfig::new(vec!["H".into(), "O".into()], 4.0);
    config.num_layers = 3;
    config.l_max = 2;
    config.num_features = NumFeatures::Uniform(8);
    config.model_dtype = "float64".into();
    let model = Nequip::new(config)?;
    let numbers = [8u8, 1, 1];
    let mut positions = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.96], [0.93, 0.0, -0.24]];
    let graph = model.graph([(&numbers[..], &positions[..])])?;
    let p = model.predict(&graph)?;
    println!(
        "energy {:.6}, force on H1 {:?}",
        p.energies[0],
        &p.forces[3..6]
    );
    let h = 1e-5;
    positions[1][2] += h;
    let up = model.energies_f64(&model.graph([(&numbers[..], &positions[..])])?)?[0];
    positions[1][2] -= 2.0 * h;
    let down = model.energies_f64(&model.graph([(&numbers[..], &positions[..])])?)?[0];
    println!(
        "F_z(H1) = {:.8}, finite difference {:.8}",
        p.forces[5],
        -(up - down) / (2.0 * h)
    );
    Ok(())
}
