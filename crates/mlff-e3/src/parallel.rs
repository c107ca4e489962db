//! Running a whole pass on the rayon pool.

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
}
