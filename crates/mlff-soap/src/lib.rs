//! SOAP (smooth overlap of atomic positions) power spectrum for finite molecules, with
//! DScribe 2.1.2's exact conventions, and structural similarity kernels built on it.
//!
//! ```
//! use mlff_soap::{Average, Soap, SoapParams};
//! use ndarray::{array, Array1};
//!
//! // Water; species list, r_cut (Å), n_max, l_max, sigma (Å) as in DScribe's `SOAP(...)`.
//! let soap = Soap::new(SoapParams::new(&[1, 8], 5.0, 8, 6, 0.5))?;
//! let numbers: Array1<u32> = array![8, 1, 1];
//! let positions = array![[0.0, 0.0, 0.119], [0.0, 0.763, -0.477], [0.0, -0.763, -0.477]];
//! let per_atom = soap.compute(numbers.view(), positions.view())?; // (3, n_features)
//! assert_eq!(per_atom.dim(), (3, soap.n_features()));
//! let averaged = soap.with_average(Average::Inner).compute(numbers.view(), positions.view())?;
//! assert_eq!(averaged.nrows(), 1);
//! # Ok::<(), mlff_soap::SoapError>(())
//! ```
//!
//! # Conventions (DScribe 2.1.2, `periodic=False`, no weighting, no compression)
//! * Density of species Z around a centre: `Σ_{j ∈ Z} exp(-|r - r_j|² / 2σ²)` (unnormalised
//!   Gaussians, the centre atom's own Gaussian included), over atoms within
//!   `r_cut + σ √(-2 ln 10⁻³)`.
//! * Coefficients `c^Z_{nlm} = ∫ g_nl(r) Y_lm(r̂) ρ_Z(r) d³r` with orthonormal real spherical
//!   harmonics; power spectrum `p = π √(8/(2l+1)) Σ_m c^{Z1}_{n1 lm} c^{Z2}_{n2 lm}`.
//! * Columns: species pairs Z1 ≤ Z2 ascending; inside a pair l, then n1, then n2 (n1 ≤ n2 for
//!   a same-species pair); see [`FeatureLayout`].
//! * `average`: [`Average::Inner`] averages the coefficients over the centres before the power
//!   spectrum, [`Average::Outer`] averages the power spectra (DScribe's definitions).
//!
//! # Algorithmic choices (why it is fast)
//! * **Radial integrals (GTO)** are closed-form: by the Gaussian product theorem and the
//!   harmonicity of `r^l Y_lm`, one primitive `r^l e^{-αr²}` against an atom's Gaussian gives
//!   `π^{3/2} η^l (α+η)^{-l-3/2} R_lm(d) e^{-αη|d|²/(α+η)}` (no Bessel functions needed; those
//!   enter only the polynomial basis, see `polynomial.rs`). Per neighbour that is
//!   `n_max (l_max+1)` exponentials and one set of solid harmonics.
//! * **Spherical harmonics** are evaluated as real *solid* harmonics by the Legendre
//!   recursion in `(z, r²)` combined with `(x + iy)^m` — no trigonometric functions, no
//!   square roots, no division by r; valid up to l = 20.
//! * **Reuse across centres**: each unordered pair (i, j) is evaluated once and added to both
//!   centres (parity `R_lm(-d) = (-1)^l R_lm(d)`), halving exponentials and harmonics.
//! * **Orthonormalisation where it is cheapest**: the `n_max × n_max` Löwdin map is applied
//!   to the `n_max` Gaussian factors once per pair (shared by both centres) when there are
//!   fewer than `S (l_max+1)` pairs per centre — always the case for molecules — and otherwise
//!   once per (centre, species, l) after summing on the primitive Gaussians.
//! * **Power spectrum** as dense dot products over contiguous m-rows (`l`-major layout),
//!   `≈ (l_max+1)² (S n_max)²/2` multiply-adds per centre for S species.
//! * **Löwdin weights** `S^{-1/2}` by Cholesky + one-sided Jacobi (high relative accuracy on
//!   the ill-conditioned GTO overlaps; no LAPACK).
//! * **Parallelism**: frames in a batch run in parallel (rayon); one frame is sequential, so
//!   per-atom timings are single-threaded and comparable with DScribe's `n_jobs=1`.
//! * **Neighbours**: all pairs are screened (O(N²) distance checks, negligible next to the
//!   per-pair work for molecules of up to a few hundred atoms).
//!
//! Modules: [`params`] (hyper-parameters), [`layout`] (columns), [`kernels`] (cosine, average,
//! REMatch, similarity to a training set, set summaries), [`stream`] (chunked computation),
//! [`quadrature`] (Gauss–Legendre, used by the polynomial basis and the checks).

mod calculator;
mod eigen;
pub mod error;
mod expansion;
mod gto;
pub mod kernels;
pub mod layout;
pub mod params;
mod polynomial;
mod power_spectrum;
pub mod quadrature;
mod solid_harmonics;
pub mod stream;

pub use calculator::{FrameView, Soap};
pub use error::SoapError;
pub use kernels::{
    AverageKernel, RematchKernel, SetSimilarity, SimilaritySummary, StructureKernel,
    TrainingSimilarity, cosine_kernel, kernel_matrix, kernel_matrix_symmetric, set_similarity,
    similarity_to_training,
};
pub use layout::{FeatureLayout, SpeciesPairBlock};
pub use params::{Average, MAX_L_MAX, MAX_N_MAX, RadialBasisKind, SoapParams};
pub use stream::{OwnedFrame, SoapChunk, SoapChunks};
