//! The kernels on a real GPU against mlff-e3 (f64, 1e-12). Every test prints a notice and
//! passes when this machine has no CUDA driver or GPU; with a GPU any failure is an error.

mod common;

use common::{assert_close, notice, rng, uniform};
use mlff_cuda::{
    Backend, CudaBackend, CudaError, EdgeGraph, GatePlan, GatherIndex, RadialPlan, ShPlan,
    SortedScatter, UvuPlan,
};
use mlff_e3::{Activation, Irreps, NormalizedActivation, ScatterPlan, Weights};

const TOL: f64 = 1e-12;

/// The GPU, or `None` (with a notice) when there is none.
fn gpu_or_skip(test: &str) -> Option<CudaBackend> {
    match CudaBackend::new(0) {
        Ok(b) => Some(b),
        Err(CudaError::NoDevice { reason }) => {
            notice(&format!(
                "{test} skipped: no CUDA driver/GPU found ({reason})"
            ));
            None
        }
        Err(e) => panic!("a CUDA driver is present but the backend failed: {e}"),
    }
}

#[test]
fn missing_driver_is_a_typed_error_not_a_panic() {
    match CudaBackend::new(0) {
        Ok(b) => notice(&format!("GPU present: {:?}", b.device_name())),
        Err(e) => {
            assert!(
                matches!(e, CudaError::NoDevice { .. } | CudaError::NvrtcMissing),
                "{e}"
            );
            if !mlff_cuda::driver_available() {
                assert!(e.to_string().starts_with("no CUDA driver/GPU found"), "{e}");
            }
        }
    }
}

#[test]
fn spherical_harmonics_radial_and_gate_on_the_gpu() {
    let Some(gpu) = gpu_or_skip("spherical_harmonics_radial_and_gate_on_the_gpu") else {
        return;
    };
    let mut r = rng(101);
    let n = 1000;
    let v = uniform(&mut r, 3 * n, -2.0, 2.0);
    let plan = ShPlan::new(3, true).unwrap();
    let dv = gpu.upload(&v).unwrap();
    let mut out = gpu.zeros::<f64>(n * 16).unwrap();
    gpu.sh_forward(&plan, &dv, &mut out).unwrap();
    assert_close(
        "sh",
        &gpu.download(&out).unwrap(),
        &plan.reference().compute(&v).unwrap(),
        TOL,
    );
    let g = uniform(&mut r, n * 16, -1.0, 1.0);
    let mut gv = gpu.zeros::<f64>(3 * n).unwrap();
    gpu.sh_vjp(&plan, &dv, &gpu.upload(&g).unwrap(), &mut gv)
        .unwrap();
    let mut want = vec![0.0; 3 * n];
    plan.reference().vjp(&v, &g, &mut want).unwrap();
    assert_close("sh vjp", &gpu.download(&gv).unwrap(), &want, TOL);

    let radial = RadialPlan::new(8, 5.0, 6).unwrap();
    let lengths = uniform(&mut r, n, 0.1, 6.0);
    let freqs = radial.reference().default_frequencies::<f64>();
    let (dl, df) = (gpu.upload(&lengths).unwrap(), gpu.upload(&freqs).unwrap());
    let mut out = gpu.zeros::<f64>(n * 8).unwrap();
    gpu.bessel_forward(&radial, &dl, &df, &mut out).unwrap();
    let want = radial.reference().compute(&lengths, &freqs).unwrap();
    assert_close("bessel", &gpu.download(&out).unwrap(), &want, TOL);
    let g = uniform(&mut r, n * 8, -1.0, 1.0);
    let (mut gl, mut gf) = (gpu.zeros::<f64>(n).unwrap(), gpu.zeros::<f64>(8).unwrap());
    let mut scratch = gpu.zeros::<f64>(n * 8).unwrap();
    let dg = gpu.upload(&g).unwrap();
    gpu.bessel_backward(&radial, &dl, &df, &dg, &mut gl, &mut gf, &mut scratch)
        .unwrap();
    let (mut wl, mut wf) = (vec![0.0; n], vec![0.0; 8]);
    radial
        .reference()
        .backward(&lengths, &freqs, &g, &mut wl, &mut wf)
        .unwrap();
    assert_close("bessel grad lengths", &gpu.download(&gl).unwrap(), &wl, TOL);
    assert_close(
        "bessel grad freqs",
        &gpu.download(&gf).unwrap(),
        &wf,
        TOL * n as f64,
    );

    let silu = NormalizedActivation::new(Activation::Silu);
    let sigmoid = NormalizedActivation::new(Activation::Sigmoid);
    let irreps = |s: &str| s.parse::<Irreps>().unwrap();
    let gate = GatePlan::new(
        irreps("8x0e"),
        &[silu],
        irreps("8x0e"),
        &[sigmoid],
        irreps("4x1o+4x2e"),
    )
    .unwrap();
    let dgate = gpu.upload_gate::<f64>(&gate).unwrap();
    let (din, dout) = (
        gate.reference().irreps_in().dim(),
        gate.reference().irreps_out().dim(),
    );
    let x = uniform(&mut r, n * din, -4.0, 4.0);
    let dx = gpu.upload(&x).unwrap();
    let mut out = gpu.zeros::<f64>(n * dout).unwrap();
    gpu.gate_forward(&dgate, &dx, &mut out).unwrap();
    assert_close(
        "gate",
        &gpu.download(&out).unwrap(),
        &gate.reference().compute(&x).unwrap(),
        TOL,
    );
    let g = uniform(&mut r, n * dout, -1.0, 1.0);
    let mut gx = gpu.zeros::<f64>(n * din).unwrap();
    gpu.gate_backward(&dgate, &dx, &gpu.upload(&g).unwrap(), &mut gx)
        .unwrap();
    let mut want = vec![0.0; n * din];
    gate.reference().backward(&x, &g, &mut want).unwrap();
    assert_close("gate backward", &gpu.download(&gx).unwrap(), &want, TOL);
}

#[test]
fn gather_scatter_edges_and_tensor_product_on_the_gpu() {
    let Some(gpu) = gpu_or_skip("gather_scatter_edges_and_tensor_product_on_the_gpu") else {
        return;
    };
    let mut r = rng(102);
    let (atoms, edges, width) = (50, 2000, 24);
    let idx: Vec<usize> = (0..edges).map(|e| (e * 13 + e / 7) % atoms).collect();
    let x = uniform(&mut r, atoms * width, -1.0, 1.0);
    let dindex = gpu
        .upload_gather(&GatherIndex::new(&idx, atoms).unwrap())
        .unwrap();
    let mut out = gpu.zeros::<f64>(edges * width).unwrap();
    gpu.gather(&dindex, &gpu.upload(&x).unwrap(), width, &mut out)
        .unwrap();
    let mut want = vec![0.0; edges * width];
    mlff_e3::gather(&x, width, &idx, &mut want).unwrap();
    assert_eq!(gpu.download(&out).unwrap(), want);
    let src = uniform(&mut r, edges * width, -1.0, 1.0);
    let dplan = gpu
        .upload_scatter(&SortedScatter::new(&idx, atoms).unwrap())
        .unwrap();
    let mut out = gpu.zeros::<f64>(atoms * width).unwrap();
    gpu.scatter_sum(&dplan, &gpu.upload(&src).unwrap(), width, &mut out)
        .unwrap();
    let mut want = vec![0.0; atoms * width];
    ScatterPlan::new(&idx, atoms)
        .unwrap()
        .scatter_sum(&src, width, &mut want)
        .unwrap();
    assert_eq!(gpu.download(&out).unwrap(), want);

    let pos = uniform(&mut r, 3 * atoms, -3.0, 3.0);
    let tip: Vec<usize> = (0..edges).map(|e| (e * 5 + 1) % atoms).collect();
    let graph = gpu
        .upload_edges(&EdgeGraph::new(&idx, &tip, atoms).unwrap())
        .unwrap();
    let mut vecs = gpu.zeros::<f64>(3 * edges).unwrap();
    gpu.edge_vectors(&graph, &gpu.upload(&pos).unwrap(), &mut vecs)
        .unwrap();
    let mut want = vec![0.0; 3 * edges];
    mlff_e3::edge_vectors(&pos, &idx, &tip, &mut want).unwrap();
    assert_eq!(gpu.download(&vecs).unwrap(), want);
    let g = uniform(&mut r, 3 * edges, -1.0, 1.0);
    let mut gp = gpu.zeros::<f64>(3 * atoms).unwrap();
    gpu.edge_vectors_vjp(&graph, &gpu.upload(&g).unwrap(), &mut gp)
        .unwrap();
    let mut want = vec![0.0; 3 * atoms];
    let (by_tip, by_origin) = (
        ScatterPlan::new(&tip, atoms).unwrap(),
        ScatterPlan::new(&idx, atoms).unwrap(),
    );
    mlff_e3::edge_vectors_vjp(&g, &by_tip, &by_origin, &mut want).unwrap();
    assert_eq!(gpu.download(&gp).unwrap(), want);

    let tp = common::nequip_convolution("8x0e+8x1o+8x2e", 3, "8x0e+8x1o+8x2e+8x3o");
    let plan = UvuPlan::new(&tp).unwrap();
    let dplan = gpu.upload_uvu::<f64>(&plan).unwrap();
    let [d1, d2, d3] = plan.dims();
    let (n, wn) = (edges, plan.weight_numel());
    let (x1, x2, w) = (
        uniform(&mut r, n * d1, -1.0, 1.0),
        uniform(&mut r, n * d2, -1.0, 1.0),
        uniform(&mut r, n * wn, -1.0, 1.0),
    );
    let (dx1, dx2, dw) = (
        gpu.upload(&x1).unwrap(),
        gpu.upload(&x2).unwrap(),
        gpu.upload(&w).unwrap(),
    );
    let mut out = gpu.zeros::<f64>(n * d3).unwrap();
    gpu.tp_forward(&dplan, &dx1, &dx2, &dw, &mut out).unwrap();
    let want = tp.compute(&x1, &x2, Weights::PerSample(&w)).unwrap();
    assert_close("tp", &gpu.download(&out).unwrap(), &want, TOL);
    let g = uniform(&mut r, n * d3, -1.0, 1.0);
    let (mut g1, mut g2, mut gw) = (
        gpu.zeros::<f64>(n * d1).unwrap(),
        gpu.zeros::<f64>(n * d2).unwrap(),
        gpu.zeros::<f64>(n * wn).unwrap(),
    );
    gpu.tp_backward(
        &dplan,
        &dx1,
        &dx2,
        &dw,
        &gpu.upload(&g).unwrap(),
        &mut g1,
        &mut g2,
        &mut gw,
    )
    .unwrap();
    let (mut w1, mut w2, mut ww) = (vec![0.0; n * d1], vec![0.0; n * d2], vec![0.0; n * wn]);
    tp.backward(
        &x1,
        &x2,
        Weights::PerSample(&w),
        &g,
        &mut w1,
        &mut w2,
        &mut ww,
    )
    .unwrap();
    assert_close("tp grad x1", &gpu.download(&g1).unwrap(), &w1, TOL);
    assert_close("tp grad x2", &gpu.download(&g2).unwrap(), &w2, TOL);
    assert_close("tp grad w", &gpu.download(&gw).unwrap(), &ww, TOL);
}

#[test]
fn linear_kernel_on_the_gpu() {
    if let Some(gpu) = gpu_or_skip("linear_kernel_on_the_gpu") {
        common::pipeline_ops::linear_matches_mlff_e3(&gpu, TOL);
    }
}

#[test]
fn cublas_gemm_row_major_for_every_transpose() {
    if let Some(gpu) = gpu_or_skip("cublas_gemm_row_major_for_every_transpose") {
        common::pipeline_ops::gemm_matches_direct_products(&gpu, TOL);
    }
}

#[test]
fn edge_lengths_silu_and_elementwise_kernels_on_the_gpu() {
    if let Some(gpu) = gpu_or_skip("edge_lengths_silu_and_elementwise_kernels_on_the_gpu") {
        common::pipeline_ops::elementwise_ops_match_direct_formulas(&gpu, TOL);
    }
}

#[test]
fn empty_buffers_on_the_gpu() {
    if let Some(gpu) = gpu_or_skip("empty_buffers_on_the_gpu") {
        common::pipeline_ops::empty_buffers_round_trip(&gpu);
    }
}

#[test]
fn kernels_on_dual_numbers_on_the_gpu() {
    if let Some(gpu) = gpu_or_skip("kernels_on_dual_numbers_on_the_gpu") {
        common::dual_ops::kernels_on_duals_match_mlff_e3(&gpu);
    }
}
