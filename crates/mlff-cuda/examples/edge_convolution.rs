//! One NequIP-style message-passing step over the edges of a small molecule, run with the
//! kernels of mlff-cuda: on the GPU when there is one, otherwise on the CPU emulation of the
//! same kernel sources; either way compared with mlff-e3's CPU implementation.
//!
//! `cargo run -p mlff-cuda --example edge_convolution`

use mlff_cuda::{
    Backend, CudaBackend, Emulator, GatherIndex, RadialPlan, ShPlan, SortedScatter, UvuPlan,
};
use mlff_e3::{Irreps, ScatterPlan, TensorProduct, Weights};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Ethanol-like geometry (Å): 9 atoms, all pairs within r_max are edges.
    let pos: [[f64; 3]; 9] = [
        [-0.88, 0.07, 0.03],
        [0.60, -0.21, 0.02],
        [1.17, 1.07, -0.07],
        [-1.33, -0.89, 0.15],
        [-1.16, 0.70, 0.87],
        [-1.18, 0.58, -0.88],
        [0.90, -0.78, 0.90],
        [0.89, -0.76, -0.85],
        [2.13, 0.94, -0.10],
    ];
    let r_max = 4.0;
    let (mut src, mut dst, mut vec) = (Vec::new(), Vec::new(), Vec::new());
    for (i, a) in pos.iter().enumerate() {
        for (j, b) in pos.iter().enumerate() {
            let d = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            if i != j && r < r_max {
                src.push(i);
                dst.push(j);
                vec.extend(d);
            }
        }
    }
    let (atoms, edges) = (pos.len(), src.len());
    let lengths: Vec<f64> = vec
        .chunks(3)
        .map(|d| (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt())
        .collect();

    let features: Irreps = "4x0e+4x1o".parse()?;
    let tp = TensorProduct::nequip_convolution(
        &features,
        &Irreps::spherical_harmonics(2),
        &"4x0e+4x1o+4x2e".parse()?,
    )?;
    let (sh, radial) = (ShPlan::new(2, true)?, RadialPlan::new(8, r_max, 6)?);
    let (uvu, gather, scatter) = (
        UvuPlan::new(&tp)?,
        GatherIndex::new(&src, atoms)?,
        SortedScatter::new(&dst, atoms)?,
    );
    let [d1, _, d3] = uvu.dims();
    let x: Vec<f64> = (0..atoms * d1)
        .map(|k| ((k * 37 % 101) as f64 / 50.0) - 1.0)
        .collect();
    // Per-edge weights: here simply the radial embedding repeated (a model would apply an MLP).
    let freqs = radial.reference().default_frequencies::<f64>();
    let emb = radial.reference().compute(&lengths, &freqs)?;
    let w: Vec<f64> = (0..edges * uvu.weight_numel())
        .map(|k| emb[(k / uvu.weight_numel()) * 8 + k % 8])
        .collect();

    // Reference on the CPU (mlff-e3).
    let y = sh.reference().compute(&vec)?;
    let mut xe = vec![0.0; edges * d1];
    mlff_e3::gather(&x, d1, &src, &mut xe)?;
    let msg = tp.compute(&xe, &y, Weights::PerSample(&w))?;
    let mut want = vec![0.0; atoms * d3];
    ScatterPlan::new(&dst, atoms)?.scatter_sum(&msg, d3, &mut want)?;

    let got = match CudaBackend::new(0) {
        Ok(gpu) => {
            println!("running on {} ({})", gpu.device_name()?, gpu.arch());
            let (dvec, dx, dw) = (gpu.upload(&vec)?, gpu.upload(&x)?, gpu.upload(&w)?);
            let mut dy = gpu.zeros(edges * sh.dim())?;
            gpu.sh_forward(&sh, &dvec, &mut dy)?;
            let mut dxe = gpu.zeros(edges * d1)?;
            gpu.gather(&gpu.upload_gather(&gather)?, &dx, d1, &mut dxe)?;
            let mut dmsg = gpu.zeros(edges * d3)?;
            gpu.tp_forward(&gpu.upload_uvu(&uvu)?, &dxe, &dy, &dw, &mut dmsg)?;
            let mut dout = gpu.zeros(atoms * d3)?;
            gpu.scatter_sum(&gpu.upload_scatter(&scatter)?, &dmsg, d3, &mut dout)?;
            gpu.download(&dout)?
        }
        Err(e) => {
            println!("{e}; running the CPU emulation of the same kernels");
            let mut ye = vec![0.0; edges * sh.dim()];
            Emulator.sh_forward(&sh, &vec, &mut ye)?;
            let mut xe = vec![0.0; edges * d1];
            Emulator.gather(&gather, &x, d1, &mut xe)?;
            let mut m = vec![0.0; edges * d3];
            Emulator.tp_forward(&uvu, &xe, &ye, &w, &mut m)?;
            let mut out = vec![0.0; atoms * d3];
            Emulator.scatter_sum(&scatter, &m, d3, &mut out)?;
            out
        }
    };
    let err = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    println!("{atoms} atoms, {edges} edges, {d3} output features per atom");
    println!("max |kernels - mlff-e3| = {err:.2e}");
    println!(
        "tensor product kernels: {} FLOP per edge forward, {} backward",
        uvu.forward_flops_per_sample(),
        uvu.backward_flops_per_sample()
    );
    Ok(())
}
