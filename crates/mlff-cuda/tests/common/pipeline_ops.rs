//! Checks of the operations NequIP's pipeline adds to the kernels (linear maps, GEMM, edge
//! lengths, SiLU, element-wise updates), written once against [`Backend`] so the emulation
//! and a real GPU run the same comparisons against independent CPU references.

use super::{assert_close, rng, uniform};
use mlff_cuda::{Backend, GatherIndex, GemmShape, LinearDirection, LinearPlan, Transpose};
use mlff_e3::{Activation, Linear};

fn round_trip<B: Backend>(b: &B, host: &[f64]) -> B::Buf<f64> {
    b.upload(host).unwrap()
}

/// The linear kernel in both directions, shared and per-row weights, against mlff_e3::Linear.
pub fn linear_matches_mlff_e3<B: Backend>(b: &B, tol: f64) {
    let mut r = rng(401);
    for (irreps_in, irreps_out) in [
        ("3x0e+2x1o+2x2e", "4x0e+3x1o+1x2e"),
        ("5x0e", "1x0e"),
        ("2x0e+1x1o", "3x1o"),
        ("4x0e+2x1e", "4x0e+2x1e"),
    ] {
        let lin = Linear::new(irreps_in.parse().unwrap(), irreps_out.parse().unwrap()).unwrap();
        let (din, dout, wn) = (
            lin.irreps_in().dim(),
            lin.irreps_out().dim(),
            lin.weight_numel(),
        );
        for rows in [0, 1, 13] {
            let sets = 3;
            let x = uniform(&mut r, rows * din, -1.0, 1.0);
            let g = uniform(&mut r, rows * dout, -1.0, 1.0);
            let w = uniform(&mut r, sets * wn, -1.0, 1.0);
            let types: Vec<usize> = (0..rows).map(|i| (i * 7 + 1) % sets).collect();
            let scale = 0.7;
            // Shared weights: the first set.
            let plan = LinearPlan::new(&lin, scale, 1).unwrap();
            let dplan = b.upload_linear::<f64>(&plan).unwrap();
            let (dx, dg) = (round_trip(b, &x), round_trip(b, &g));
            let dw = round_trip(b, &w[..wn]);
            let mut out = b.zeros::<f64>(rows * dout).unwrap();
            b.linear(&dplan, LinearDirection::Forward, &dx, &dw, None, &mut out)
                .unwrap();
            let mut want = lin.compute(&x, &w[..wn]).unwrap();
            want.iter_mut().for_each(|v| *v *= scale);
            assert_close("linear", &b.download(&out).unwrap(), &want, tol);
            let mut gx = b.zeros::<f64>(rows * din).unwrap();
            b.linear(&dplan, LinearDirection::Transpose, &dg, &dw, None, &mut gx)
                .unwrap();
            let (mut want, mut gw) = (vec![0.0; rows * din], vec![0.0; wn]);
            lin.backward(&x, &w[..wn], &g, &mut want, &mut gw).unwrap();
            want.iter_mut().for_each(|v| *v *= scale);
            assert_close("linear transpose", &b.download(&gx).unwrap(), &want, tol);
            let mut dgw = b.zeros::<f64>(wn).unwrap();
            b.linear_weight_grad(&dplan, &dx, &dg, None, &mut dgw)
                .unwrap();
            gw.iter_mut().for_each(|v| *v *= scale);
            // Sums over the rows: relative to their scale.
            let sum_tol = tol * (rows.max(1) as f64);
            assert_close(
                "linear weight grad",
                &b.download(&dgw).unwrap(),
                &gw,
                sum_tol,
            );

            // One weight vector per row group.
            let plan = LinearPlan::new(&lin, scale, sets).unwrap();
            let dplan = b.upload_linear::<f64>(&plan).unwrap();
            let idx = b
                .upload_gather(&GatherIndex::new(&types, sets).unwrap())
                .unwrap();
            let dw = round_trip(b, &w);
            b.linear(
                &dplan,
                LinearDirection::Forward,
                &dx,
                &dw,
                Some(&idx),
                &mut out,
            )
            .unwrap();
            let mut want = Vec::new();
            for (row, &t) in types.iter().enumerate() {
                let xr = &x[row * din..(row + 1) * din];
                want.extend(
                    lin.compute(xr, &w[t * wn..(t + 1) * wn])
                        .unwrap()
                        .iter()
                        .map(|v| v * scale),
                );
            }
            assert_close("linear per set", &b.download(&out).unwrap(), &want, tol);
            let mut dgw = b.zeros::<f64>(sets * wn).unwrap();
            b.linear_weight_grad(&dplan, &dx, &dg, Some(&idx), &mut dgw)
                .unwrap();
            let mut want = vec![0.0; sets * wn];
            for (row, &t) in types.iter().enumerate() {
                let (mut gx_row, mut gw_row) = (vec![0.0; din], vec![0.0; wn]);
                let (xr, gr) = (
                    &x[row * din..(row + 1) * din],
                    &g[row * dout..(row + 1) * dout],
                );
                lin.backward(xr, &w[t * wn..(t + 1) * wn], gr, &mut gx_row, &mut gw_row)
                    .unwrap();
                for (acc, v) in want[t * wn..(t + 1) * wn].iter_mut().zip(&gw_row) {
                    *acc += scale * v;
                }
            }
            let sum_tol = tol * (rows.max(1) as f64);
            assert_close(
                "linear weight grad per set",
                &b.download(&dgw).unwrap(),
                &want,
                sum_tol,
            );
            // Without set indices a multi-set plan is an error, not a silent shared launch.
            assert!(
                b.linear(&dplan, LinearDirection::Forward, &dx, &dw, None, &mut out)
                    .is_err()
            );
        }
    }
}

/// GEMM in all four transpose combinations against a direct triple loop over explicit
/// transposes, with `β ≠ 0`.
pub fn gemm_matches_direct_products<B: Backend>(b: &B, tol: f64) {
    let mut r = rng(402);
    for (m, n, k) in [(1, 1, 1), (7, 5, 3), (64, 33, 17), (3, 0, 4), (2, 3, 0)] {
        for ta in [Transpose::No, Transpose::Yes] {
            for tb in [Transpose::No, Transpose::Yes] {
                let a = uniform(&mut r, m * k, -1.0, 1.0);
                let bm = uniform(&mut r, k * n, -1.0, 1.0);
                let c0 = uniform(&mut r, m * n, -1.0, 1.0);
                let at = |i: usize, l: usize| match ta {
                    Transpose::No => a[i * k + l],
                    Transpose::Yes => a[l * m + i],
                };
                let bt = |l: usize, j: usize| match tb {
                    Transpose::No => bm[l * n + j],
                    Transpose::Yes => bm[j * k + l],
                };
                let (alpha, beta) = (0.8, -0.5);
                let want: Vec<f64> = (0..m * n)
                    .map(|ij| {
                        let (i, j) = (ij / n, ij % n);
                        alpha * (0..k).map(|l| at(i, l) * bt(l, j)).sum::<f64>() + beta * c0[ij]
                    })
                    .collect();
                let shape = GemmShape {
                    trans_a: ta,
                    trans_b: tb,
                    beta,
                    ..GemmShape::plain(m, n, k, alpha)
                };
                let mut c = round_trip(b, &c0);
                b.gemm(shape, &round_trip(b, &a), &round_trip(b, &bm), &mut c)
                    .unwrap();
                assert_close("gemm", &b.download(&c).unwrap(), &want, tol);
            }
        }
    }
    let short = round_trip(b, &[1.0; 5]);
    let mut c = round_trip(b, &[0.0; 4]);
    assert!(
        b.gemm(GemmShape::plain(2, 2, 3, 1.0), &short, &short, &mut c)
            .is_err(),
        "a 2×3 operand needs 6 values"
    );
}

/// Edge lengths and their accumulated VJP, SiLU with slope, `y ⊙= x`, `y += a x`.
pub fn elementwise_ops_match_direct_formulas<B: Backend>(b: &B, tol: f64) {
    let mut r = rng(403);
    for ne in [0, 1, 50] {
        let v = uniform(&mut r, 3 * ne, -2.0, 2.0);
        let dv = round_trip(b, &v);
        let mut len = b.zeros::<f64>(ne).unwrap();
        b.edge_lengths(&dv, &mut len).unwrap();
        let want: Vec<f64> = v
            .chunks_exact(3)
            .map(|e| (e[0] * e[0] + e[1] * e[1] + e[2] * e[2]).sqrt())
            .collect();
        assert_close("edge lengths", &b.download(&len).unwrap(), &want, tol);
        let gl = uniform(&mut r, ne, -1.0, 1.0);
        let g0 = uniform(&mut r, 3 * ne, -1.0, 1.0);
        let mut gv = round_trip(b, &g0);
        b.edge_lengths_vjp(&dv, &len, &round_trip(b, &gl), &mut gv)
            .unwrap();
        let want: Vec<f64> = (0..3 * ne)
            .map(|k| g0[k] + gl[k / 3] * v[k] / want[k / 3])
            .collect();
        assert_close("edge lengths vjp", &b.download(&gv).unwrap(), &want, tol);
        assert!(b.edge_lengths(&dv, &mut b.zeros(ne + 1).unwrap()).is_err());
    }
    let x = uniform(&mut r, 300, -8.0, 8.0);
    let mut dx = round_trip(b, &x);
    let mut slope = b.zeros::<f64>(300).unwrap();
    b.silu_with_slope(&mut dx, &mut slope).unwrap();
    let (want, want_slope): (Vec<f64>, Vec<f64>) = x
        .iter()
        .map(|&v| Activation::Silu.eval_with_derivative(v))
        .unzip();
    assert_close("silu", &b.download(&dx).unwrap(), &want, tol);
    assert_close("silu slope", &b.download(&slope).unwrap(), &want_slope, tol);
    let y0 = uniform(&mut r, 300, -1.0, 1.0);
    let mut y = round_trip(b, &y0);
    b.mul_assign(&round_trip(b, &x), &mut y).unwrap();
    b.add_scaled(-1.5, &round_trip(b, &x), &mut y).unwrap();
    let want: Vec<f64> = y0.iter().zip(&x).map(|(a, v)| a * v - 1.5 * v).collect();
    assert_close(
        "mul_assign + add_scaled",
        &b.download(&y).unwrap(),
        &want,
        tol,
    );
}

/// Empty buffers (a batch without edges) upload, download and pass through launches.
pub fn empty_buffers_round_trip<B: Backend>(b: &B) {
    let empty = b.upload::<f64>(&[]).unwrap();
    assert_eq!(B::len(&empty), 0);
    assert!(b.download(&empty).unwrap().is_empty());
    let mut lengths = b.zeros::<f64>(0).unwrap();
    b.edge_lengths(&empty, &mut lengths).unwrap();
    assert!(b.download(&lengths).unwrap().is_empty());
    let one = b.upload(&[2.5]).unwrap();
    assert_eq!(b.download(&one).unwrap(), vec![2.5]);
}
