//! NequIP's radial MLP: edge embedding → per-edge tensor-product weights.
//!
//! `ScalarMLPFunction` of nequip 0.19: bias-free linear layers `x · (α W)` with
//! `α = gain/√fan_in` (gain 1 on the first layer, √2 after a SiLU), plain (unnormalised)
//! SiLU between layers, weights stored `fan_in × fan_out`.

use crate::dense::{matmul, matmul_grad_input, matmul_grad_weight};
use mlff_e3::parallel::zeros;
use mlff_e3::{Activation, Scalar};

/// Layer widths and scale factors of one MLP.
#[derive(Clone, Debug, PartialEq)]
pub struct RadialMlp {
    dims: Vec<usize>,
    alphas: Vec<f64>,
}

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug, Default)]
pub struct MlpTape<T> {
    /// Input of every layer (`rows × dims[i]`); index 0 is the MLP input.
    inputs: Vec<Vec<T>>,
    /// Activation derivatives at the hidden layers' pre-activations (kept from the forward
    /// pass so the backward pass needs no second exponential).
    slopes: Vec<Vec<T>>,
}

impl RadialMlp {
    /// `input → [width] × depth → output`.
    pub fn new(input: usize, depth: usize, width: usize, output: usize) -> Self {
        let mut dims = vec![input];
        dims.extend(std::iter::repeat_n(width, depth));
        dims.push(output);
        let alphas = (0..dims.len() - 1)
            .map(|i| {
                let gain = if i == 0 { 1.0 } else { 2f64.sqrt() };
                gain / (dims[i] as f64).sqrt()
            })
            .collect();
        Self { dims, alphas }
    }
    /// Widths `[input, hidden…, output]`.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }
    /// Scale `gain/√fan_in` of each layer's weights.
    pub fn alphas(&self) -> &[f64] {
        &self.alphas
    }
    /// Number of weights of each layer.
    pub fn layer_sizes(&self) -> Vec<usize> {
        self.dims.windows(2).map(|w| w[0] * w[1]).collect()
    }
    /// FLOPs per row of the forward pass.
    pub fn forward_flops_per_row(&self) -> usize {
        self.layer_sizes().iter().map(|s| 2 * s).sum()
    }

    /// `rows × output` values from `rows × input`; `weights[i]` is layer i's `fan_in × fan_out`.
    pub fn forward<T: Scalar>(
        &self,
        x: &[T],
        weights: &[&[T]],
        rows: usize,
    ) -> (Vec<T>, MlpTape<T>) {
        let mut tape = MlpTape {
            inputs: vec![x.to_vec()],
            slopes: Vec::new(),
        };
        let last = self.dims.len() - 2;
        for (i, w) in weights.iter().enumerate() {
            let (k, m) = (self.dims[i], self.dims[i + 1]);
            let mut out = zeros(rows * m);
            if i == last {
                matmul(&tape.inputs[i], w, self.alphas[i], (k, m), &mut out, None);
                return (out, tape);
            }
            let mut slope = zeros(rows * m);
            let silu = Some((Activation::Silu, slope.as_mut_slice()));
            matmul(&tape.inputs[i], w, self.alphas[i], (k, m), &mut out, silu);
            tape.slopes.push(slope);
            tape.inputs.push(out);
        }
        unreachable!("an MLP has at least one layer")
    }

    /// Gradient with respect to the input (returned) and, when `grad_weights` is given, to each
    /// layer's weights (overwritten).
    pub fn backward<T: Scalar>(
        &self,
        tape: &MlpTape<T>,
        weights: &[&[T]],
        grad_out: &[T],
        mut grad_weights: Option<&mut [&mut [T]]>,
    ) -> Vec<T> {
        let rows = tape.inputs[0].len() / self.dims[0].max(1);
        // Borrowed for the last layer: the output gradient (edges × weights, the largest
        // array of the pass) is not copied.
        let mut g = std::borrow::Cow::Borrowed(grad_out);
        for i in (0..weights.len()).rev() {
            let (k, m) = (self.dims[i], self.dims[i + 1]);
            let alpha = self.alphas[i];
            if let Some(gw) = grad_weights.as_deref_mut() {
                matmul_grad_weight(&tape.inputs[i], &g, alpha, k, m, gw[i]);
            }
            let mut gin = zeros(rows * k);
            matmul_grad_input(&g, weights[i], alpha, k, m, &mut gin);
            if i > 0 {
                for (gv, &d) in gin.iter_mut().zip(&tape.slopes[i - 1]) {
                    *gv *= d;
                }
            }
            g = std::borrow::Cow::Owned(gin);
        }
        g.into_owned()
    }
}
