//! Cache hints, for memory the processor cannot guess a pass will read next.
//!
//! - [`prefetch`]: a buyer's suppliers are anywhere in the world, so its reads of the
//!   producer board and its adds to the order tallies miss the cache, one after another.
//!   Asking for all of a buyer's places first, then working, lets the misses overlap.
//! - [`prefetch_all`]: each buyer's lines, suppliers and shipments are heap allocations of
//!   their own, so a pass over buyers asks for them [`AHEAD`] buyers early.
//! - [`prefetch_tail`]: where a buyer's next shipments will be written, as far ahead.
//!
//! None of them changes a result; data only arrives sooner.

/// Asks the processor to bring `slice[i]` into cache. Has no effect on what any code reads,
/// and none at all on other architectures. `i` is not checked against the length: a
/// prefetch never faults, so an index past the end only asks for memory no one reads, and
/// the passes that ask, once per supplier slot, then pay no comparison for it. Callers
/// pass indices of the slice.
#[inline(always)]
pub fn prefetch<T>(slice: &[T], i: usize) {
    debug_assert!(i < slice.len(), "prefetch past the end: {i} of {}", slice.len());
    hint(slice.as_ptr().wrapping_add(i).cast());
}

/// Bytes per cache line on the processors tradesim runs on.
const LINE: usize = 64;

/// Asks for all of `slice` (at most its first `MAX_LINES` cache lines): for an agent's
/// heap data a few agents ahead of the one being worked on, which the processor cannot
/// guess since each agent's data is its own allocation.
#[inline(always)]
pub fn prefetch_all<T>(slice: &[T]) {
    const MAX_LINES: usize = 16;
    let bytes = std::mem::size_of_val(slice).min(MAX_LINES * LINE);
    let base = slice.as_ptr().cast::<u8>();
    let mut at = 0;
    while at < bytes {
        hint(base.wrapping_add(at));
        at += LINE;
    }
}

/// Asks for the cache line that holds the end of `items` and the next one: where a
/// vector's next pushes go while it has room (two to four of a buyer's 32-byte shipments,
/// about what its fills dispatch in a week). A push writes to a line that, a few agents
/// ahead, is nowhere in cache, and a write must first read its line in. Asking for one
/// line, or three or four, was slower than two (matching's fills at the large preset). A
/// full vector's next push goes elsewhere, and the hint is wasted but harmless.
#[inline(always)]
pub fn prefetch_tail<T>(items: &[T]) {
    let end = items.as_ptr().wrapping_add(items.len()).cast::<u8>();
    hint(end);
    hint(end.wrapping_add(LINE));
}

/// The prefetch instruction itself, for any address a caller computes (nothing depends on
/// it: a prefetch of any address is harmless and never faults).
#[inline(always)]
fn hint(at: *const u8) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE is part of every x86-64 processor, and a prefetch reads nothing into
        // the program and never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(at.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = at;
}

/// How many agents ahead a pass asks for the heap data of ([`prefetch_all`]): far enough
/// for the memory to arrive before the pass gets there, near enough to stay in cache.
pub const AHEAD: usize = 4;
