//! Running a whole pass on the rayon pool, and filling its large buffers in parallel.

use rayon::prelude::*;

use crate::scalar::Scalar;

/// Buffers of at least this many values are zeroed by the pool rather than by one thread.
const PARALLEL_ZEROS: usize = 1 << 16;

/// Runs `f` on a worker thread of the current rayon pool (directly when already on one).
///
/// Every parallel kernel started from a thread outside the pool hands its work to the pool and
/// sleeps until it is done: a futex wake-up and a context switch per kernel, hundreds per
/// NequIP pass (≈ 10 % of a small energy+forces pass, measured with one thread). Started from
/// inside the pool, the kernels run on the calling worker and only idle workers are woken.
pub fn on_worker<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        f()
    } else {
        rayon::scope(|_| f())
    }
}

/// A vector of `len` zeros, written by every worker of the pool when it is large.
///
/// The per-edge weights and their gradients are tens of megabytes per layer; zeroed by the
/// allocating thread, that memset was the largest serial part of a two-thread pass.
#[allow(unsafe_code)] // filling spare capacity, then `set_len`; see SAFETY
pub fn zeros<T: Scalar>(len: usize) -> Vec<T> {
    if len < PARALLEL_ZEROS || rayon::current_num_threads() == 1 {
        // One thread: the allocator's own zeroing (a memset, or none for fresh pages) is best.
        return vec![T::zero(); len];
    }
    let mut v = Vec::with_capacity(len);
    v.spare_capacity_mut()[..len]
        .par_chunks_mut(PARALLEL_ZEROS)
        .for_each(|block| {
            for x in block {
                x.write(T::zero());
            }
        });
    // SAFETY: the capacity is at least `len` and its first `len` values were written above.
    unsafe { v.set_len(len) };
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_on_a_worker_and_returns_the_result() {
        assert!(rayon::current_thread_index().is_none());
        let (on_pool, value) = super::on_worker(|| (rayon::current_thread_index().is_some(), 7));
        assert!(on_pool);
        assert_eq!(value, 7);
        assert_eq!(super::on_worker(|| super::on_worker(|| 3)), 3);
    }

    #[test]
    fn zeros_of_every_size_are_zeros() {
        for len in [
            0,
            1,
            super::PARALLEL_ZEROS - 1,
            super::PARALLEL_ZEROS,
            3 << 17,
        ] {
            let v: Vec<f32> = super::zeros(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 0.0 && x.is_sign_positive()));
        }
    }
}
