//! Parameters of the spherical-harmonics kernels.

use mlff_e3::{ShNormalization, SphericalHarmonics};

use crate::error::{CudaError, Result, check_len, to_i32};

/// Largest degree the kernels implement (NequIP's usual `l_max` ≤ 3).
pub const SH_LMAX: u32 = 3;

/// Spherical harmonics `Y_0 … Y_lmax` with `component` normalisation, as
/// `mlff_e3::SphericalHarmonics::new(lmax, normalize, ShNormalization::Component)`.
#[derive(Clone, Debug)]
pub struct ShPlan {
    reference: SphericalHarmonics,
    lmax: u32,
    normalize: bool,
}

impl ShPlan {
    /// Harmonics up to `lmax ≤ 3`; `normalize` scales inputs to unit length first.
    pub fn new(lmax: u32, normalize: bool) -> Result<Self> {
        if lmax > SH_LMAX {
            return Err(CudaError::Unsupported(format!(
                "spherical harmonics lmax = {lmax}; the kernels implement lmax <= {SH_LMAX}"
            )));
        }
        Ok(Self {
            reference: SphericalHarmonics::new(lmax, normalize, ShNormalization::Component),
            lmax,
            normalize,
        })
    }
    /// The CPU operation this plan computes.
    pub fn reference(&self) -> &SphericalHarmonics {
        &self.reference
    }
    /// Components per vector, `(lmax+1)²`.
    pub fn dim(&self) -> usize {
        self.reference.dim()
    }
    /// Kernel arguments `(n, lmax, normalize)` after checking `vectors` (`n×3`) and `out`
    /// (`n×dim`, or `n×3` for the VJP's `grad_vectors`).
    pub(crate) fn args(
        &self,
        num_vectors3: usize,
        out_len: usize,
        out_width: usize,
    ) -> Result<[i32; 3]> {
        if !num_vectors3.is_multiple_of(3) {
            return Err(CudaError::ShapeMismatch {
                what: "spherical harmonics vectors (n×3)",
                expected: num_vectors3 / 3 * 3 + 3,
                got: num_vectors3,
            });
        }
        let n = num_vectors3 / 3;
        check_len("spherical harmonics output", out_len, n * out_width)?;
        Ok([
            to_i32("number of vectors", n)?,
            self.lmax as i32,
            i32::from(self.normalize),
        ])
    }
}
