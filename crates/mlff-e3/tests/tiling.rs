//! The tiled kernels against naive reference loops written straight from the definitions, at
//! channel counts that need several (zero-padded) tiles for every scalar type: 40 and 37
//! channels span two 32-lane `f64` tiles and three 16-lane (forward) or five 8-lane (backward)
//! `Dual<f64>` tiles; 70 and 67 channels span two 64-lane `f32` tiles (40 fill part of one). Gradients are checked through linearity: each product is linear in each of its
//! inputs, so `⟨∂L/∂x, x⟩ = ⟨g, f(x)⟩` for `L = ⟨g, f⟩`.

use mlff_e3::{ConnectionMode, Dual, Linear, Scalar, TensorProduct, Weights};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
    a.iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
        / scale
}

/// `out[z] = Σ_paths Σ_entries c · W(u,v,w) · x1[u,i] · x2[v,j]`, one term at a time.
fn naive_product(tp: &TensorProduct, x1: &[f64], x2: &[f64], w: &[f64], shared: bool) -> Vec<f64> {
    let (d1, d2, dout, wn) = (
        tp.irreps_in1().dim(),
        tp.irreps_in2().dim(),
        tp.irreps_out().dim(),
        tp.weight_numel(),
    );
    let n = x1.len() / d1;
    let mut out = vec![0.0; n * dout];
    for z in 0..n {
        let wz = if shared { w } else { &w[z * wn..(z + 1) * wn] };
        for p in tp.paths() {
            let [m1, m2, m3] = p.mul;
            for u in 0..m1 {
                for v in 0..m2 {
                    for wch in 0..m3 {
                        let (idx, connected) = match p.instruction.mode {
                            ConnectionMode::Uvu => (u * m2 + v, wch == u),
                            ConnectionMode::Uvw => ((u * m2 + v) * m3 + wch, true),
                        };
                        if !connected {
                            continue;
                        }
                        let weight = p.weight_offset.map_or(1.0, |off| wz[off + idx]);
                        for e in &p.entries {
                            out[z * dout + p.offset[2] + wch * p.dim[2] + e.k] += e.c
                                * weight
                                * x1[z * d1 + p.offset[0] + u * p.dim[0] + e.i]
                                * x2[z * d2 + p.offset[1] + v * p.dim[1] + e.j];
                        }
                    }
                }
            }
        }
    }
    out
}

fn to<T: Scalar>(x: &[f64]) -> Vec<T> {
    x.iter().map(|&v| T::from_f64(v)).collect()
}

fn values<T: Scalar>(x: &[T]) -> Vec<f64> {
    x.iter().map(|v| v.value()).collect()
}

/// Forward against the naive loops and the three gradients through linearity, in `T`.
fn check_product<T: Scalar>(tp: &TensorProduct, shared: bool, tol: f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 5;
    let x1 = random(&mut rng, n * tp.irreps_in1().dim());
    let x2 = random(&mut rng, n * tp.irreps_in2().dim());
    let w = random(&mut rng, if shared { 1 } else { n } * tp.weight_numel());
    let g = random(&mut rng, n * tp.irreps_out().dim());
    let want = naive_product(tp, &x1, &x2, &w, shared);
    let (x1t, x2t, wt) = (to::<T>(&x1), to::<T>(&x2), to::<T>(&w));
    let weights = if shared {
        Weights::Shared(&wt)
    } else {
        Weights::PerSample(&wt)
    };
    let got = values(&tp.compute(&x1t, &x2t, weights).unwrap());
    let err = max_rel_diff(&got, &want);
    assert!(err < tol, "forward: max relative error {err:e}");
    let (mut g1, mut g2, mut gw) = (
        vec![T::zero(); x1.len()],
        vec![T::zero(); x2.len()],
        vec![T::zero(); w.len()],
    );
    tp.backward(&x1t, &x2t, weights, &to::<T>(&g), &mut g1, &mut g2, &mut gw)
        .unwrap();
    let loss = dot(&g, &want);
    for (what, grad, x) in [("x1", &g1, &x1), ("x2", &g2, &x2), ("w", &gw, &w)] {
        let lin = dot(&values(grad), x);
        assert!(
            (lin - loss).abs() < tol * loss.abs().max(1.0),
            "grad {what}: <grad, x> = {lin} but <g, out> = {loss}"
        );
    }
}

#[test]
fn multi_tile_convolution_matches_naive_loops() {
    let feat = "40x0e+40x1o+37x2e+40x1e".parse().unwrap();
    let sh = "1x0e+1x1o+1x2e".parse().unwrap();
    let tp = TensorProduct::nequip_convolution(&feat, &sh, &feat).unwrap();
    check_product::<f64>(&tp, false, 1e-12);
    check_product::<f32>(&tp, false, 1e-4);
    check_product::<Dual<f64>>(&tp, false, 1e-12);
    check_product::<f64>(&tp, true, 1e-12);
    let wide = "70x0e+70x1o+67x2e".parse().unwrap();
    let tp = TensorProduct::nequip_convolution(&wide, &sh, &wide).unwrap();
    check_product::<f32>(&tp, false, 1e-4);
}

#[test]
fn multi_tile_fully_connected_matches_naive_loops() {
    let tp = TensorProduct::fully_connected(
        "40x0e+37x1o".parse().unwrap(),
        "3x0e+2x1o".parse().unwrap(),
        "35x0e+36x1o+20x1e".parse().unwrap(),
    )
    .unwrap();
    check_product::<f64>(&tp, true, 1e-12);
    check_product::<f32>(&tp, true, 1e-4);
    check_product::<Dual<f64>>(&tp, true, 1e-12);
}

#[test]
fn dual_tangents_are_the_product_of_the_tangents() {
    let feat = "37x0e+37x1o+37x2e".parse().unwrap();
    let sh = "1x0e+1x1o+1x2e".parse().unwrap();
    let tp = TensorProduct::nequip_convolution(&feat, &sh, &feat).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 4;
    let x1 = random(&mut rng, n * tp.irreps_in1().dim());
    let dx1 = random(&mut rng, x1.len());
    let x2 = random(&mut rng, n * tp.irreps_in2().dim());
    let w = random(&mut rng, n * tp.weight_numel());
    let lifted: Vec<Dual<f64>> = x1
        .iter()
        .zip(&dx1)
        .map(|(&a, &b)| Dual::new(a, b))
        .collect();
    let out = tp
        .compute(&lifted, &to::<Dual<f64>>(&x2), Weights::PerSample(&to(&w)))
        .unwrap();
    let tangent: Vec<f64> = out.iter().map(|d| d.eps).collect();
    let want = naive_product(&tp, &dx1, &x2, &w, false);
    let err = max_rel_diff(&tangent, &want);
    assert!(err < 1e-12, "tangent: max relative error {err:e}");
}

#[test]
fn multi_tile_linear_matches_naive_loops() {
    let lin = Linear::new(
        "70x0e+37x1o+40x0e+33x2e".parse().unwrap(),
        "45x0e+38x1o+19x2e".parse().unwrap(),
    )
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = 37;
    let (din, dout) = (lin.irreps_in().dim(), lin.irreps_out().dim());
    let x = random(&mut rng, n * din);
    let w = random(&mut rng, lin.weight_numel());
    let g = random(&mut rng, n * dout);
    let mut want = vec![0.0; n * dout];
    for z in 0..n {
        for p in lin.paths() {
            for u in 0..p.mul_in {
                for wc in 0..p.mul_out {
                    let c = p.path_weight * w[p.weight_offset + u * p.mul_out + wc];
                    for m in 0..p.dim {
                        want[z * dout + p.offset_out + wc * p.dim + m] +=
                            c * x[z * din + p.offset_in + u * p.dim + m];
                    }
                }
            }
        }
    }
    let got = lin.compute(&x, &w).unwrap();
    let err = max_rel_diff(&got, &want);
    assert!(err < 1e-12, "forward: max relative error {err:e}");
    let got32 = values(&lin.compute(&to::<f32>(&x), &to::<f32>(&w)).unwrap());
    assert!(max_rel_diff(&got32, &want) < 1e-4);
    let (mut gx, mut gw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
    lin.backward(&x, &w, &g, &mut gx, &mut gw).unwrap();
    let loss = dot(&g, &want);
    for (what, grad, v) in [("x", &gx, &x), ("w", &gw, &w)] {
        let lin_form = dot(grad, v);
        assert!(
            (lin_form - loss).abs() < 1e-10 * loss.abs().max(1.0),
            "grad {what}: {lin_form} vs {loss}"
        );
    }
}
