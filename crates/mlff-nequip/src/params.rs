//! The flat parameter vector and its named segments (nequip's state_dict names).

use serde::{Deserialize, Serialize};

/// One named tensor in the flat parameter vector.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamSegment {
    /// nequip's state_dict name without the `model.func.` prefix.
    pub name: String,
    /// Tensor shape as nequip stores it.
    pub shape: Vec<usize>,
    /// First index in the flat vector.
    pub offset: usize,
    /// Whether training updates it (per-type scales/shifts and, by default, Bessel
    /// frequencies are fixed).
    pub trainable: bool,
}

impl ParamSegment {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    /// Whether the tensor is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Index range in the flat vector.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// Index of a segment in its layout.
pub type SegmentId = usize;

/// All parameter tensors of a model, laid out back to back.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamLayout {
    segments: Vec<ParamSegment>,
    len: usize,
}

impl ParamLayout {
    /// Appends a tensor; returns its id.
    pub fn push(&mut self, name: String, shape: Vec<usize>, trainable: bool) -> SegmentId {
        let seg = ParamSegment {
            name,
            shape,
            offset: self.len,
            trainable,
        };
        self.len += seg.len();
        self.segments.push(seg);
        self.segments.len() - 1
    }
    /// Total number of values.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// All segments in order.
    pub fn segments(&self) -> &[ParamSegment] {
        &self.segments
    }
    /// Segment by id.
    pub fn segment(&self, id: SegmentId) -> &ParamSegment {
        &self.segments[id]
    }
    /// Segment by name.
    pub fn find(&self, name: &str) -> Option<&ParamSegment> {
        self.segments.iter().find(|s| s.name == name)
    }
    /// The values of segment `id` in `params`.
    pub fn slice<'a, T>(&self, params: &'a [T], id: SegmentId) -> &'a [T] {
        &params[self.segments[id].range()]
    }
    /// Number of trainable values.
    pub fn num_trainable(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| s.trainable)
            .map(|s| s.len())
            .sum()
    }
    /// 1 for trainable values, 0 for fixed ones (multiplies gradients).
    pub fn trainable_mask(&self) -> Vec<bool> {
        let mut mask = vec![false; self.len];
        for s in self.segments.iter().filter(|s| s.trainable) {
            mask[s.range()].fill(true);
        }
        mask
    }
}
