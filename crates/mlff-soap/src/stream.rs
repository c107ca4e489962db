//! Memory-bounded SOAP over large datasets: descriptors are produced a chunk of frames at a
//! time, so a 100,000-frame dataset never holds more than one chunk of descriptors.
//!
//! Two sources are supported:
//! * frames already in memory as `positions (frames, atoms, 3)` — positions are small, the
//!   descriptors are what grows ([`Soap::chunks`]);
//! * any iterator of owned frames (e.g. read lazily from disk), for variable compositions or
//!   inputs that do not fit either ([`Soap::for_each_chunk`]).
//!
//! Each chunk is computed in parallel over its frames (rayon); chunks follow each other, so
//! peak memory is `chunk_frames × rows × n_features × 8` bytes.

use crate::calculator::{FrameView, Soap};
use crate::error::SoapError;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView3, Axis, s};

/// A chunk of consecutive frames' descriptors.
#[derive(Debug, Clone)]
pub struct SoapChunk {
    /// Index of the chunk's first frame in the whole dataset.
    pub first_frame: usize,
    /// `(frames in chunk, rows, features)`; rows = centres, or 1 when averaged.
    pub descriptors: Array3<f64>,
}

/// Iterator over [`SoapChunk`]s of a same-composition batch; see [`Soap::chunks`].
#[derive(Debug)]
pub struct SoapChunks<'a> {
    soap: &'a Soap,
    numbers: ArrayView1<'a, u32>,
    positions: ArrayView3<'a, f64>,
    centres: Option<&'a [usize]>,
    chunk_frames: usize,
    next_frame: usize,
}

impl Iterator for SoapChunks<'_> {
    type Item = Result<SoapChunk, SoapError>;

    fn next(&mut self) -> Option<Self::Item> {
        let n_frames = self.positions.len_of(Axis(0));
        if self.next_frame >= n_frames {
            return None;
        }
        let start = self.next_frame;
        let end = (start + self.chunk_frames).min(n_frames);
        self.next_frame = end;
        let part = self.positions.slice(s![start..end, .., ..]);
        Some(
            self.soap
                .compute_batch(self.numbers, part, self.centres)
                .map(|descriptors| SoapChunk {
                    first_frame: start,
                    descriptors,
                }),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.positions.len_of(Axis(0)) - self.next_frame;
        let chunks = left.div_ceil(self.chunk_frames);
        (chunks, Some(chunks))
    }
}

/// An owned frame for streamed input: atomic numbers `(atoms,)` and positions `(atoms, 3)` Å.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedFrame {
    /// Atomic numbers.
    pub numbers: Array1<u32>,
    /// Cartesian positions in Å.
    pub positions: Array2<f64>,
}

impl Soap {
    /// Chunked computation over `positions (frames, atoms, 3)` sharing `numbers`: an iterator
    /// yielding `chunk_frames` frames' descriptors at a time.
    pub fn chunks<'a>(
        &'a self,
        numbers: ArrayView1<'a, u32>,
        positions: ArrayView3<'a, f64>,
        centres: Option<&'a [usize]>,
        chunk_frames: usize,
    ) -> Result<SoapChunks<'a>, SoapError> {
        if chunk_frames == 0 {
            return Err(SoapError::EmptyInput("chunk_frames must be at least 1"));
        }
        if positions.len_of(Axis(0)) == 0 {
            return Err(SoapError::EmptyInput("the dataset has no frames"));
        }
        Ok(SoapChunks {
            soap: self,
            numbers,
            positions,
            centres,
            chunk_frames,
            next_frame: 0,
        })
    }

    /// Streams any frame source through SOAP in chunks of `chunk_frames`, calling `sink` with
    /// the first frame index of the chunk and one descriptor matrix per frame (as from
    /// [`Soap::compute`]). The sink's error type only needs `From<SoapError>`, so it can write
    /// files and stop the stream with its own errors. Returns the number of frames processed.
    pub fn for_each_chunk<I, F, E>(
        &self,
        frames: I,
        chunk_frames: usize,
        mut sink: F,
    ) -> Result<usize, E>
    where
        I: IntoIterator<Item = OwnedFrame>,
        F: FnMut(usize, Vec<Array2<f64>>) -> Result<(), E>,
        E: From<SoapError>,
    {
        if chunk_frames == 0 {
            return Err(SoapError::EmptyInput("chunk_frames must be at least 1").into());
        }
        let mut iter = frames.into_iter();
        let mut done = 0;
        loop {
            let chunk: Vec<OwnedFrame> = iter.by_ref().take(chunk_frames).collect();
            if chunk.is_empty() {
                break;
            }
            let views: Vec<FrameView<'_>> = chunk
                .iter()
                .map(|f| FrameView {
                    numbers: f.numbers.view(),
                    positions: f.positions.view(),
                    centres: None,
                })
                .collect();
            let descriptors = self.compute_frames(&views)?;
            sink(done, descriptors)?;
            done += chunk.len();
        }
        if done == 0 {
            return Err(SoapError::EmptyInput("the frame source produced no frames").into());
        }
        Ok(done)
    }
}
