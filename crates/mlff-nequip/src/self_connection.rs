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
use rayon::prelude::*;

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
        let increasing =
            |key: fn(&PathMap) -> usize| maps.windows(2).all(|p| key(&p[0]) < key(&p[1]));
        if !increasing(|m| m.tp_offset) || !increasing(|m| m.linear_offset) {
            return Err(unsupported("paths out of weight-layout order"));
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

    /// Linear-map weights of each type, contracted once per call and shared by the forward and
    /// reverse passes. One task per block of weight rows `u`, for every type at once: the
    /// weights (megabytes in the paper's configuration) stream from memory once, not once per
    /// type. Each type still sums over `v` in order.
    pub fn type_weights<T: Scalar>(&self, w: &[T], attrs_by_type: &[T]) -> TypeWeights<T> {
        let f = self.attr_width();
        let ln = self.linear.weight_numel();
        let n_types = attrs_by_type.len() / f.max(1);
        let mut values = vec![T::zero(); n_types * ln];
        let blocks = self.row_blocks();
        let regions: Vec<(usize, usize)> = blocks
            .iter()
            .map(|&(m, u0, rows)| (m.linear_offset + u0 * m.mul_out, rows * m.mul_out))
            .collect();
        // tasks[k][t]: block k of type t's weights.
        let mut tasks: Vec<Vec<&mut [T]>> = blocks.iter().map(|_| Vec::new()).collect();
        for type_values in values.chunks_mut(ln.max(1)) {
            for (task, region) in tasks.iter_mut().zip(split_regions(type_values, &regions)) {
                task.push(region);
            }
        }
        tasks
            .into_par_iter()
            .zip(&blocks)
            .for_each(|(mut per_type, &(m, u0, _))| {
                let s = T::from_f64(m.scale);
                for (t, dst) in per_type.iter_mut().enumerate() {
                    for (r, dst) in dst.chunks_exact_mut(m.mul_out.max(1)).enumerate() {
                        for v in 0..m.mul_attr {
                            let av = attrs_by_type[t * f + v];
                            if av.is_zero() {
                                // One-hot attributes: most terms vanish exactly.
                                continue;
                            }
                            let sa = s * av;
                            let row = m.tp_offset + ((u0 + r) * m.mul_attr + v) * m.mul_out;
                            for (d, &x) in dst.iter_mut().zip(&w[row..row + m.mul_out]) {
                                *d += sa * x;
                            }
                        }
                    }
                }
            });
        TypeWeights {
            values,
            per_type: ln,
        }
    }

    /// `out = SC(x, attrs)` for atoms of the given types (`out` overwritten), with the layer's
    /// [`Self::type_weights`].
    pub fn forward<T: Scalar>(
        &self,
        x: &[T],
        types: &[usize],
        weights: &TypeWeights<T>,
        out: &mut [T],
    ) -> Result<()> {
        let (din, dout) = (
            self.linear.irreps_in().dim(),
            self.linear.irreps_out().dim(),
        );
        let rows = rows_by_type(types);
        // The types run side by side: each is a batch of a few dozen atoms, too small to keep
        // every thread busy on its own.
        let per_type = rows
            .par_iter()
            .enumerate()
            .map(|(t, rows)| {
                let xs = gather_rows(x, din, rows);
                let mut ys = vec![T::zero(); rows.len() * dout];
                if !rows.is_empty() {
                    self.linear.forward(&xs, weights.of_type(t)?, &mut ys)?;
                }
                Ok(ys)
            })
            .collect::<Result<Vec<_>>>()?;
        for (ys, rows) in per_type.iter().zip(&rows) {
            scatter_rows(ys, dout, rows, out);
        }
        Ok(())
    }

    /// Gradients: overwrites `grad_x`; adds into `grad_w` and `grad_attrs_by_type`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<T: Scalar>(
        &self,
        x: &[T],
        types: &[usize],
        (attrs_by_type, w): (&[T], &[T]),
        weights: &TypeWeights<T>,
        grad_out: &[T],
        grad_x: &mut [T],
        grad_w: &mut [T],
        grad_attrs_by_type: &mut [T],
    ) -> Result<()> {
        let geff = self.vjp(x, types, weights, grad_out, grad_x, true)?;
        self.type_weights_vjp(&geff, attrs_by_type, w, grad_w, grad_attrs_by_type);
        Ok(())
    }

    /// The gradient with respect to `x` only (overwrites `grad_x`), for passes that need no
    /// parameter gradient (energy and forces): no weight or attribute gradients are formed.
    pub fn backward_input<T: Scalar>(
        &self,
        x: &[T],
        types: &[usize],
        weights: &TypeWeights<T>,
        grad_out: &[T],
        grad_x: &mut [T],
    ) -> Result<()> {
        self.vjp(x, types, weights, grad_out, grad_x, false)
            .map(drop)
    }

    /// Overwrites `grad_x`; returns the gradient of the type weights (`types × ln`, empty
    /// unless `with_weights`).
    fn vjp<T: Scalar>(
        &self,
        x: &[T],
        types: &[usize],
        weights: &TypeWeights<T>,
        grad_out: &[T],
        grad_x: &mut [T],
        with_weights: bool,
    ) -> Result<Vec<T>> {
        let (din, dout) = (
            self.linear.irreps_in().dim(),
            self.linear.irreps_out().dim(),
        );
        let ln = self.linear.weight_numel();
        let rows = rows_by_type(types);
        let per_type = rows
            .par_iter()
            .enumerate()
            .map(|(t, rows)| {
                let mut gx = vec![T::zero(); rows.len() * din];
                let mut geff = vec![T::zero(); if with_weights { ln } else { 0 }];
                if rows.is_empty() {
                    return Ok((gx, geff));
                }
                let xs = gather_rows(x, din, rows);
                let gs = gather_rows(grad_out, dout, rows);
                let eff = weights.of_type(t)?;
                if with_weights {
                    self.linear.backward(&xs, eff, &gs, &mut gx, &mut geff)?;
                } else {
                    self.linear.backward_input(&xs, eff, &gs, &mut gx)?;
                }
                Ok((gx, geff))
            })
            .collect::<Result<Vec<_>>>()?;
        grad_x.fill(T::zero());
        // Types above the batch's largest have no rows: their gradient blocks stay zero.
        let len = if with_weights {
            weights.values.len()
        } else {
            0
        };
        let mut geff = Vec::with_capacity(len);
        for ((gx, g), rows) in per_type.into_iter().zip(&rows) {
            scatter_rows(&gx, din, rows, grad_x);
            geff.extend(g);
        }
        geff.resize(len, T::zero());
        Ok(geff)
    }

    /// Chains the gradient `geff` of the type weights (`types × ln`) to the product's weights
    /// `w` and to the attributes of each type (both accumulated). One task per block of weight
    /// rows; the attribute partials are summed in block order, so the result does not depend
    /// on the number of threads.
    pub fn type_weights_vjp<T: Scalar>(
        &self,
        geff: &[T],
        attrs_by_type: &[T],
        w: &[T],
        grad_w: &mut [T],
        grad_attrs_by_type: &mut [T],
    ) {
        let f = self.attr_width();
        let ln = self.linear.weight_numel();
        let n_types = geff.len() / ln.max(1);
        let blocks = self.row_blocks();
        let regions: Vec<(usize, usize)> = blocks
            .iter()
            .map(|&(m, u0, rows)| {
                let row = m.mul_attr * m.mul_out;
                (m.tp_offset + u0 * row, rows * row)
            })
            .collect();
        let partials: Vec<Vec<T>> = split_regions(grad_w, &regions)
            .into_par_iter()
            .zip(&blocks)
            .map(|(gw_block, &(m, u0, _))| {
                let s = T::from_f64(m.scale);
                let mut ga = vec![T::zero(); n_types * f];
                for (r, gw_u) in gw_block
                    .chunks_exact_mut((m.mul_attr * m.mul_out).max(1))
                    .enumerate()
                {
                    let u = u0 + r;
                    for (v, gw) in gw_u.chunks_exact_mut(m.mul_out.max(1)).enumerate() {
                        let row = m.tp_offset + (u * m.mul_attr + v) * m.mul_out;
                        let wv = &w[row..row + m.mul_out];
                        for t in 0..n_types {
                            let g = &geff[t * ln + m.linear_offset + u * m.mul_out..][..m.mul_out];
                            let sa = s * attrs_by_type[t * f + v];
                            let mut dot = T::zero();
                            for ((gw, &wv), &gv) in gw.iter_mut().zip(wv).zip(g) {
                                *gw += sa * gv;
                                dot += wv * gv;
                            }
                            ga[t * f + v] += s * dot;
                        }
                    }
                }
                ga
            })
            .collect();
        for ga in partials {
            for (acc, v) in grad_attrs_by_type.iter_mut().zip(ga) {
                *acc += v;
            }
        }
    }

    /// Blocks of at most [`ROWS_PER_TASK`] weight rows `u` of each path: `(path, first row,
    /// rows)`, in weight-layout order.
    fn row_blocks(&self) -> Vec<(&PathMap, usize, usize)> {
        self.maps
            .iter()
            .flat_map(|m| {
                (0..m.mul_in)
                    .step_by(ROWS_PER_TASK)
                    .map(move |u0| (m, u0, ROWS_PER_TASK.min(m.mul_in - u0)))
            })
            .collect()
    }

    /// Width `F` of the node attributes.
    fn attr_width(&self) -> usize {
        self.maps.first().map_or(1, |m| m.mul_attr)
    }
}

/// Weight rows (`u`) per task of [`SelfConnection::type_weights`] and its VJP.
const ROWS_PER_TASK: usize = 8;

/// The per-type linear weights a self-connection reduces to ([`SelfConnection::type_weights`]).
#[derive(Clone, Debug)]
pub struct TypeWeights<T> {
    values: Vec<T>,
    per_type: usize,
}

impl<T> TypeWeights<T> {
    /// All types' weights, `types × linear.weight_numel()`.
    pub fn as_slice(&self) -> &[T] {
        &self.values
    }

    /// The linear-map weights of type `t`.
    pub fn of_type(&self, t: usize) -> Result<&[T]> {
        self.values
            .get(t * self.per_type..(t + 1) * self.per_type)
            .ok_or_else(|| {
                NequipError::Config(format!(
                    "self-connection: atom type {t} has no attributes ({} types)",
                    self.values.len() / self.per_type.max(1)
                ))
            })
    }
}

/// The sub-slices `data[start..start + len]` of regions given in increasing, non-overlapping
/// order, so that each can go to its own task.
fn split_regions<'a, T>(mut data: &'a mut [T], regions: &[(usize, usize)]) -> Vec<&'a mut [T]> {
    let mut consumed = 0;
    regions
        .iter()
        .map(|&(start, len)| {
            let rest = std::mem::take(&mut data);
            let (_, rest) = rest.split_at_mut(start - consumed);
            let (region, rest) = rest.split_at_mut(len);
            data = rest;
            consumed = start + len;
            region
        })
        .collect()
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
        let tw = sc.type_weights(&w, &table);
        sc.forward(&x, &types, &tw, &mut got).unwrap();
        let close = |p: &[f64], q: &[f64]| p.iter().zip(q).all(|(a, b)| (a - b).abs() < 1e-12);
        assert!(close(&got, &want));
        let (mut gx, mut ga, mut gw) = (vec![0.0; n * din], vec![0.0; n * 4], vec![0.0; w.len()]);
        tp.backward(&x, &a, Weights::Shared(&w), &g, &mut gx, &mut ga, &mut gw)
            .unwrap();
        let (mut gx2, mut gw2, mut gt) = (vec![0.0; n * din], vec![0.0; w.len()], vec![0.0; 12]);
        sc.backward(
            &x,
            &types,
            (&table, &w),
            &tw,
            &g,
            &mut gx2,
            &mut gw2,
            &mut gt,
        )
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
