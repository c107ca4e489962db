//! Term tables of the `linear_rows` kernel (kernels/linear.cu) for an `mlff_e3::Linear`: the
//! map itself and its transpose (the VJP with respect to the input), optionally with one
//! weight vector per row group (atom type).

use mlff_e3::Linear;

use crate::backend::LinearDirection;
use crate::error::{CudaError, Result, check_len, to_i32};
use crate::plan::GatherIndex;

/// Ints per term (`src_start, src_stride, w_start, w_stride, count`).
pub const LINEAR_TERM_FIELDS: usize = 5;

/// One direction of a linear map: per output column, the terms summed into it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinearTable {
    /// Number of source columns.
    pub width_src: usize,
    /// `terms[col_start[c]..col_start[c+1]]` feed output column `c`.
    pub col_start: Vec<i32>,
    /// [`LINEAR_TERM_FIELDS`] ints per term.
    pub terms: Vec<i32>,
    /// Coefficient per term (path weight × the plan's extra scale).
    pub coef: Vec<f64>,
}

impl LinearTable {
    /// Number of output columns.
    pub fn width_out(&self) -> usize {
        self.col_start.len() - 1
    }
}

/// An equivariant linear map `x ↦ scale · Linear(x)` as kernel tables.
#[derive(Clone, Debug)]
pub struct LinearPlan {
    reference: Linear,
    scale: f64,
    num_sets: usize,
    forward: LinearTable,
    transpose: LinearTable,
    /// Per weight: `(x_start, g_start, dim)` of its gradient's row sum.
    weight_terms: Vec<i32>,
    /// Per weight: its path's coefficient.
    weight_coef: Vec<f64>,
}

impl LinearPlan {
    /// `scale · linear(x)` with one weight vector for every row, or — with `num_sets > 1` —
    /// one per row group (`weight_set[row]` selects it; weights are `num_sets × weight_numel`).
    pub fn new(linear: &Linear, scale: f64, num_sets: usize) -> Result<Self> {
        if !scale.is_finite() || num_sets == 0 {
            return Err(CudaError::Unsupported(format!(
                "linear plan with scale {scale} and {num_sets} weight sets"
            )));
        }
        let (din, dout) = (linear.irreps_in().dim(), linear.irreps_out().dim());
        to_i32("linear input dim", din)?;
        to_i32("linear output dim", dout)?;
        to_i32("linear weights", num_sets * linear.weight_numel())?;
        let mut forward = vec![Vec::new(); dout];
        let mut transpose = vec![Vec::new(); din];
        let mut weight_terms = vec![0; 3 * linear.weight_numel()];
        let mut weight_coef = vec![0.0; linear.weight_numel()];
        for p in linear.paths() {
            let coef = p.path_weight * scale;
            for u in 0..p.mul_in {
                for w in 0..p.mul_out {
                    let k = p.weight_offset + u * p.mul_out + w;
                    let (xs, gs) = (p.offset_in + u * p.dim, p.offset_out + w * p.dim);
                    weight_terms[3 * k..3 * k + 3].copy_from_slice(&[
                        xs as i32,
                        gs as i32,
                        p.dim as i32,
                    ]);
                    weight_coef[k] = coef;
                }
            }
            for m in 0..p.dim {
                for w in 0..p.mul_out {
                    let term = [
                        p.offset_in + m,
                        p.dim,
                        p.weight_offset + w,
                        p.mul_out,
                        p.mul_in,
                    ];
                    forward[p.offset_out + w * p.dim + m].push((term, coef));
                }
                for u in 0..p.mul_in {
                    let term = [
                        p.offset_out + m,
                        p.dim,
                        p.weight_offset + u * p.mul_out,
                        1,
                        p.mul_out,
                    ];
                    transpose[p.offset_in + u * p.dim + m].push((term, coef));
                }
            }
        }
        Ok(Self {
            reference: linear.clone(),
            scale,
            num_sets,
            forward: table(din, forward),
            transpose: table(dout, transpose),
            weight_terms,
            weight_coef,
        })
    }
    /// The CPU map this plan computes (before `scale`).
    pub fn reference(&self) -> &Linear {
        &self.reference
    }
    /// The extra factor on every path.
    pub fn scale(&self) -> f64 {
        self.scale
    }
    /// Number of weight vectors.
    pub fn num_sets(&self) -> usize {
        self.num_sets
    }
    /// `x ↦ y` tables.
    pub fn forward(&self) -> &LinearTable {
        &self.forward
    }
    /// `grad_y ↦ grad_x` tables.
    pub fn transpose(&self) -> &LinearTable {
        &self.transpose
    }
    /// The tables of one direction.
    pub fn table(&self, direction: LinearDirection) -> &LinearTable {
        match direction {
            LinearDirection::Forward => &self.forward,
            LinearDirection::Transpose => &self.transpose,
        }
    }
    /// Per weight `(x_start, g_start, dim)` of the weight-gradient kernel.
    pub fn weight_terms(&self) -> &[i32] {
        &self.weight_terms
    }
    /// Per weight, its path's coefficient (path weight × scale).
    pub fn weight_coef(&self) -> &[f64] {
        &self.weight_coef
    }
    /// Weights per set.
    pub fn weight_numel(&self) -> usize {
        self.reference.weight_numel()
    }
    /// FLOPs of one row of the map (either direction).
    pub fn flops_per_row(&self) -> usize {
        self.reference.forward_flops_per_sample()
    }

    /// `rows` after checking a weight-gradient launch: `x` (`rows × dim_in`), `g`
    /// (`rows × dim_out`), the sets and `grad_w` (`num_sets × weight_numel`).
    pub(crate) fn weight_grad_args(
        &self,
        x: usize,
        g: usize,
        sets: Option<&GatherIndex>,
        grad_w: usize,
    ) -> Result<i32> {
        let rows = self.args(
            &self.forward,
            x,
            self.num_sets * self.weight_numel(),
            sets,
            g,
        )?[0];
        check_len(
            "linear weight gradient (sets × weights)",
            grad_w,
            self.num_sets * self.weight_numel(),
        )?;
        Ok(rows)
    }

    /// `(rows, set_stride)` after checking a launch of `table` on `src` into `out` with
    /// `weights` and the per-row weight sets (`None`: one shared vector).
    pub(crate) fn args(
        &self,
        table: &LinearTable,
        src: usize,
        weights: usize,
        sets: Option<&GatherIndex>,
        out: usize,
    ) -> Result<[i32; 2]> {
        let rows = src.checked_div(table.width_src).unwrap_or(0);
        check_len("linear input (rows × width)", src, rows * table.width_src)?;
        check_len("linear output", out, rows * table.width_out())?;
        check_len(
            "linear weights (sets × weights)",
            weights,
            self.num_sets * self.weight_numel(),
        )?;
        let stride = match sets {
            None if self.num_sets == 1 => 0,
            None => {
                return Err(CudaError::Unsupported(format!(
                    "a linear map with {} weight sets needs a set index per row",
                    self.num_sets
                )));
            }
            Some(s) => {
                check_len("linear weight-set indices", s.indices().len(), rows)?;
                check_len("linear weight sets", s.num_rows(), self.num_sets)?;
                self.weight_numel()
            }
        };
        Ok([to_i32("linear rows", rows)?, stride as i32])
    }
}

fn table(width_src: usize, columns: Vec<Vec<([usize; 5], f64)>>) -> LinearTable {
    let mut t = LinearTable {
        width_src,
        col_start: vec![0],
        ..Default::default()
    };
    for col in columns {
        for (term, coef) in col {
            t.terms.extend(term.iter().map(|&v| v as i32));
            t.coef.push(coef);
        }
        t.col_start.push((t.coef.len()) as i32);
    }
    t
}
