//! Coupling tables of the `uvu` tensor product kernels, built from
//! `mlff_e3::TensorProduct::paths()` (the one place the 3j coefficients and path normalisation
//! are computed).
//!
//! `kernels/tensor_product_uvu.cu` explains the table layout: the forward product and the
//! gradients with respect to `x1` and `x2` are the same contraction with the roles of
//! (x1, x2, grad_out) permuted, so each gets a [`ContractTable`]; the weight gradient gets a
//! [`WeightGradTable`].

use mlff_e3::TensorProduct;
use mlff_e3::tensor_product::{ConnectionMode, CouplingEntry, Path};

use crate::error::{CudaError, Result, check_len, to_i32};

/// Ints per contraction term (`TERM_FIELDS` in the kernel).
pub const TERM_FIELDS: usize = 9;
/// Ints per weight-gradient term (`WTERM_FIELDS` in the kernel).
pub const WTERM_FIELDS: usize = 5;

/// One contraction role: result rows, their terms, and the coupling pairs they sum over.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContractTable {
    /// `terms[row_start[r]..row_start[r+1]]` feed result component `r` (`rows + 1` values).
    pub row_start: Vec<i32>,
    /// `TERM_FIELDS` ints per term.
    pub terms: Vec<i32>,
    /// `(a, b)` component pairs, two ints per entry.
    pub pairs: Vec<i32>,
    /// Coupling coefficient per entry (path normalisation included).
    pub coef: Vec<f64>,
}

impl ContractTable {
    /// Floating-point operations of one sample (see [`UvuPlan::forward_flops_per_sample`]).
    pub fn flops(&self) -> usize {
        self.terms
            .chunks_exact(TERM_FIELDS)
            .map(|t| t[6] as usize * (3 * (t[8] - t[7]) as usize + 2))
            .sum()
    }
}

/// The weight-gradient role: one term per weight.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WeightGradTable {
    /// `WTERM_FIELDS` ints per weight.
    pub wterms: Vec<i32>,
    /// `(i, j, k)` triples, three ints per entry.
    pub ijk: Vec<i32>,
    /// Coupling coefficient per entry.
    pub coef: Vec<f64>,
}

/// Which contraction a table computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `out[u,k]`: operands (x1, x2), pairs `(i, j)`, grouped by `k`.
    Forward,
    /// `∂x1[u,i]`: operands (grad_out, x2), pairs `(k, j)`, grouped by `i`.
    GradX1,
    /// `∂x2[v,j]`: operands (x1, grad_out), pairs `(i, k)`, grouped by `j`.
    GradX2,
}

/// A `uvu` tensor product with per-sample weights, ready for the kernels.
#[derive(Clone, Debug)]
pub struct UvuPlan {
    dims: [usize; 3],
    weight_numel: usize,
    forward: ContractTable,
    grad_x1: ContractTable,
    grad_x2: ContractTable,
    weight_grad: WeightGradTable,
}

impl UvuPlan {
    /// Tables for `tp`, whose paths must all be `uvu` (NequIP's convolution).
    pub fn new(tp: &TensorProduct) -> Result<Self> {
        if let Some(p) = tp
            .paths()
            .iter()
            .find(|p| p.instruction.mode != ConnectionMode::Uvu)
        {
            return Err(CudaError::Unsupported(format!(
                "tensor product path {:?} is {:?}; the kernels implement uvu only",
                p.instruction, p.instruction.mode
            )));
        }
        let dims = [
            tp.irreps_in1().dim(),
            tp.irreps_in2().dim(),
            tp.irreps_out().dim(),
        ];
        for (what, d) in [
            ("in1 dim", dims[0]),
            ("in2 dim", dims[1]),
            ("out dim", dims[2]),
        ] {
            to_i32(what, d)?;
        }
        to_i32("weights per sample", tp.weight_numel())?;
        let paths = tp.paths();
        Ok(Self {
            dims,
            weight_numel: tp.weight_numel(),
            forward: contract_table(paths, Role::Forward, dims[2])?,
            grad_x1: contract_table(paths, Role::GradX1, dims[0])?,
            grad_x2: contract_table(paths, Role::GradX2, dims[1])?,
            weight_grad: weight_grad_table(paths, tp.weight_numel())?,
        })
    }
    /// Dimensions of `x1`, `x2` and `out` per sample.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }
    /// Weights per sample.
    pub fn weight_numel(&self) -> usize {
        self.weight_numel
    }
    /// Floating-point operations of one forward sample as the kernel performs them: per term
    /// and channel, 3 per coupling entry (two products, one sum) plus 2 (weight, accumulate).
    pub fn forward_flops_per_sample(&self) -> usize {
        self.forward.flops()
    }
    /// Floating-point operations of one backward sample: the two gradient contractions (as
    /// the forward) and 4 per coupling entry and weight for the weight gradient.
    pub fn backward_flops_per_sample(&self) -> usize {
        let w = &self.weight_grad;
        let weight_grad: usize = w
            .wterms
            .chunks_exact(WTERM_FIELDS)
            .map(|t| 4 * (t[4] - t[3]) as usize)
            .sum();
        self.grad_x1.flops() + self.grad_x2.flops() + weight_grad
    }
    /// Table of the forward product.
    pub fn forward(&self) -> &ContractTable {
        &self.forward
    }
    /// Table of the gradient with respect to `x1`.
    pub fn grad_x1(&self) -> &ContractTable {
        &self.grad_x1
    }
    /// Table of the gradient with respect to `x2`.
    pub fn grad_x2(&self) -> &ContractTable {
        &self.grad_x2
    }
    /// Table of the gradient with respect to the weights.
    pub fn weight_grad(&self) -> &WeightGradTable {
        &self.weight_grad
    }
    /// Number of samples of a forward call, from the lengths of `x1`, `x2`, weights and `out`.
    pub(crate) fn forward_batch(&self, [x1, x2, w, out]: [usize; 4]) -> Result<usize> {
        self.batch(x1, x2, w, &[("tensor product out", out, self.dims[2])])
    }
    /// Number of samples of a backward call, from the lengths of `x1`, `x2`, weights,
    /// `grad_out`, `grad_x1`, `grad_x2` and `grad_weights`.
    pub(crate) fn backward_batch(&self, [x1, x2, w, g, g1, g2, gw]: [usize; 7]) -> Result<usize> {
        let [d1, d2, d3] = self.dims;
        self.batch(
            x1,
            x2,
            w,
            &[
                ("tensor product grad_out", g, d3),
                ("tensor product grad_x1", g1, d1),
                ("tensor product grad_x2", g2, d2),
                ("tensor product grad_weights", gw, self.weight_numel),
            ],
        )
    }
    /// Number of samples after checking `x1` (`n × d1`), `x2`, per-sample weights and the
    /// outputs (name, length, width per sample).
    fn batch(
        &self,
        x1: usize,
        x2: usize,
        weights: usize,
        outputs: &[(&'static str, usize, usize)],
    ) -> Result<usize> {
        let [d1, d2, _] = self.dims;
        if d1 == 0 {
            return Err(CudaError::Unsupported(
                "tensor product with empty irreps_in1".into(),
            ));
        }
        let n = x1 / d1;
        check_len("tensor product x1 (batch×dim1)", x1, n * d1)?;
        check_len("tensor product x2 (batch×dim2)", x2, n * d2)?;
        check_len(
            "tensor product per-sample weights",
            weights,
            n * self.weight_numel,
        )?;
        for &(what, len, width) in outputs {
            check_len(what, len, n * width)?;
        }
        to_i32("tensor product batch", n)?;
        Ok(n)
    }
}

/// Entries of `p` sorted by the role's grouping key, with the key of each.
fn grouped_entries(p: &Path, role: Role) -> Vec<(usize, CouplingEntry)> {
    let key = |e: &CouplingEntry| match role {
        Role::Forward => e.k,
        Role::GradX1 => e.i,
        Role::GradX2 => e.j,
    };
    let mut entries: Vec<(usize, CouplingEntry)> = p.entries.iter().map(|e| (key(e), *e)).collect();
    entries.sort_by_key(|&(k, _)| k); // stable: keeps mlff-e3's entry order within a group
    entries
}

fn contract_table(paths: &[Path], role: Role, rows: usize) -> Result<ContractTable> {
    // Terms per result row, then flattened into CSR.
    let mut per_row: Vec<Vec<[i32; TERM_FIELDS]>> = vec![Vec::new(); rows];
    let mut table = ContractTable::default();
    for p in paths {
        let [m1, m2, _] = p.mul;
        let [d1, d2, d3] = p.dim;
        let [o1, o2, o3] = p.offset;
        let woff = p.weight_offset.map(|w| w as i64);
        // Entry ranges of each key value, shared by all channels.
        let entries = grouped_entries(p, role);
        let mut groups: Vec<(usize, i32, i32)> = Vec::new();
        for (key, e) in entries {
            let idx = to_i32("coupling entries", table.coef.len())?;
            match groups.last_mut() {
                Some(g) if g.0 == key => g.2 = idx + 1,
                _ => groups.push((key, idx, idx + 1)),
            }
            let (a, b) = match role {
                Role::Forward => (e.i, e.j),
                Role::GradX1 => (e.k, e.j),
                Role::GradX2 => (e.i, e.k),
            };
            table.pairs.extend([a as i32, b as i32]);
            table.coef.push(e.c);
        }
        let weight = |base: i64| woff.map_or(-1, |w| (w + base) as i32);
        let i = |v: usize| v as i32;
        for (key, e0, e1) in groups {
            match role {
                Role::Forward | Role::GradX1 => {
                    for u in 0..m1 {
                        let (row, base_a) = if role == Role::Forward {
                            (o3 + u * d3 + key, o1 + u * d1)
                        } else {
                            (o1 + u * d1 + key, o3 + u * d3)
                        };
                        let w = weight((u * m2) as i64);
                        per_row[row].push([i(base_a), 0, i(o2), i(d2), w, 1, i(m2), e0, e1]);
                    }
                }
                Role::GradX2 => {
                    for v in 0..m2 {
                        let w = weight(v as i64);
                        per_row[o2 + v * d2 + key].push([
                            i(o1),
                            i(d1),
                            i(o3),
                            i(d3),
                            w,
                            i(m2),
                            i(m1),
                            e0,
                            e1,
                        ]);
                    }
                }
            }
        }
    }
    table.row_start.push(0);
    for terms in per_row {
        for t in terms {
            table.terms.extend(t);
        }
        let n = to_i32("contraction terms", table.terms.len() / TERM_FIELDS)?;
        table.row_start.push(n);
    }
    Ok(table)
}

fn weight_grad_table(paths: &[Path], weight_numel: usize) -> Result<WeightGradTable> {
    let mut table = WeightGradTable::default();
    for p in paths {
        let Some(woff) = p.weight_offset else {
            continue;
        };
        let [m1, m2, _] = p.mul;
        let [d1, d2, d3] = p.dim;
        let [o1, o2, o3] = p.offset;
        let e0 = to_i32("coupling entries", table.coef.len())?;
        for e in &p.entries {
            table.ijk.extend([e.i as i32, e.j as i32, e.k as i32]);
            table.coef.push(e.c);
        }
        let e1 = to_i32("coupling entries", table.coef.len())?;
        // Weighted paths are laid out contiguously in path order, u-major: q = woff + u·m2 + v.
        debug_assert_eq!(woff, table.wterms.len() / WTERM_FIELDS);
        for u in 0..m1 {
            for v in 0..m2 {
                let bases = [o1 + u * d1, o2 + v * d2, o3 + u * d3];
                table.wterms.extend(bases.map(|b| b as i32));
                table.wterms.extend([e0, e1]);
            }
        }
    }
    check_len(
        "weight-gradient terms",
        table.wterms.len() / WTERM_FIELDS,
        weight_numel,
    )?;
    Ok(table)
}
