//! Descriptor matrices (e.g. averaged SOAP vectors, one row per frame) seen through a small
//! trait, so this crate does not depend on any descriptor implementation.

use crate::error::{Result, SplitError};

/// One descriptor vector per frame, all of the same length.
pub trait Descriptors: Sync {
    /// Number of frames (rows).
    fn n_frames(&self) -> usize;
    /// Length of each descriptor vector.
    fn dim(&self) -> usize;
    /// Descriptor of `frame` (length [`Descriptors::dim`]).
    fn row(&self, frame: usize) -> &[f64];
}

/// A row-major descriptor matrix borrowed from a flat slice.
#[derive(Debug, Clone, Copy)]
pub struct DescriptorRows<'a> {
    data: &'a [f64],
    dim: usize,
}

impl<'a> DescriptorRows<'a> {
    /// Views `data` as rows of length `dim`; the length must be a non-zero multiple of `dim`.
    pub fn new(data: &'a [f64], dim: usize) -> Result<Self> {
        if dim == 0 || data.is_empty() || !data.len().is_multiple_of(dim) {
            return Err(SplitError::InvalidParameter {
                what: "descriptor matrix".into(),
                reason: format!("{} values cannot be rows of length {dim}", data.len()),
            });
        }
        Ok(Self { data, dim })
    }
}

impl Descriptors for DescriptorRows<'_> {
    fn n_frames(&self) -> usize {
        self.data.len() / self.dim
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn row(&self, frame: usize) -> &[f64] {
        &self.data[frame * self.dim..(frame + 1) * self.dim]
    }
}

/// A 64-bit FNV-1a hash of the shape and exact bits of the descriptors, as 16 hex digits.
///
/// Stored in descriptor-based splits so that verifying with different descriptors fails loudly.
pub fn fingerprint(descriptors: &dyn Descriptors) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    let mut feed = |bytes: [u8; 8]| {
        for b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(PRIME);
        }
    };
    feed((descriptors.n_frames() as u64).to_le_bytes());
    feed((descriptors.dim() as u64).to_le_bytes());
    for frame in 0..descriptors.n_frames() {
        descriptors
            .row(frame)
            .iter()
            .for_each(|v| feed(v.to_bits().to_le_bytes()));
    }
    format!("{hash:016x}")
}

/// Checks frame count, finiteness and fingerprint of the descriptors a split is made from.
pub(crate) fn check_descriptors(
    descriptors: &dyn Descriptors,
    n_frames: usize,
    expected_fingerprint: &str,
) -> Result<()> {
    if descriptors.n_frames() != n_frames {
        return Err(SplitError::DescriptorShape {
            expected: n_frames,
            got: descriptors.n_frames(),
        });
    }
    if n_frames == 0 || descriptors.dim() == 0 {
        return Err(SplitError::EmptyDataset {
            what: "descriptor matrix".into(),
        });
    }
    for frame in 0..n_frames {
        let row = descriptors.row(frame);
        if let Some(column) = row.iter().position(|v| !v.is_finite()) {
            return Err(SplitError::NonFiniteDescriptor {
                frame,
                column,
                value: row[column],
            });
        }
    }
    let got = fingerprint(descriptors);
    if got != expected_fingerprint {
        return Err(SplitError::DescriptorMismatch {
            expected: expected_fingerprint.into(),
            got,
        });
    }
    Ok(())
}

/// Squared Euclidean distance between two descriptor rows.
pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}
