//! Index tables of the gate kernels, for the same gate `mlff_e3::Gate::new` builds.

use mlff_e3::{Activation, Gate, Irreps, NormalizedActivation};

use crate::error::{CudaError, Result, check_len, to_i32};

/// `ACT_*` ids of kernels/gate.cu.
fn activation_id(a: Activation) -> i32 {
    match a {
        Activation::Silu => 0,
        Activation::Tanh => 1,
        Activation::Sigmoid => 2,
    }
}

/// `GATE_ROLE_*` of kernels/gate.cu.
const ROLE_SCALAR: i32 = 0;
const ROLE_GATED: i32 = 1;
const ROLE_GATE: i32 = 2;

/// e3nn's gate (activated scalars, irreps multiplied by activated gates) as kernel tables.
#[derive(Clone, Debug)]
pub struct GatePlan {
    reference: Gate,
    /// `(act, src, gate_src)` per output component.
    out_table: Vec<i32>,
    out_scale: Vec<f64>,
    /// `(role, act, m, b, len)` per input component.
    in_table: Vec<i32>,
    in_scale: Vec<f64>,
}

impl GatePlan {
    /// The tables of an existing gate.
    pub fn from_gate(gate: &Gate) -> Result<Self> {
        let (scalars, act_scalars, gates, act_gates, gated) = gate.arguments();
        Self::new(scalars, &act_scalars, gates, &act_gates, gated)
    }

    /// The gate `mlff_e3::Gate::new` builds from the same arguments (and validates).
    pub fn new(
        irreps_scalars: Irreps,
        act_scalars: &[NormalizedActivation],
        irreps_gates: Irreps,
        act_gates: &[NormalizedActivation],
        irreps_gated: Irreps,
    ) -> Result<Self> {
        let reference = Gate::new(
            irreps_scalars.clone(),
            act_scalars,
            irreps_gates.clone(),
            act_gates,
            irreps_gated.clone(),
        )?;
        let (din, dout) = (reference.irreps_in().dim(), reference.irreps_out().dim());
        to_i32("gate input dim", din)?;
        to_i32("gate output dim", dout)?;
        // Where each component of [scalars | gates | gated] sits in the sorted input: the
        // input layout e3nn's Gate (and mlff_e3::Gate) expects.
        let concat = irreps_scalars
            .simplify()
            .concat(&irreps_gates.simplify())
            .concat(&irreps_gated.simplify());
        let sorted = concat.sort();
        let sorted_offsets = sorted.irreps.offsets();
        let source: Vec<usize> = concat
            .iter()
            .enumerate()
            .flat_map(|(b, block)| {
                let start = sorted_offsets[sorted.p[b]];
                start..start + block.dim()
            })
            .collect();
        let expand =
            |irreps: &Irreps, acts: &[NormalizedActivation]| -> Vec<NormalizedActivation> {
                irreps
                    .iter()
                    .zip(acts)
                    .flat_map(|(b, a)| std::iter::repeat_n(*a, b.mul))
                    .collect()
            };
        let scalar_acts = expand(&irreps_scalars, act_scalars);
        let gate_acts = expand(&irreps_gates, act_gates);
        let ns = irreps_scalars.dim();
        let mut plan = Self {
            reference,
            out_table: Vec::with_capacity(3 * dout),
            out_scale: Vec::with_capacity(dout),
            in_table: vec![-1; 5 * din],
            in_scale: vec![0.0; din],
        };
        for (m, act) in scalar_acts.iter().enumerate() {
            plan.push_out(act, source[m], None);
            plan.set_in(source[m], ROLE_SCALAR, act, [m, 0, 0]);
        }
        let (mut in_pos, mut out_pos) = (ns + irreps_gates.dim(), ns);
        let copies = irreps_gated
            .iter()
            .flat_map(|b| std::iter::repeat_n(b.ir.dim(), b.mul));
        for (c, (d, act)) in copies.zip(&gate_acts).enumerate() {
            let gate_src = source[ns + c];
            let first = source[in_pos];
            for t in 0..d {
                // A gated copy's components stay contiguous in the sorted input.
                debug_assert_eq!(source[in_pos + t], first + t);
                plan.push_out(act, first + t, Some(gate_src));
                plan.set_in(first + t, ROLE_GATED, act, [out_pos + t, gate_src, 0]);
            }
            plan.set_in(gate_src, ROLE_GATE, act, [out_pos, first, d]);
            in_pos += d;
            out_pos += d;
        }
        if let Some(a) = plan.in_table.chunks_exact(5).position(|r| r[0] < 0) {
            return Err(CudaError::Unsupported(format!(
                "gate input component {a} feeds no output"
            )));
        }
        Ok(plan)
    }

    fn push_out(&mut self, act: &NormalizedActivation, src: usize, gate_src: Option<usize>) {
        let gate = gate_src.map_or(-1, |g| g as i32);
        self.out_table
            .extend([activation_id(act.activation), src as i32, gate]);
        self.out_scale.push(act.scale);
    }

    fn set_in(&mut self, a: usize, role: i32, act: &NormalizedActivation, [m, b, len]: [usize; 3]) {
        self.in_table[5 * a..5 * a + 5].copy_from_slice(&[
            role,
            activation_id(act.activation),
            m as i32,
            b as i32,
            len as i32,
        ]);
        self.in_scale[a] = act.scale;
    }

    /// The CPU gate this plan computes.
    pub fn reference(&self) -> &Gate {
        &self.reference
    }
    /// `(act, src, gate_src)` per output component.
    pub fn out_table(&self) -> &[i32] {
        &self.out_table
    }
    /// Activation scale per output component.
    pub fn out_scale(&self) -> &[f64] {
        &self.out_scale
    }
    /// `(role, act, m, b, len)` per input component.
    pub fn in_table(&self) -> &[i32] {
        &self.in_table
    }
    /// Activation scale per input component.
    pub fn in_scale(&self) -> &[f64] {
        &self.in_scale
    }
    /// `(n, dim_in, dim_out)` after checking `x` (`n × dim_in`) and the other buffers
    /// (name, length, width per sample).
    pub(crate) fn args(
        &self,
        x: usize,
        others: &[(&'static str, usize, usize)],
    ) -> Result<[i32; 3]> {
        let (din, dout) = (
            self.reference.irreps_in().dim(),
            self.reference.irreps_out().dim(),
        );
        if din == 0 {
            return Err(CudaError::Unsupported(
                "gate with empty input irreps".into(),
            ));
        }
        let n = x / din;
        check_len("gate x (batch×dim_in)", x, n * din)?;
        for &(what, len, width) in others {
            check_len(what, len, n * width)?;
        }
        Ok([to_i32("gate batch", n)?, din as i32, dout as i32])
    }
}
