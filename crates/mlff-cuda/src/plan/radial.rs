//! Parameters of the Bessel × polynomial-cutoff embedding kernels.

use mlff_e3::BesselEmbedding;

use crate::error::{Result, check_len, to_i32};

/// NequIP's radial embedding, as `mlff_e3::BesselEmbedding::new(num_basis, r_max, p)`.
#[derive(Clone, Debug)]
pub struct RadialPlan {
    reference: BesselEmbedding,
    p: u32,
}

impl RadialPlan {
    /// `num_basis` Bessel functions on `(0, r_max]` with cutoff power `p` (validated by mlff-e3).
    pub fn new(num_basis: usize, r_max: f64, p: u32) -> Result<Self> {
        Ok(Self {
            reference: BesselEmbedding::new(num_basis, r_max, p)?,
            p,
        })
    }
    /// The CPU operation this plan computes.
    pub fn reference(&self) -> &BesselEmbedding {
        &self.reference
    }
    /// Number of basis functions.
    pub fn num_basis(&self) -> usize {
        self.reference.num_basis()
    }
    /// Cutoff radius.
    pub fn r_max(&self) -> f64 {
        self.reference.r_max()
    }
    /// Cutoff power.
    pub fn p(&self) -> u32 {
        self.p
    }
    /// `(num_edges, num_basis, p)` after checking the frequency and per-edge buffer lengths.
    pub(crate) fn args(
        &self,
        num_edges: usize,
        frequencies: usize,
        per_edge_basis: &[(&'static str, usize)],
    ) -> Result<[i32; 3]> {
        let nb = self.num_basis();
        check_len("bessel frequencies", frequencies, nb)?;
        for &(what, len) in per_edge_basis {
            check_len(what, len, num_edges * nb)?;
        }
        Ok([
            to_i32("number of edges", num_edges)?,
            to_i32("number of basis functions", nb)?,
            self.p as i32,
        ])
    }
}
