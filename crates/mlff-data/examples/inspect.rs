//! Loads a dataset (any supported format), prints its summary, and writes it back as extended
//! XYZ. Without arguments it builds a small in-memory water trajectory.
//!
//! `cargo run -p mlff-data --example inspect -- rmd17_aspirin.npz`

use mlff_data::{
    Dataset, DatasetParts, OutputFormat, Provenance, Species, Summary, TimeOrder, Units,
};
use ndarray::{Array1, Array3};

fn water_trajectory() -> mlff_data::Result<Dataset> {
    let t = 10;
    let mut positions = Array3::zeros((t, 3, 3));
    for frame in 0..t {
        let stretch = 0.96 + 0.01 * (frame as f64 * 0.7).sin();
        positions[[frame, 1, 0]] = stretch;
        positions[[frame, 2, 0]] = -0.24;
        positions[[frame, 2, 1]] = 0.93;
    }
    Dataset::new(DatasetParts {
        species: Species::Fixed(Array1::from(vec![8, 1, 1])),
        positions,
        energies: None,
        forces: None,
        time_order: TimeOrder::Sequential,
        units: Units::KCAL_MOL_ANGSTROM,
        provenance: Provenance {
            molecule: Some("water".into()),
            time_step_fs: Some(0.5),
            ..Provenance::default()
        },
    })
}

fn main() -> mlff_data::Result<()> {
    let data = match std::env::args().nth(1) {
        Some(path) => mlff_data::load(path)?,
        None => water_trajectory()?,
    };
    println!("{}", Summary::of(&data));
    if let Ok(ordered) = data.time_ordered() {
        let window = ordered.slice(0..ordered.len().min(5))?;
        println!("first frames in time order: {:?}", window.indices());
    }
    let out = std::env::temp_dir().join("mlff_data_inspect.xyz");
    mlff_data::save(&data, &out, OutputFormat::ExtXyz)?;
    println!("written {}", out.display());
    Ok(())
}
