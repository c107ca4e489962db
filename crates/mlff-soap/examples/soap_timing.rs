//! Single-threaded per-atom SOAP timing on the frames of an (extended) XYZ file, for the
//! comparison with DScribe and featomic (`docs/soap_compare/compare.py` runs it):
//! `cargo run --release -p mlff-soap --example soap_timing -- FILE.xyz N_FRAMES REPEATS`.
//! Parameters: species H, C, O; r_cut 5, n_max 8, l_max 6, sigma 0.5 (gto, average off).
//! Prints one line: `mlff-soap <file> frames=<n> atoms=<total> best_us_per_atom=<t>`.

use mlff_soap::{Soap, SoapParams};
use ndarray::{Array1, Array2};
use std::time::Instant;

fn atomic_number(symbol: &str) -> Result<u32, String> {
    match symbol {
        "H" => Ok(1),
        "C" => Ok(6),
        "O" => Ok(8),
        other => Err(format!("unsupported element {other}")),
    }
}

/// One frame: atomic numbers and positions (Å).
type Frame = (Array1<u32>, Array2<f64>);

/// Frames of an XYZ file.
fn read_xyz(path: &str, max_frames: usize) -> Result<Vec<Frame>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines();
    let mut frames = Vec::new();
    while frames.len() < max_frames {
        let Some(header) = lines.next() else { break };
        let n: usize = header
            .trim()
            .parse()
            .map_err(|e| format!("atom count: {e}"))?;
        lines.next().ok_or("missing comment line")?;
        let mut z = Vec::with_capacity(n);
        let mut x = Vec::with_capacity(3 * n);
        for _ in 0..n {
            let mut f = lines.next().ok_or("truncated frame")?.split_whitespace();
            z.push(atomic_number(f.next().ok_or("missing symbol")?)?);
            for _ in 0..3 {
                x.push(
                    f.next()
                        .ok_or("missing coordinate")?
                        .parse::<f64>()
                        .map_err(|e| e.to_string())?,
                );
            }
        }
        frames.push((
            Array1::from(z),
            Array2::from_shape_vec((n, 3), x).map_err(|e| e.to_string())?,
        ));
    }
    Ok(frames)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, n_frames, repeats] = args.as_slice() else {
        return Err("usage: soap_timing FILE.xyz N_FRAMES REPEATS".into());
    };
    let frames = read_xyz(path, n_frames.parse().map_err(|_| "N_FRAMES")?)?;
    let repeats: usize = repeats.parse().map_err(|_| "REPEATS")?;
    let soap = Soap::new(SoapParams::new(&[1, 6, 8], 5.0, 8, 6, 0.5)).map_err(|e| e.to_string())?;
    let atoms: usize = frames.iter().map(|(z, _)| z.len()).sum();
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        for (z, x) in &frames {
            std::hint::black_box(
                soap.compute(z.view(), x.view())
                    .map_err(|e| e.to_string())?,
            );
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "mlff-soap {path} frames={} atoms={atoms} best_us_per_atom={:.3}",
        frames.len(),
        best * 1e6 / atoms as f64
    );
    Ok(())
}
