//! Computes SOAP for distorted water molecules, streams them in chunks, and reports how
//! similar "test" frames are to a "training" set. Runs without any data files:
//! `cargo run -p mlff-soap --example water_similarity`.

use mlff_soap::{
    Average, RematchKernel, Soap, SoapError, SoapParams, kernel_matrix_symmetric, set_similarity,
    similarity_to_training,
};
use ndarray::{Array1, Array3, Axis, array, concatenate, s};

fn main() -> Result<(), SoapError> {
    let numbers: Array1<u32> = array![8, 1, 1];
    let equilibrium = array![
        [0.0, 0.0, 0.119],
        [0.0, 0.763, -0.477],
        [0.0, -0.763, -0.477]
    ];
    // 40 frames; the last 10 are stretched further than anything in the first 30.
    let frames = Array3::from_shape_fn((40, 3, 3), |(f, i, a)| {
        let amplitude = if f < 30 { 0.05 } else { 0.25 };
        equilibrium[[i, a]] + amplitude * ((f * 13 + i * 5 + a * 3) as f64).sin()
    });

    let soap = Soap::new(SoapParams::new(&[1, 8], 5.0, 8, 6, 0.5))?;
    println!("{} features; column blocks:", soap.n_features());
    for block in soap.layout().blocks() {
        println!(
            "  Z=({}, {}): columns {}..{}",
            block.z1, block.z2, block.start, block.end
        );
    }

    // Averaged vectors, computed 16 frames at a time (memory-bounded for big datasets).
    let averaged = soap.with_average(Average::Inner);
    let mut chunks = Vec::new();
    for chunk in averaged.chunks(numbers.view(), frames.view(), None, 16)? {
        chunks.push(chunk?.descriptors.index_axis_move(Axis(1), 0));
    }
    let views: Vec<_> = chunks.iter().map(|c| c.view()).collect();
    let vectors = concatenate(Axis(0), &views).expect("same width");
    let (train, test) = (vectors.slice(s![..30, ..]), vectors.slice(s![30.., ..]));

    for (i, sim) in similarity_to_training(test, train)?.iter().enumerate() {
        println!(
            "test frame {}: max {:.6}, mean {:.6} (nearest training frame {})",
            30 + i,
            sim.max,
            sim.mean,
            sim.nearest
        );
    }
    let summary = set_similarity(test, train)?;
    println!(
        "test→train max similarity: median {:.6}, min {:.6}; MMD² {:.3e}",
        summary.max_to_other.median, summary.max_to_other.min, summary.mmd2
    );

    // REMatch between the first four frames' per-atom environments.
    let local: Vec<_> = (0..4)
        .map(|f| soap.compute(numbers.view(), frames.index_axis(Axis(0), f)))
        .collect::<Result<_, _>>()?;
    let local_views: Vec<_> = local.iter().map(|m| m.view()).collect();
    println!(
        "REMatch (alpha 0.1):\n{:.6}",
        kernel_matrix_symmetric(&RematchKernel::default(), &local_views)?
    );
    Ok(())
}
