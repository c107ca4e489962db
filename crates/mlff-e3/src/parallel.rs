//! Running a whole pass on the rayon pool, and filling its large buffers in parallel.

use rayon::prelude::*;

use crate::scalar::Scalar;

/// Buffers of at least this many values are filled by the pool rather than by one thread.
const PARALLEL_FILL: usize = 1 << 16;

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
pub fn zeros<T: Scalar>(len: usize) -> Vec<T> {
    if len < PARALLEL_FILL || rayon::current_num_threads() == 1 {
        // One thread: the allocator's own zeroing (a memset, or none for fresh pages) is best.
        return vec![T::zero(); len];
    }
    filled(len, T::zero())
}

/// A vector of `len` copies of `value`, written by every worker of the pool when it is large.
#[allow(unsafe_code)] // filling spare capacity, then `set_len`; see SAFETY
pub fn filled<T: Copy + Send + Sync>(len: usize, value: T) -> Vec<T> {
    if len < PARALLEL_FILL {
        return vec![value; len];
    }
    let mut v = Vec::with_capacity(len);
    v.spare_capacity_mut()[..len]
        .par_chunks_mut(PARALLEL_FILL)
        .for_each(|block| {
            for x in block {
                x.write(value);
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
    fn fills_of_every_size_hold_their_value() {
        // Two workers, so the parallel path runs on any machine.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            let limit = super::PARALLEL_FILL;
            for len in [0, 1, limit - 1, limit, 3 * limit + 5] {
                let v: Vec<f32> = super::zeros(len);
                assert_eq!(v.len(), len);
                assert!(v.iter().all(|&x| x == 0.0 && x.is_sign_positive()));
                let w = super::filled(len, [1u8, 2]);
                assert_eq!(w.len(), len);
                assert!(w.iter().all(|&x| x == [1, 2]));
            }
        });
    }
}
