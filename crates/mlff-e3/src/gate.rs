//! Gate nonlinearity (e3nn 0.6 `nn.Gate`): activated scalars, and higher irreps multiplied by
//! activated gate scalars.
//!
//! As in e3nn, the input is the *sorted* concatenation `sort(scalars + gates + gated)` (so
//! e.g. `8x0e+16x0e+8x2e+8x1o` arrives as `24x0e+8x1o+8x2e`), from which the three pieces are
//! cut; the output is `[act(scalars) | gated · act(gates)]`, one gate per gated irrep copy.

use rayon::prelude::*;

use crate::activation::NormalizedActivation;
use crate::error::{E3Error, Result, batch_rows, check_len};
use crate::irreps::{Irrep, Irreps, MulIrrep, Parity};
use crate::scalar::Scalar;

/// A gated nonlinearity.
#[derive(Clone, Debug)]
pub struct Gate {
    irreps_scalars: Irreps,
    irreps_gates: Irreps,
    irreps_gated: Irreps,
    irreps_in: Irreps,
    irreps_out: Irreps,
    /// Activation of every scalar component (expanded from per-block activations).
    scalar_acts: Vec<NormalizedActivation>,
    /// Activation of every gate component.
    gate_acts: Vec<NormalizedActivation>,
    /// `source[c]`: position in the (sorted) input of component `c` of `[scalars|gates|gated]`.
    source: Vec<usize>,
}

/// Samples per rayon task.
const CHUNK: usize = 64;

fn expand_scalar_acts(
    what: &'static str,
    irreps: &Irreps,
    acts: &[NormalizedActivation],
) -> Result<(Vec<NormalizedActivation>, Irreps)> {
    if acts.len() != irreps.len() {
        return Err(E3Error::InvalidParameter {
            what,
            reason: format!(
                "{} activations for {} irreps blocks",
                acts.len(),
                irreps.len()
            ),
        });
    }
    let mut out = Vec::new();
    let mut irreps_out = Vec::new();
    for (b, act) in irreps.iter().zip(acts) {
        if b.ir.l != 0 {
            return Err(E3Error::InvalidParameter {
                what,
                reason: format!("{} is not a scalar irrep", b.ir),
            });
        }
        let p = match (b.ir.p, act.activation.is_odd()) {
            (Parity::Even, _) => Parity::Even,
            (Parity::Odd, true) => Parity::Odd,
            (Parity::Odd, false) => {
                return Err(E3Error::InvalidParameter {
                    what,
                    reason: format!(
                        "{:?} is neither even nor odd, so it cannot act on 0o",
                        act.activation
                    ),
                });
            }
        };
        irreps_out.push(MulIrrep::new(b.mul, Irrep::new(0, p)));
        out.extend(std::iter::repeat_n(*act, b.mul));
    }
    Ok((out, Irreps::new(irreps_out)))
}

impl Gate {
    /// A gate with one activation per block of `irreps_scalars` and of `irreps_gates`;
    /// `irreps_gates` must hold exactly one scalar per irrep copy of `irreps_gated`.
    pub fn new(
        irreps_scalars: Irreps,
        act_scalars: &[NormalizedActivation],
        irreps_gates: Irreps,
        act_gates: &[NormalizedActivation],
        irreps_gated: Irreps,
    ) -> Result<Self> {
        let (scalar_acts, scalars_out) =
            expand_scalar_acts("gate scalars", &irreps_scalars, act_scalars)?;
        let (gate_acts, gates_out) = expand_scalar_acts("gate gates", &irreps_gates, act_gates)?;
        if irreps_gates.num_irreps() != irreps_gated.num_irreps() {
            return Err(E3Error::InvalidParameter {
                what: "gate irreps",
                reason: format!(
                    "{} gates for {} gated irreps",
                    irreps_gates.num_irreps(),
                    irreps_gated.num_irreps()
                ),
            });
        }
        // Output parity of each gated copy is its own times that of its activated gate.
        let gate_parities: Vec<Parity> = gates_out
            .iter()
            .flat_map(|b| std::iter::repeat_n(b.ir.p, b.mul))
            .collect();
        let mut gated_out = Vec::new();
        let mut c = 0;
        for b in &irreps_gated {
            for _ in 0..b.mul {
                gated_out.push(MulIrrep::new(
                    1,
                    Irrep::new(b.ir.l, b.ir.p.product(gate_parities[c])),
                ));
                c += 1;
            }
        }
        let concat = irreps_scalars
            .simplify()
            .concat(&irreps_gates.simplify())
            .concat(&irreps_gated.simplify());
        let sorted = concat.sort();
        let sorted_offsets = sorted.irreps.offsets();
        let source = concat
            .iter()
            .enumerate()
            .flat_map(|(b, block)| {
                let start = sorted_offsets[sorted.p[b]];
                start..start + block.dim()
            })
            .collect();
        let irreps_in = sorted.irreps.simplify();
        let irreps_out = scalars_out.concat(&Irreps::new(gated_out).simplify());
        Ok(Self {
            irreps_scalars,
            irreps_gates,
            irreps_gated,
            irreps_in,
            irreps_out,
            scalar_acts,
            gate_acts,
            source,
        })
    }

    /// The constructor's arguments back, one activation per block:
    /// `(irreps_scalars, act_scalars, irreps_gates, act_gates, irreps_gated)`.
    pub fn arguments(
        &self,
    ) -> (
        Irreps,
        Vec<NormalizedActivation>,
        Irreps,
        Vec<NormalizedActivation>,
        Irreps,
    ) {
        let per_block = |irreps: &Irreps, acts: &[NormalizedActivation]| {
            let mut start = 0;
            irreps
                .iter()
                .map(|b| {
                    let a = acts[start];
                    start += b.mul;
                    a
                })
                .collect()
        };
        (
            self.irreps_scalars.clone(),
            per_block(&self.irreps_scalars, &self.scalar_acts),
            self.irreps_gates.clone(),
            per_block(&self.irreps_gates, &self.gate_acts),
            self.irreps_gated.clone(),
        )
    }

    /// Input irreps: `scalars + gates + gated`, sorted and simplified.
    pub fn irreps_in(&self) -> &Irreps {
        &self.irreps_in
    }
    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.irreps_out
    }

    /// Iterates over the gated copies: (offset in input, offset in output, irrep dimension).
    fn gated_copies(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let in0 = self.irreps_scalars.dim() + self.irreps_gates.dim();
        let out0 = self.irreps_scalars.dim();
        self.irreps_gated
            .iter()
            .flat_map(|b| std::iter::repeat_n(b.ir.dim(), b.mul))
            .scan(0, move |acc, d| {
                let o = *acc;
                *acc += d;
                Some((in0 + o, out0 + o, d))
            })
    }

    fn check<T: Scalar>(&self, x: &[T]) -> Result<usize> {
        batch_rows("gate x (batch×dim_in)", x, self.irreps_in.dim())
    }

    /// Applies the gate to a batch (`out`: `batch × dim_out`, overwritten).
    pub fn forward<T: Scalar>(&self, x: &[T], out: &mut [T]) -> Result<()> {
        let n = self.check(x)?;
        let (din, dout) = (self.irreps_in.dim(), self.irreps_out.dim());
        check_len("gate out", out.len(), n * dout)?;
        let ns = self.irreps_scalars.dim();
        out.par_chunks_mut(CHUNK * dout)
            .zip(x.par_chunks(CHUNK * din))
            .for_each(|(out, x)| {
                for (o, x) in out.chunks_exact_mut(dout).zip(x.chunks_exact(din)) {
                    for ((om, &src), act) in o.iter_mut().zip(&self.source).zip(&self.scalar_acts) {
                        *om = act.eval(x[src]);
                    }
                    for (c, ((xi, oi, d), act)) in
                        self.gated_copies().zip(&self.gate_acts).enumerate()
                    {
                        let g = act.eval(x[self.source[ns + c]]);
                        for m in 0..d {
                            o[oi + m] = x[self.source[xi + m]] * g;
                        }
                    }
                }
            });
        Ok(())
    }

    /// Allocating convenience wrapper of [`Self::forward`].
    pub fn compute<T: Scalar>(&self, x: &[T]) -> Result<Vec<T>> {
        let n = x.len() / self.irreps_in.dim().max(1);
        let mut out = vec![T::zero(); n * self.irreps_out.dim()];
        self.forward(x, &mut out)?;
        Ok(out)
    }

    /// VJP: overwrites `grad_x` (`batch × dim_in`) given `grad_out` (`batch × dim_out`).
    pub fn backward<T: Scalar>(&self, x: &[T], grad_out: &[T], grad_x: &mut [T]) -> Result<()> {
        let n = self.check(x)?;
        let (din, dout) = (self.irreps_in.dim(), self.irreps_out.dim());
        check_len("gate grad_out", grad_out.len(), n * dout)?;
        check_len("gate grad_x", grad_x.len(), n * din)?;
        let ns = self.irreps_scalars.dim();
        grad_x
            .par_chunks_mut(CHUNK * din)
            .zip(x.par_chunks(CHUNK * din))
            .zip(grad_out.par_chunks(CHUNK * dout.max(1)))
            .for_each(|((gx, x), g)| {
                for ((gx, x), g) in gx
                    .chunks_exact_mut(din)
                    .zip(x.chunks_exact(din))
                    .zip(g.chunks_exact(dout.max(1)))
                {
                    for ((&src, &gm), act) in
                        self.source.iter().zip(g.iter()).zip(&self.scalar_acts)
                    {
                        gx[src] = gm * act.derivative(x[src]);
                    }
                    for (c, ((xi, oi, d), act)) in
                        self.gated_copies().zip(&self.gate_acts).enumerate()
                    {
                        let gate_src = self.source[ns + c];
                        let gate = act.eval(x[gate_src]);
                        let mut dot = T::zero();
                        for m in 0..d {
                            let src = self.source[xi + m];
                            gx[src] = g[oi + m] * gate;
                            dot += g[oi + m] * x[src];
                        }
                        gx[gate_src] = dot * act.derivative(x[gate_src]);
                    }
                }
            });
        Ok(())
    }
}
