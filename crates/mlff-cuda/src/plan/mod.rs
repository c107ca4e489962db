//! Host-side descriptions of each operation: validated parameters and the index tables the
//! kernels read. They are device-agnostic: the CUDA backend uploads them, the emulator passes
//! them as host pointers, so both run the kernels on exactly the same tables.

pub mod edges;
pub mod gate;
pub mod linear;
pub mod radial;
pub mod scatter;
pub mod spherical_harmonics;
pub mod tensor_product;

pub use edges::EdgeGraph;
pub use gate::GatePlan;
pub use linear::{LinearPlan, LinearTable};
pub use radial::RadialPlan;
pub use scatter::{GatherIndex, SortedScatter};
pub use spherical_harmonics::ShPlan;
pub use tensor_product::{ContractTable, UvuPlan, WeightGradTable};

use crate::error::Result;

/// Threads per block of every launch.
pub const BLOCK_SIZE: u32 = 128;

/// Rows summed serially by one thread of `sum_rows` before its single atomic add.
pub const ROWS_PER_THREAD: usize = 256;

/// Grid size of a 1-D launch with one thread per work item; `None` when there is no work
/// (CUDA rejects empty grids).
pub fn grid_size(work_items: usize) -> Result<Option<u32>> {
    if work_items == 0 {
        return Ok(None);
    }
    let blocks = work_items.div_ceil(BLOCK_SIZE as usize);
    u32::try_from(blocks)
        .map(Some)
        .map_err(|_| crate::error::CudaError::TooLarge {
            what: "launch grid (blocks)",
            value: blocks,
        })
}

/// Number of edges of an `edges × 3` vector buffer and its `edges` lengths buffer.
pub(crate) fn edge_count(vectors: usize, lengths: usize) -> Result<i32> {
    crate::error::check_len("edge vectors (edges × 3)", vectors, 3 * lengths)?;
    crate::error::to_i32("number of edges", lengths)
}
