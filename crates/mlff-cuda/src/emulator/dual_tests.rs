//! The kernels instantiated on dual numbers (kernels/dual.cuh), run by the emulation, against
//! mlff-e3's CPU operations evaluated on `mlff_e3::Dual<f64>`: value and tangent to 1e-12. This
//! checks the dual arithmetic on the real kernel sources — the building block of force-loss
//! gradients on the device. (Launching them through `Backend` comes with device training.)

use mlff_e3::{
    Activation, Dual, Irreps, Linear, NormalizedActivation, Scalar, TensorProduct, Weights,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{contract, run_grid, to_real};
use crate::plan::{GatePlan, LinearPlan, RadialPlan, ShPlan, UvuPlan};
use crate::real::sealed::EmulatedReal;

type D = Dual<f64>;

fn duals(r: &mut ChaCha8Rng, n: usize, lo: f64, hi: f64) -> Vec<D> {
    (0..n)
        .map(|_| D::new(r.random_range(lo..hi), r.random_range(-1.0..1.0)))
        .collect()
}

fn assert_close(what: &str, got: &[D], want: &[D]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        for (part, a, b) in [("value", g.re, w.re), ("tangent", g.eps, w.eps)] {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{what}[{i}] {part}: emulated {a} vs mlff-e3 {b}"
            );
        }
    }
}

fn kernels() -> &'static super::EmulatedKernels<D> {
    D::emulated()
}

#[test]
fn spherical_harmonics_and_vjp_on_duals() {
    let mut r = ChaCha8Rng::seed_from_u64(1);
    for normalize in [true, false] {
        let plan = ShPlan::new(3, normalize).unwrap();
        let n = 25;
        let v = duals(&mut r, 3 * n, -2.0, 2.0);
        let mut out = vec![D::zero(); n * 16];
        let k = kernels().sh_forward;
        // SAFETY: n vectors in, n × 16 components out, as the kernel indexes.
        run_grid(n, || unsafe {
            k(n as i32, 3, normalize as i32, v.as_ptr(), out.as_mut_ptr())
        })
        .unwrap();
        assert_close("sh", &out, &plan.reference().compute(&v).unwrap());
        let g = duals(&mut r, n * 16, -1.0, 1.0);
        let mut gv = vec![D::zero(); 3 * n];
        let k = kernels().sh_vjp;
        // SAFETY: as above, plus n × 16 cotangents and n × 3 results.
        run_grid(n, || unsafe {
            k(
                n as i32,
                3,
                normalize as i32,
                v.as_ptr(),
                g.as_ptr(),
                gv.as_mut_ptr(),
            )
        })
        .unwrap();
        let mut want = vec![D::zero(); 3 * n];
        plan.reference().vjp(&v, &g, &mut want).unwrap();
        assert_close("sh vjp", &gv, &want);
    }
}

#[test]
fn bessel_embedding_and_backward_on_duals() {
    let mut r = ChaCha8Rng::seed_from_u64(2);
    let plan = RadialPlan::new(8, 4.0, 6).unwrap();
    let (n, nb) = (40, 8);
    let lengths = duals(&mut r, n, 0.2, 4.5); // some beyond r_max
    let freqs: Vec<D> = (1..=nb).map(|k| D::new(k as f64, 0.1 * k as f64)).collect();
    let r_max = D::constant(4.0);
    let mut out = vec![D::zero(); n * nb];
    let k = kernels().bessel_forward;
    // SAFETY: n lengths, nb frequencies, n × nb outputs.
    run_grid(n * nb, || unsafe {
        k(
            n as i32,
            nb as i32,
            r_max,
            6,
            lengths.as_ptr(),
            freqs.as_ptr(),
            out.as_mut_ptr(),
        )
    })
    .unwrap();
    assert_close(
        "bessel",
        &out,
        &plan.reference().compute(&lengths, &freqs).unwrap(),
    );
    let g = duals(&mut r, n * nb, -1.0, 1.0);
    let (mut gl, mut terms) = (vec![D::zero(); n], vec![D::zero(); n * nb]);
    let k = kernels().bessel_backward;
    // SAFETY: as above, plus n × nb cotangents and per-edge frequency terms.
    run_grid(n, || unsafe {
        k(
            n as i32,
            nb as i32,
            r_max,
            6,
            lengths.as_ptr(),
            freqs.as_ptr(),
            g.as_ptr(),
            gl.as_mut_ptr(),
            terms.as_mut_ptr(),
        )
    })
    .unwrap();
    // Frequency gradients through sum_rows, the kernel with the dual atomicAdd.
    let mut gf = vec![D::zero(); nb];
    let k = kernels().sum_rows;
    // SAFETY: n × nb terms summed into nb columns.
    run_grid(nb, || unsafe {
        k(n as i32, nb as i32, 256, terms.as_ptr(), gf.as_mut_ptr())
    })
    .unwrap();
    let (mut wl, mut wf) = (vec![D::zero(); n], vec![D::zero(); nb]);
    plan.reference()
        .backward(&lengths, &freqs, &g, &mut wl, &mut wf)
        .unwrap();
    assert_close("bessel grad lengths", &gl, &wl);
    assert_close("bessel grad frequencies", &gf, &wf);
}

#[test]
fn tensor_product_on_duals() {
    let irreps = |s: &str| s.parse::<Irreps>().unwrap();
    let tp = TensorProduct::nequip_convolution(
        &irreps("3x0e+2x1o+2x2e"),
        &Irreps::spherical_harmonics(2),
        &irreps("3x0e+3x1o+3x2e"),
    )
    .unwrap();
    let plan = UvuPlan::new(&tp).unwrap();
    let [d1, d2, d3] = plan.dims();
    let (n, wn) = (6, plan.weight_numel());
    let mut r = ChaCha8Rng::seed_from_u64(3);
    let (x1, x2, w) = (
        duals(&mut r, n * d1, -1.0, 1.0),
        duals(&mut r, n * d2, -1.0, 1.0),
        duals(&mut r, n * wn, -1.0, 1.0),
    );
    let mut out = vec![D::zero(); n * d3];
    contract(plan.forward(), n, (&x1, d1), (&x2, d2), (&w, wn), &mut out).unwrap();
    let want = tp.compute(&x1, &x2, Weights::PerSample(&w)).unwrap();
    assert_close("tp", &out, &want);
}

#[test]
fn gate_and_linear_on_duals() {
    let irreps = |s: &str| s.parse::<Irreps>().unwrap();
    let act = NormalizedActivation::e3nn;
    let plan = GatePlan::new(
        irreps("4x0e+2x0o"),
        &[act(Activation::Silu), act(Activation::Tanh)],
        irreps("3x0e"),
        &[act(Activation::Sigmoid)],
        irreps("2x1o+1x2e"),
    )
    .unwrap();
    let gate = plan.reference();
    let (din, dout, n) = (gate.irreps_in().dim(), gate.irreps_out().dim(), 9);
    let mut r = ChaCha8Rng::seed_from_u64(4);
    let x = duals(&mut r, n * din, -3.0, 3.0);
    let mut out = vec![D::zero(); n * dout];
    let scale = to_real::<D>(plan.out_scale());
    let k = kernels().gate_forward;
    // SAFETY: n × din inputs, n × dout outputs, tables from the plan.
    run_grid(n * dout, || unsafe {
        k(
            n as i32,
            din as i32,
            dout as i32,
            plan.out_table().as_ptr(),
            scale.as_ptr(),
            x.as_ptr(),
            out.as_mut_ptr(),
        )
    })
    .unwrap();
    assert_close("gate", &out, &gate.compute(&x).unwrap());

    let lin = Linear::new(irreps("3x0e+2x1o"), irreps("2x0e+3x1o")).unwrap();
    let lp = LinearPlan::new(&lin, 0.5, 1).unwrap();
    let table = lp.forward();
    let w = duals(&mut r, lin.weight_numel(), -1.0, 1.0);
    let xl = duals(&mut r, n * table.width_src, -1.0, 1.0);
    let mut yl = vec![D::zero(); n * table.width_out()];
    let coef = to_real::<D>(&table.coef);
    let k = kernels().linear_rows;
    // SAFETY: shared weights (stride 0: the set table is not read), widths from the plan.
    run_grid(n * table.width_out(), || unsafe {
        k(
            n as i32,
            table.width_src as i32,
            table.width_out() as i32,
            table.col_start.as_ptr(),
            table.terms.as_ptr(),
            coef.as_ptr(),
            [0].as_ptr(),
            0,
            xl.as_ptr(),
            w.as_ptr(),
            yl.as_mut_ptr(),
        )
    })
    .unwrap();
    let want: Vec<D> = lin
        .compute(&xl, &w)
        .unwrap()
        .into_iter()
        .map(|v| v * D::constant(0.5))
        .collect();
    assert_close("linear", &yl, &want);
}

#[test]
fn edge_lengths_and_silu_on_duals() {
    let mut r = ChaCha8Rng::seed_from_u64(5);
    let ne = 30;
    let v = duals(&mut r, 3 * ne, -2.0, 2.0);
    let mut len = vec![D::zero(); ne];
    let k = kernels().edge_lengths;
    // SAFETY: ne × 3 vectors, ne lengths.
    run_grid(ne, || unsafe { k(ne as i32, v.as_ptr(), len.as_mut_ptr()) }).unwrap();
    let want: Vec<D> = v
        .chunks_exact(3)
        .map(|e| (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]).sqrt())
        .collect();
    assert_close("edge lengths", &len, &want);

    let mut x = duals(&mut r, 200, -8.0, 8.0);
    let input = x.clone();
    let mut slope = vec![D::zero(); 200];
    let k = kernels().silu_with_slope;
    // SAFETY: 200 values and 200 slopes.
    run_grid(200, || unsafe {
        k(200, x.as_mut_ptr(), slope.as_mut_ptr())
    })
    .unwrap();
    let (want, want_slope): (Vec<D>, Vec<D>) = input
        .iter()
        .map(|&v| Activation::Silu.eval_with_derivative(v))
        .unzip();
    assert_close("silu", &x, &want);
    assert_close("silu slope", &slope, &want_slope);
}
