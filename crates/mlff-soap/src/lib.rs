//! SOAP (smooth overlap of atomic positions) power spectrum for finite molecules with
//! DScribe 2.1.2's conventions, and structural similarity kernels built on it.

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

pub use calculator::{FrameView, Soap};
pub use error::SoapError;
pub use kernels::{
    AverageKernel, RematchKernel, SetSimilarity, SimilaritySummary, StructureKernel,
    TrainingSimilarity, cosine_kernel, kernel_matrix, set_similarity, similarity_to_training,
};
pub use layout::{FeatureLayout, SpeciesPairBlock};
pub use params::{Average, MAX_L_MAX, RadialBasisKind, SoapParams};
