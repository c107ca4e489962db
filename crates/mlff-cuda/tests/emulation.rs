//! The kernel sources, compiled as C++ and run over their full launch grid on the CPU, against
//! mlff-e3's CPU implementation (the reference) to 1e-12 in f64, on seeded random inputs and
//! edge cases (no edges, one atom, l = 0 only).

mod common;

use common::{assert_close, rng, uniform};
use mlff_cuda::{
    Backend, EdgeGraph, Emulator, GatePlan, GatherIndex, RadialPlan, ShPlan, SortedScatter, UvuPlan,
};
use mlff_e3::tensor_product::{ConnectionMode, Instruction};
use mlff_e3::{Activation, Irreps, NormalizedActivation, ScatterPlan, TensorProduct, Weights};

const TOL: f64 = 1e-12;

fn irreps(s: &str) -> Irreps {
    s.parse().unwrap()
}

#[test]
fn spherical_harmonics_and_vjp_match_mlff_e3() {
    let mut r = rng(1);
    for lmax in 0..=3 {
        for normalize in [true, false] {
            for n in [0, 1, 37, 300] {
                let v = uniform(&mut r, 3 * n, -2.0, 2.0);
                let plan = ShPlan::new(lmax, normalize).unwrap();
                let dim = plan.dim();
                let mut got = vec![f64::NAN; n * dim];
                Emulator.sh_forward(&plan, &v, &mut got).unwrap();
                let want = plan.reference().compute(&v).unwrap();
                assert_close("sh", &got, &want, TOL);

                let g = uniform(&mut r, n * dim, -1.0, 1.0);
                let mut got = vec![f64::NAN; 3 * n];
                Emulator.sh_vjp(&plan, &v, &g, &mut got).unwrap();
                let mut want = vec![0.0; 3 * n];
                plan.reference().vjp(&v, &g, &mut want).unwrap();
                assert_close("sh vjp", &got, &want, TOL);
            }
        }
    }
}

#[test]
fn radial_embedding_and_backward_match_mlff_e3() {
    let mut r = rng(2);
    for (nb, r_max, p) in [(8, 5.0, 6), (1, 4.0, 2), (5, 3.5, 9)] {
        for n in [0, 1, 500] {
            let plan = RadialPlan::new(nb, r_max, p).unwrap();
            // Lengths beyond r_max exercise the zero branch of the cutoff.
            let lengths = uniform(&mut r, n, 0.05, 1.2 * r_max);
            let freqs: Vec<f64> = (1..=nb)
                .map(|k| k as f64 + 0.1 * (k as f64).sin())
                .collect();
            let mut got = vec![f64::NAN; n * nb];
            Emulator
                .bessel_forward(&plan, &lengths, &freqs, &mut got)
                .unwrap();
            let want = plan.reference().compute(&lengths, &freqs).unwrap();
            assert_close("bessel", &got, &want, TOL);

            let g = uniform(&mut r, n * nb, -1.0, 1.0);
            let (mut gl, mut gf) = (vec![f64::NAN; n], vec![f64::NAN; nb]);
            Emulator
                .bessel_backward(
                    &plan,
                    &lengths,
                    &freqs,
                    &g,
                    &mut gl,
                    &mut gf,
                    &mut vec![0.0; n * nb],
                )
                .unwrap();
            let (mut wl, mut wf) = (vec![0.0; n], vec![0.0; nb]);
            plan.reference()
                .backward(&lengths, &freqs, &g, &mut wl, &mut wf)
                .unwrap();
            assert_close("bessel grad lengths", &gl, &wl, TOL);
            // Sums over up to 500 edges in a different order: relative to the sum's scale.
            let scale = g.iter().map(|x| x.abs()).sum::<f64>().max(1.0);
            assert_close("bessel grad frequencies", &gf, &wf, TOL * scale);
        }
    }
}

#[test]
fn gather_and_scatter_match_mlff_e3_including_empty_and_single_atom() {
    let mut r = rng(3);
    for (atoms, edges, width) in [(1, 0, 4), (1, 3, 2), (7, 0, 3), (20, 333, 5)] {
        let x = uniform(&mut r, atoms * width, -1.0, 1.0);
        let idx: Vec<usize> = (0..edges).map(|e| (e * 7 + e / 3) % atoms).collect();
        let index = GatherIndex::new(&idx, atoms).unwrap();
        let mut got = vec![f64::NAN; edges * width];
        Emulator.gather(&index, &x, width, &mut got).unwrap();
        let mut want = vec![0.0; edges * width];
        mlff_e3::gather(&x, width, &idx, &mut want).unwrap();
        assert_eq!(got, want, "gather");

        let src = uniform(&mut r, edges * width, -1.0, 1.0);
        let plan = SortedScatter::new(&idx, atoms).unwrap();
        let mut got = vec![f64::NAN; atoms * width];
        Emulator.scatter_sum(&plan, &src, width, &mut got).unwrap();
        let mut want = vec![0.0; atoms * width];
        ScatterPlan::new(&idx, atoms)
            .unwrap()
            .scatter_sum(&src, width, &mut want)
            .unwrap();
        // Same summation order as the CPU plan: bit-identical.
        assert_eq!(got, want, "scatter_sum");
    }
}

#[test]
fn edge_vectors_and_vjp_match_mlff_e3_including_empty_and_single_atom() {
    let mut r = rng(7);
    for (atoms, edges) in [(1, 0), (1, 1), (6, 0), (12, 90)] {
        let pos = uniform(&mut r, 3 * atoms, -3.0, 3.0);
        let origin: Vec<usize> = (0..edges).map(|e| e % atoms).collect();
        let tip: Vec<usize> = (0..edges).map(|e| (e * 5 + 1) % atoms).collect();
        let graph = EdgeGraph::new(&origin, &tip, atoms).unwrap();
        let mut got = vec![f64::NAN; 3 * edges];
        Emulator.edge_vectors(&graph, &pos, &mut got).unwrap();
        let mut want = vec![0.0; 3 * edges];
        mlff_e3::edge_vectors(&pos, &origin, &tip, &mut want).unwrap();
        assert_eq!(got, want, "edge vectors");

        let g = uniform(&mut r, 3 * edges, -1.0, 1.0);
        let mut got = vec![f64::NAN; 3 * atoms];
        Emulator.edge_vectors_vjp(&graph, &g, &mut got).unwrap();
        let (by_tip, by_origin) = (
            ScatterPlan::new(&tip, atoms).unwrap(),
            ScatterPlan::new(&origin, atoms).unwrap(),
        );
        let mut want = vec![0.0; 3 * atoms];
        mlff_e3::edge_vectors_vjp(&g, &by_tip, &by_origin, &mut want).unwrap();
        assert_eq!(got, want, "edge vectors vjp");
    }
    assert!(EdgeGraph::new(&[0, 1], &[1], 2).is_err());
    assert!(EdgeGraph::new(&[0], &[2], 2).is_err());
}

/// Forward and backward of `tp` on `n` random samples, emulated vs mlff-e3.
fn check_tensor_product(tp: &TensorProduct, n: usize, seed: u64) {
    let mut r = rng(seed);
    let plan = UvuPlan::new(tp).unwrap();
    let [d1, d2, d3] = plan.dims();
    let wn = plan.weight_numel();
    let x1 = uniform(&mut r, n * d1, -1.0, 1.0);
    let x2 = uniform(&mut r, n * d2, -1.0, 1.0);
    let w = uniform(&mut r, n * wn, -1.0, 1.0);
    let mut got = vec![f64::NAN; n * d3];
    Emulator.tp_forward(&plan, &x1, &x2, &w, &mut got).unwrap();
    let want = tp.compute(&x1, &x2, Weights::PerSample(&w)).unwrap();
    assert_close("tp forward", &got, &want, TOL);

    let g = uniform(&mut r, n * d3, -1.0, 1.0);
    let mut got = [
        vec![f64::NAN; n * d1],
        vec![f64::NAN; n * d2],
        vec![f64::NAN; n * wn],
    ];
    let [g1, g2, gw] = &mut got;
    Emulator
        .tp_backward(&plan, &x1, &x2, &w, &g, g1, g2, gw)
        .unwrap();
    let mut want = [vec![0.0; n * d1], vec![0.0; n * d2], vec![0.0; n * wn]];
    let [w1, w2, ww] = &mut want;
    tp.backward(&x1, &x2, Weights::PerSample(&w), &g, w1, w2, ww)
        .unwrap();
    for (what, (g, w)) in ["grad x1", "grad x2", "grad weights"]
        .iter()
        .zip(got.iter().zip(&want))
    {
        assert_close(what, g, w, TOL);
    }
}

#[test]
fn nequip_convolution_tensor_product_matches_mlff_e3() {
    let tp = TensorProduct::nequip_convolution(
        &irreps("4x0e+3x1o+2x2e+2x3o"),
        &Irreps::spherical_harmonics(3),
        &irreps("4x0e+4x0o+4x1o+4x1e+4x2e+4x2o+4x3o+4x3e"),
    )
    .unwrap();
    for (n, seed) in [(0, 10), (1, 11), (23, 12)] {
        check_tensor_product(&tp, n, seed);
    }
}

#[test]
fn tensor_product_with_shared_outputs_unweighted_paths_and_channels() {
    // Two paths into one output block (summed by the kernel's CSR), one unweighted path and
    // m2 > 1 (so the weight index depends on v).
    let (in1, in2, out) = (
        irreps("3x1o+3x0e"),
        irreps("2x1o+1x0e"),
        irreps("3x1o+3x0e"),
    );
    let mut unweighted = Instruction::new(1, 1, 1, ConnectionMode::Uvu);
    unweighted.has_weight = false;
    let instructions = vec![
        Instruction::new(0, 0, 1, ConnectionMode::Uvu),
        Instruction::new(0, 1, 0, ConnectionMode::Uvu),
        Instruction::new(1, 0, 0, ConnectionMode::Uvu),
        unweighted,
    ];
    let tp = TensorProduct::new(in1, in2, out, instructions).unwrap();
    check_tensor_product(&tp, 17, 20);
}

#[test]
fn scalar_only_tensor_product_matches_mlff_e3() {
    let tp = TensorProduct::nequip_convolution(&irreps("5x0e"), &irreps("1x0e"), &irreps("5x0e"))
        .unwrap();
    check_tensor_product(&tp, 9, 30);
}

#[test]
fn uvw_paths_are_rejected_with_a_typed_error() {
    let tp =
        TensorProduct::fully_connected(irreps("2x0e"), irreps("1x0e"), irreps("2x0e")).unwrap();
    assert!(matches!(
        UvuPlan::new(&tp),
        Err(mlff_cuda::CudaError::Unsupported(_))
    ));
}

fn nequip_gate() -> GatePlan {
    let silu = NormalizedActivation::new(Activation::Silu);
    let tanh = NormalizedActivation::new(Activation::Tanh);
    let sigmoid = NormalizedActivation::new(Activation::Sigmoid);
    GatePlan::new(
        irreps("6x0e+2x0o"),
        &[silu, tanh],
        irreps("4x0e+3x0e"),
        &[sigmoid, silu],
        irreps("3x1o+2x2e+2x1e"),
    )
    .unwrap()
}

#[test]
fn gate_forward_and_backward_match_mlff_e3() {
    let plan = nequip_gate();
    let (din, dout) = (
        plan.reference().irreps_in().dim(),
        plan.reference().irreps_out().dim(),
    );
    let mut r = rng(4);
    for n in [0, 1, 41] {
        // Wide inputs reach both branches of the overflow-safe sigmoid.
        let x = uniform(&mut r, n * din, -6.0, 6.0);
        let mut got = vec![f64::NAN; n * dout];
        Emulator.gate_forward(&plan, &x, &mut got).unwrap();
        let want = plan.reference().compute(&x).unwrap();
        assert_close("gate", &got, &want, TOL);

        let g = uniform(&mut r, n * dout, -1.0, 1.0);
        let mut got = vec![f64::NAN; n * din];
        Emulator.gate_backward(&plan, &x, &g, &mut got).unwrap();
        let mut want = vec![0.0; n * din];
        plan.reference().backward(&x, &g, &mut want).unwrap();
        assert_close("gate backward", &got, &want, TOL);
    }
}

#[test]
fn scalars_only_gate_matches_mlff_e3() {
    let silu = NormalizedActivation::new(Activation::Silu);
    let plan = GatePlan::new(
        irreps("5x0e"),
        &[silu],
        Irreps::default(),
        &[],
        Irreps::default(),
    )
    .unwrap();
    let mut r = rng(5);
    let x = uniform(&mut r, 3 * 5, -3.0, 3.0);
    let mut got = vec![f64::NAN; 15];
    Emulator.gate_forward(&plan, &x, &mut got).unwrap();
    assert_close("gate", &got, &plan.reference().compute(&x).unwrap(), TOL);
}

#[test]
fn f32_instantiation_agrees_with_f64_reference() {
    let plan = ShPlan::new(3, true).unwrap();
    let mut r = rng(6);
    let v = uniform(&mut r, 3 * 50, -2.0, 2.0);
    let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    let mut got = vec![0.0f32; 50 * 16];
    Emulator.sh_forward(&plan, &v32, &mut got).unwrap();
    let want = plan.reference().compute(&v).unwrap();
    let got: Vec<f64> = got.into_iter().map(f64::from).collect();
    assert_close("sh f32", &got, &want, 1e-5);
}

#[test]
fn bad_shapes_and_indices_are_typed_errors() {
    use mlff_cuda::CudaError;
    let plan = ShPlan::new(2, true).unwrap();
    let mut out = vec![0.0; 9];
    assert!(matches!(
        Emulator.sh_forward(&plan, &vec![1.0, 2.0], &mut out),
        Err(CudaError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ShPlan::new(4, true),
        Err(CudaError::Unsupported(_))
    ));
    assert!(matches!(
        GatherIndex::new(&[0, 3], 3),
        Err(CudaError::E3(mlff_e3::E3Error::IndexOutOfRange {
            index: 3,
            ..
        }))
    ));
    assert!(SortedScatter::new(&[5], 2).is_err());
    assert!(matches!(RadialPlan::new(0, 5.0, 6), Err(CudaError::E3(_))));
    let tp = TensorProduct::nequip_convolution(&irreps("2x0e"), &irreps("1x0e"), &irreps("2x0e"))
        .unwrap();
    let uvu = UvuPlan::new(&tp).unwrap();
    let mut out = vec![0.0; 2];
    assert!(matches!(
        Emulator.tp_forward(&uvu, &vec![1.0, 2.0], &vec![1.0], &vec![1.0], &mut out),
        Err(CudaError::ShapeMismatch {
            what: "tensor product per-sample weights",
            ..
        })
    ));
}

#[test]
fn linear_kernel_matches_mlff_e3_both_directions_and_per_type_weights() {
    common::pipeline_ops::linear_matches_mlff_e3(&Emulator, TOL);
}

#[test]
fn reference_gemm_matches_direct_products_for_every_transpose() {
    common::pipeline_ops::gemm_matches_direct_products(&Emulator, TOL);
}

#[test]
fn edge_lengths_silu_and_elementwise_kernels_match_direct_formulas() {
    common::pipeline_ops::elementwise_ops_match_direct_formulas(&Emulator, TOL);
}

#[test]
fn empty_buffers_round_trip() {
    common::pipeline_ops::empty_buffers_round_trip(&Emulator);
}

#[test]
fn kernels_on_dual_numbers_match_mlff_e3() {
    common::dual_ops::kernels_on_duals_match_mlff_e3(&Emulator);
}
