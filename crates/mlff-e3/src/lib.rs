#![doc = include_str!("../README.md")]

pub mod activation;
pub mod error;
pub mod gate;
pub mod graph;
pub mod irreps;
mod lanes;
pub mod linear;
pub mod matmul;
pub mod parallel;
pub mod radial;
mod reduction;
pub mod scalar;
pub mod simd;
pub mod spherical_harmonics;
pub mod tensor_product;
mod torch_normal;
mod vector_exp;
pub mod wigner;

pub use activation::{Activation, NormalizedActivation};
pub use error::{E3Error, Result};
pub use gate::Gate;
pub use graph::{ScatterPlan, edge_vectors, edge_vectors_vjp, gather};
pub use irreps::{Irrep, Irreps, MulIrrep, Parity, SortedIrreps};
pub use lanes::{DualTile, LaneTile};
pub use linear::Linear;
pub use matmul::{MatView, MatViewMut, matmul};
pub use radial::{BesselEmbedding, PolynomialCutoff};
pub use scalar::{Dual, Scalar};
pub use spherical_harmonics::{ShNormalization, SphericalHarmonics};
pub use tensor_product::{
    ConnectionMode, Instruction, IrrepNormalization, MessageEdges, PathNormalization,
    TensorProduct, Weights,
};
pub use wigner::{
    Matrix3, angles_to_matrix, irreps_d, matrix_to_angles, wigner_3j, wigner_d_from_angles,
    wigner_d_from_matrix,
};
