//! The compute thread pool behind `par_iter`: process-wide, sized once.
//!
//! Outputs do not depend on its size (see `rng.rs` and `market.rs` for why), only speed does.

use bevy_tasks::{ComputeTaskPool, TaskPoolBuilder};

/// Creates the pool with `threads` workers (default: all cores) if it does not exist yet,
/// and returns the number of threads it actually has.
pub fn ensure_pool(threads: Option<usize>) -> usize {
    let pool = ComputeTaskPool::get_or_init(|| {
        let n = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
        TaskPoolBuilder::new().num_threads(n).thread_name("tradesim".into()).build()
    });
    pool.thread_num()
}
