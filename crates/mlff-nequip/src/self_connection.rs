//! NequIP's self-connection, `FullyConnectedTensorProduct(features, type embedding)`,
//! evaluated as one equivariant linear map per atom type.
//!
//! The node attributes are the type embedding: scalars (`F × 0e`) that take only one value
//! per type. A fully connected product with scalar `x2 = a` is linear in `x1` with weights
//! `W_eff[u, w] = s_p Σ_v W[u, v, w] a[v]`, where `s_p` converts the product's path
//! normalisation and coupling coefficient into the [`Linear`]'s. So each type's weights are
//! contracted once per call (`|W|·n_types` multiply-adds) and the per-atom work drops from
//! `m1·m2·m3·d` to `m1·m3·d` — a factor `F` (64 in the paper's configuration). Weight layout,
//! normalisation and kernels stay those of mlff-e3's product and linear map; only the
//! contraction over `v` is done here.

use crate::error::{NequipError, Result};
use mlff_e3::{ConnectionMode, Irreps, Linear, Scalar, TensorProduct};

/// How one product path maps onto one linear-map path.
#[derive(Clone, Debug)]
struct PathMap {
    tp_offset: usize,
    linear_offset: usize,
    mul_in: usize,
    mul_attr: usize,
    mul_out: usize,
    scale: f64,
}

/// The self-connection of one layer.
#[derive(Clone, Debug)]
pub struct SelfConnection {
    tp: TensorProduct,
    linear: Linear,
    maps: Vec<PathMap>,
}

impl SelfConnection {
    /// `irreps_in ⊗ attrs → irreps_out` with scalar `attrs`.
    pub fn new(irreps_in: &Irreps, attrs: &Irreps, irreps_out: &Irreps) -> Result<Self> {
        let tp =
            TensorProduct::fully_connected(irreps_in.clone(), attrs.clone(), irreps_out.clone())?;
        let linear = Linear::new(irreps_in.clone(), irreps_out.clone())?;
        let unsupported = |why: &str| NequipError::Config(format!("self-connection: {why}"));
        if attrs.len() != 1 || attrs[0].ir.l != 0 {
            return Err(unsupported(
                "node attributes must be one block of even scalars",
            ));
        }
        let mut maps = Vec::new();
        for p in tp.paths() {
            let ins = p.instruction;
            let lin = linear
                .paths()
                .iter()
                .find(|l| l.i_in == ins.i_in1 && l.i_out == ins.i_out)
                .ok_or_else(|| unsupported("a product path has no linear counterpart"))?;
            let c = p.entries.first().map_or(0.0, |e| e.c);
            let diagonal = p.entries.len() == p.dim[0]
                && p.entries
                    .iter()
                    .all(|e| e.i == e.k && e.j == 0 && (e.c - c).abs() <= 1e-14 * c.abs());
            if ins.mode != ConnectionMode::Uvw || !diagonal {
                return Err(unsupported("expected a uvw path with a diagonal coupling"));
            }
            maps.push(PathMap {
                tp_offset: p.weight_offset.unwrap_or(0),
                linear_offset: lin.weight_offset,
                mul_in: p.mul[0],
                mul_attr: p.mul[1],
                mul_out: p.mul[2],
                scale: c / lin.path_weight,
            });
        }
        if maps.len() != linear.paths().len() {
            return Err(unsupported("the linear map has paths the product lacks"));
        }
        Ok(Self { tp, linear, maps })
    }

    /// Number of weights (the product's).
    pub fn weight_numel(&self) -> usize {
        self.tp.weight_numel()
    }
    /// The product this evaluates.
    pub fn tensor_product(&self) -> &TensorProduct {
        &self.tp
    }
    /// FLOPs per atom.
    pub fn flops_per_atom(&self) -> usize {
        self.linear
            .paths()
            .iter()
            .map(|p| 2 * p.mul_in * p.mul_out * p.dim)
            .sum()
    }

    /// The per-type linear map the product reduces to.
    pub fn linear(&self) -> &Linear {
        &self.linear
    }

    /// Linear-map weights of each type: `types × linear.weight_numel()`.
    pub fn effective_weights<T: Scalar>(&self, w: &[T], attrs_by_type: &[T]) -> Vec<T> {
        let f = self.maps.first().map_or(1, |m| m.mul_attr);
        let ln = self.linear.weight_numel();
        let n_types = attrs_by_type.len() / f.max(1);
        let mut out = vec![T::zero(); n_types * ln];
        // Each weight row is read once for all types: the weights (megabytes in the paper's
        // configuration) stream from memory once per call, not once per type. Each type still
        // sums over `v` in order.
        for m in &self.maps {
            let s = T::from_f64(m.scale);
            for u in 0..m.mul_in {
                for v in 0..m.mul_attr {
                    let src = &w[m.tp_offset + (u * m.mul_attr + v) * m.mul_out..][..m.mul_out];
                    for t in 0..n_types {
                        let av = attrs_by_type[t * f + v];
                        if av.is_zero() {
                            // One-hot attributes: most terms vanish exactly.
                            continue;
                        }
                        let sa = s * av;
                        let dst = &mut out[t * ln + m.linear_offset + u * m.mul_out..][..m.mul_out];
                        for (d, &x) in dst.iter_mut().zip(src) {
                            *d += sa * x;
                        }
                    }
                }
            }
        }
        out
    }

    /// `out = SC(x, attrs)` for atoms of the given types (`out` overwritten).
    pub fn forward<T: Scalar>(
        &self,
        x: &[T],
        types: &[usize],
        attrs_by_type: &[T],
        w: &[T],
        out: &mut [T],
    ) -> Result<()> {
        let eff = self.effective_weights(w, attrs_by_type);
        let (din, dout) = (
            self.linear.irreps_in().dim(),
            self.linear.irreps_out().dim(),
        );
        let ln = self.linear.weight_numel();
        for (t, rows) in rows_by_type(types).iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let xs = gather_rows(x, din, rows);
            let mut ys = vec![T::zero(); rows.len() * dout];
            self.linear
                .forward(&xs, &eff[t * ln..(t + 1) * ln], &mut ys)?;
            scatter_rows(&ys, dout, rows, out);
        }
        Ok(())
    }

    /// Gradients: overwrites `grad_x`; adds into `grad_w` and `grad_attrs_by_type`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<T: Scalar>(
        &self,
        x: &[T],
        types: &[usize],
        attrs_by_type: &[T],
        w: &[T],
        grad_out: &[T],
        grad_x: &mut [T],
        grad_w: &mut [T],
        grad_attrs_by_type: &mut [T],
    ) -> Result<()> {
        let inputs = (x, types, attrs_by_type, w);
        self.vjp(inputs, grad_out, grad_x, Some((grad_w, grad_attrs_by_type)))
    }

    /// The gradient with respect to `x` only (overwrites `grad_x`), for passes that need no
    /// parameter gradient (energy and forces): no weight or attribute gradients are formed.
    pub fn backward_input<T: Scalar>(
        &self,
        x: &[T],
        types: &[usize],
        attrs_by_type: &[T],
        w: &[T],
        grad_out: &[T],
        grad_x: &mut [T],
    ) -> Result<()> {
        self.vjp((x, types, attrs_by_type, w), grad_out, grad_x, None)
    }

    fn vjp<T: Scalar>(
        &self,
        (x, types, attrs_by_type, w): (&[T], &[usize], &[T], &[T]),
        grad_out: &[T],
        grad_x: &mut [T],
        mut param_grads: Option<(&mut [T], &mut [T])>,
    ) -> Result<()> {
        let eff = self.effective_weights(w, attrs_by_type);
        let (din, dout) = (
            self.linear.irreps_in().dim(),
            self.linear.irreps_out().dim(),
        );
        let ln = self.linear.weight_numel();
        let f = self.maps.first().map_or(1, |m| m.mul_attr);
        grad_x.fill(T::zero());
        for (t, rows) in rows_by_type(types).iter().enumerate() {
            if rows.is_empty() {
                continue;
            }
            let xs = gather_rows(x, din, rows);
            let gs = gather_rows(grad_out, dout, rows);
            let mut gx = vec![T::zero(); rows.len() * din];
            let eff_t = &eff[t * ln..(t + 1) * ln];
            match param_grads.as_mut() {
                Some((grad_w, grad_attrs_by_type)) => {
                    let mut geff = vec![T::zero(); ln];
                    self.linear.backward(&xs, eff_t, &gs, &mut gx, &mut geff)?;
                    let a = &attrs_by_type[t * f..(t + 1) * f];
                    let ga = &mut grad_attrs_by_type[t * f..(t + 1) * f];
                    self.effective_weights_vjp(&geff, a, w, grad_w, ga);
                }
                None => self.linear.backward_input(&xs, eff_t, &gs, &mut gx)?,
            }
            scatter_rows(&gx, din, rows, grad_x);
        }
        Ok(())
    }

    /// Chains the gradient `geff` of one type's effective linear weights to the product's
    /// weights `w` and to that type's attributes `a` (both accumulated).
    pub fn effective_weights_vjp<T: Scalar>(
        &self,
        geff: &[T],
        a: &[T],
        w: &[T],
        grad_w: &mut [T],
        grad_a: &mut [T],
    ) {
        for m in &self.maps {
            let s = T::from_f64(m.scale);
            for u in 0..m.mul_in {
                let g = &geff[m.linear_offset + u * m.mul_out..][..m.mul_out];
                for v in 0..m.mul_attr {
                    let base = m.tp_offset + (u * m.mul_attr + v) * m.mul_out;
                    let sa = s * a[v];
                    let mut dot = T::zero();
                    for ((gw, &wv), &gv) in grad_w[base..base + m.mul_out]
                        .iter_mut()
                        .zip(&w[base..base + m.mul_out])
                        .zip(g)
                    {
                        *gw += sa * gv;
                        dot += wv * gv;
                    }
                    grad_a[v] += s * dot;
                }
            }
        }
    }
}

/// Atom indices of each type, in ascending order.
fn rows_by_type(types: &[usize]) -> Vec<Vec<usize>> {
    let n = types.iter().max().map_or(0, |m| m + 1);
    let mut rows = vec![Vec::new(); n];
    for (a, &t) in types.iter().enumerate() {
        rows[t].push(a);
    }
    rows
}

fn gather_rows<T: Scalar>(x: &[T], width: usize, rows: &[usize]) -> Vec<T> {
    rows.iter()
        .flat_map(|&r| x[r * width..(r + 1) * width].iter().copied())
        .collect()
}

fn scatter_rows<T: Scalar>(y: &[T], width: usize, rows: &[usize], out: &mut [T]) {
    for (src, &r) in y.chunks_exact(width.max(1)).zip(rows) {
        out[r * width..(r + 1) * width].copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlff_e3::Weights;
    use rand::{Rng, SeedableRng};

    #[test]
    fn per_type_linear_equals_the_fully_connected_product_and_its_gradients() {
        let irreps_in: Irreps = "3x0e+2x1o+2x2e+1x1e".parse().unwrap();
        let attrs: Irreps = "4x0e".parse().unwrap();
        let irreps_out: Irreps = "5x0e+2x1o+3x2e+2x1e".parse().unwrap();
        let sc = SelfConnection::new(&irreps_in, &attrs, &irreps_out).unwrap();
        let tp = sc.tensor_product().clone();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let mut rand =
            |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
        let (n, din, dout) = (7, irreps_in.dim(), irreps_out.dim());
        let types = [0, 2, 1, 0, 2, 2, 1];
        let table = rand(3 * 4);
        let x = rand(n * din);
        let w = rand(tp.weight_numel());
        let g = rand(n * dout);
        let a: Vec<f64> = types
            .iter()
            .flat_map(|&t| table[t * 4..t * 4 + 4].to_vec())
            .collect();
        let want = tp.compute(&x, &a, Weights::Shared(&w)).unwrap();
        let mut got = vec![0.0; n * dout];
        sc.forward(&x, &types, &table, &w, &mut got).unwrap();
        let close = |p: &[f64], q: &[f64]| p.iter().zip(q).all(|(a, b)| (a - b).abs() < 1e-12);
        assert!(close(&got, &want));
        let (mut gx, mut ga, mut gw) = (vec![0.0; n * din], vec![0.0; n * 4], vec![0.0; w.len()]);
        tp.backward(&x, &a, Weights::Shared(&w), &g, &mut gx, &mut ga, &mut gw)
            .unwrap();
        let (mut gx2, mut gw2, mut gt) = (vec![0.0; n * din], vec![0.0; w.len()], vec![0.0; 12]);
        sc.backward(&x, &types, &table, &w, &g, &mut gx2, &mut gw2, &mut gt)
            .unwrap();
        let mut ga_by_type = vec![0.0; 12];
        for (i, &t) in types.iter().enumerate() {
            for c in 0..4 {
                ga_by_type[t * 4 + c] += ga[i * 4 + c];
            }
        }
        assert!(close(&gx2, &gx) && close(&gw2, &gw) && close(&gt, &ga_by_type));
    }
}
