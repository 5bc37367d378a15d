//! Cache hints for the passes that read or add to boards at places they cannot predict.
//!
//! A buyer's suppliers are anywhere in the world, so its reads of the producer board and
//! its adds to the order tallies miss the cache, one after another. Asking for all of a
//! buyer's places first, then working, lets the misses overlap instead of queueing: the
//! result is the same, only sooner.

/// Asks the processor to bring `slice[i]` into cache. Has no effect on what any code reads
/// (an index past the end is ignored) and none at all on other architectures.
#[inline(always)]
pub fn prefetch<T>(slice: &[T], i: usize) {
    if i < slice.len() {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            let at = slice.as_ptr().wrapping_add(i).cast::<i8>();
            // SAFETY: SSE is part of every x86-64 processor, and a prefetch reads nothing
            // into the program and never faults, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(at) };
        }
    }
}
