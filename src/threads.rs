//! The compute thread pool behind `par_iter`: process-wide, sized once. Passes over fewer
//! than [`MIN_PARALLEL_AGENTS`] agents, or passes over households over fewer than
//! [`MIN_PARALLEL_HOUSEHOLDS`], stay on the calling thread ([`for_each_agent`]).
//!
//! Outputs do not depend on its size (see `rng.rs` and `market.rs` for why), only speed does.

use bevy_tasks::{ComputeTaskPool, TaskPool, TaskPoolBuilder};

/// Creates the pool with `threads` workers (default: all cores) if it does not exist yet,
/// and returns the number of threads it actually has.
pub fn ensure_pool(threads: Option<usize>) -> usize {
    let pool = ComputeTaskPool::get_or_init(|| {
        let n = threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)).max(1);
        TaskPoolBuilder::new().num_threads(n).thread_name("tradesim".into()).build()
    });
    pool.thread_num()
}

/// Runs `f` on every item, in parallel on the compute pool, and returns the results in
/// the items' order (so they can be combined in a fixed order, whatever the threads).
///
/// The pool's threads are not the only ones that work: the thread that opens a scope runs
/// its tasks too. One task per item would put one more thread to work than the pool has,
/// which on a machine with as many cores as pool threads makes the operating system share
/// cores among them, and a pass waits for whichever thread it set aside. So there is one
/// task per pool thread, each taking the next item when it finishes one; with one pool
/// thread, everything runs on the calling thread.
pub fn par_map<I: Send, R: Send + 'static>(items: impl IntoIterator<Item = I>, f: impl Fn(I) -> R + Sync) -> Vec<R> {
    ensure_pool(None);
    par_map_on(ComputeTaskPool::get(), items, f)
}

/// [`par_map`] on `pool`.
fn par_map_on<I: Send, R: Send + 'static>(
    pool: &TaskPool,
    items: impl IntoIterator<Item = I>,
    f: impl Fn(I) -> R + Sync,
) -> Vec<R> {
    let items: Vec<I> = items.into_iter().collect();
    let n = items.len();
    if pool.thread_num() <= 1 || n <= 1 {
        return items.into_iter().map(f).collect();
    }
    let queue = std::sync::Mutex::new(items.into_iter().enumerate());
    let (f, queue) = (&f, &queue);
    let next = move || queue.lock().unwrap_or_else(|e| e.into_inner()).next();
    let done: Vec<Vec<(usize, R)>> = pool.scope(|scope| {
        for _ in 0..pool.thread_num().min(n) {
            scope.spawn(async move {
                let mut done = Vec::new();
                while let Some((k, item)) = next() {
                    done.push((k, f(item)));
                }
                done
            });
        }
    });
    let mut results: Vec<Option<R>> = (0..n).map(|_| None).collect();
    for (k, r) in done.into_iter().flatten() {
        results[k] = Some(r);
    }
    results.into_iter().map(|r| r.expect("every item ran")).collect()
}

/// [`par_map`] over items that hold `agents` agents between them, or the same in order on
/// the calling thread when they are fewer than [`MIN_PARALLEL_AGENTS`] (the results are
/// the same either way: each item's is its own).
pub fn par_map_agents<I: Send, R: Send + 'static>(
    agents: usize,
    items: impl IntoIterator<Item = I>,
    f: impl Fn(I) -> R + Sync,
) -> Vec<R> {
    if agents < MIN_PARALLEL_AGENTS { items.into_iter().map(f).collect() } else { par_map(items, f) }
}

/// Runs `f(first_index, chunk)` over `data` in chunks of `chunk_len`, in parallel on the
/// compute pool ([`par_map`]). Each call writes only its own chunk, so the result does not
/// depend on the number of threads.
pub fn par_chunks_mut<T: Send>(data: &mut [T], chunk_len: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let chunk_len = chunk_len.max(1);
    par_map(data.chunks_mut(chunk_len).enumerate(), |(k, chunk)| f(k * chunk_len, chunk));
}

/// Below this many agents a pass runs on the calling thread: waking the pool for it costs
/// about as much as the second thread saves (measured at the `small` preset).
pub const MIN_PARALLEL_AGENTS: usize = 2048;

/// The same for the passes over households (demand, refunds, the labour moves, income).
/// At the small preset's 11,200 households a parallel pass cost more than the second
/// thread saved: with demand in parallel from 2,048 households, two threads were 1–4%
/// slower a tick than one, and the labour moves after it, on the calling thread, took
/// 0.06 ms instead of 0.04, likely because the households the other core had read stayed
/// in its private cache (timings only; no cache counters were read). With every household
/// pass serial there, two threads are as fast as one (docs/performance.md). At 33,600
/// households and at the medium preset's 112,000 two threads pay.
pub const MIN_PARALLEL_HOUSEHOLDS: usize = 1 << 15;

/// `query.par_iter_mut().for_each(f)`, or the same serially when the query has fewer than
/// [`MIN_PARALLEL_AGENTS`] agents. Either way each agent is visited once, by `f` alone.
/// (A macro because bevy's serial and parallel iterators share no trait to be generic over;
/// `f` is written into both branches, so that each infers its argument types.)
macro_rules! for_each_agent {
    ($query:ident, $f:expr $(,)?) => {{
        if $query.iter().len() < $crate::threads::MIN_PARALLEL_AGENTS {
            $query.iter_mut().for_each($f);
        } else {
            $query.par_iter_mut().for_each($f);
        }
    }};
}
pub(crate) use for_each_agent;

/// `for_each_agent!` over runs of agents (bevy's table slices): `f` gets each run's
/// components as slices (`ContiguousMut` for `&mut` ones). Lets a pass ask for an agent's
/// heap data a few agents ahead ([`crate::cache::prefetch_all`]).
macro_rules! for_each_run {
    ($query:ident, $f:expr $(,)?) => {{
        if $query.iter().len() < $crate::threads::MIN_PARALLEL_AGENTS {
            $query.contiguous_iter_mut().expect("agent components live in tables").for_each($f);
        } else {
            $query.contiguous_par_iter_mut().expect("agent components live in tables").for_each($f);
        }
    }};
}
pub(crate) use for_each_run;

/// `for_each_run!` with a state per batch of runs, made by `init` (a batch's private
/// tallies): `f(&mut state, run)`. On the calling thread one state serves every run.
/// `parallel_from = N` sets the pass's own threshold instead of [`MIN_PARALLEL_AGENTS`]
/// ([`MIN_PARALLEL_HOUSEHOLDS`] for the passes over households).
macro_rules! for_each_run_init {
    ($query:ident, parallel_from = $min:expr, $init:expr, $f:expr $(,)?) => {{
        if $query.iter().len() < $min {
            let mut state = ($init)();
            let runs = $query.contiguous_iter_mut().expect("agent components live in tables");
            $crate::threads::serially(&mut state, runs, $f);
        } else {
            $query.contiguous_par_iter_mut().expect("agent components live in tables").for_each_init($init, $f);
        }
    }};
    ($query:ident, $init:expr, $f:expr $(,)?) => {
        $crate::threads::for_each_run_init!($query, parallel_from = $crate::threads::MIN_PARALLEL_AGENTS, $init, $f)
    };
}
pub(crate) use for_each_run_init;

/// The serial branch of [`for_each_run_init!`]: a function, so that `f`'s argument types
/// are inferred from `items`.
pub(crate) fn serially<S, I>(state: &mut S, items: impl Iterator<Item = I>, f: impl Fn(&mut S, I)) {
    for item in items {
        f(state, item);
    }
}

/// One table's components as slices, row for row: a slice (`&[T]`, `&mut [T]`) or a tuple
/// of slices of one length, which [`row_chunks`] cuts into chunks together.
pub trait Rows: Sized {
    fn rows(&self) -> usize;
    /// Whether every slice has as many rows (a single slice: always).
    fn same_rows(&self) -> bool {
        true
    }
    /// The first `at` rows and the rest.
    fn split_rows(self, at: usize) -> (Self, Self);
}

impl<T> Rows for &[T] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn split_rows(self, at: usize) -> (Self, Self) {
        self.split_at(at)
    }
}

impl<T> Rows for &mut [T] {
    fn rows(&self) -> usize {
        self.len()
    }
    fn split_rows(self, at: usize) -> (Self, Self) {
        self.split_at_mut(at)
    }
}

macro_rules! rows_of_tuple {
    ($($t:ident $v:ident),+) => {
        impl<$($t: Rows),+> Rows for ($($t,)+) {
            fn rows(&self) -> usize {
                self.0.rows()
            }
            fn same_rows(&self) -> bool {
                let ($($v,)+) = self;
                [$($v.rows()),+].iter().all(|&n| n == self.0.rows())
            }
            fn split_rows(self, at: usize) -> (Self, Self) {
                let ($($v,)+) = self;
                let ($($v,)+) = ($($v.split_rows(at),)+);
                (($($v.0,)+), ($($v.1,)+))
            }
        }
    };
}
rows_of_tuple!(A a, B b);
rows_of_tuple!(A a, B b, C c);
rows_of_tuple!(A a, B b, C c, D d);

/// `rows` cut into chunks of `chunk_len` rows, in order (the last may be shorter; none is
/// empty): the fixed chunks of a table that passes summing in a fixed order hand to
/// [`par_map`], whatever the number of threads.
pub fn row_chunks<R: Rows>(rows: R, chunk_len: usize) -> impl Iterator<Item = R> {
    assert!(chunk_len > 0, "chunks of at least one row");
    debug_assert!(rows.same_rows(), "slices of one table have as many rows");
    let mut rest = Some(rows);
    std::iter::from_fn(move || {
        let rows = rest.take().filter(|rows| rows.rows() > 0)?;
        if rows.rows() <= chunk_len {
            return Some(rows);
        }
        let (chunk, tail) = rows.split_rows(chunk_len);
        rest = Some(tail);
        Some(chunk)
    })
}

/// Rows per parallel chunk of [`publish`].
const PUBLISH_CHUNK: usize = 4096;

/// Copies one entry per agent onto a board indexed by agent: `board[index(a)] = value(a, v)`
/// for every row `(a, v)` of each table in `tables` (a table's rows as two slices).
///
/// A table whose rows hold consecutive indices, as the world builds every agent table, is
/// written in parallel, fixed chunks of rows into the matching runs of the board; any other
/// table row by row. Each entry is written once, from its own agent alone, so the board is
/// the same for any number of threads.
pub fn publish<'a, A: Sync + 'a, V: Sync + 'a, T: Send>(
    board: &mut [T],
    tables: impl IntoIterator<Item = (&'a [A], &'a [V])>,
    index: impl Fn(&A) -> usize + Sync,
    value: impl Fn(&A, &V) -> T + Sync,
) {
    for (agents, values) in tables {
        debug_assert_eq!(agents.len(), values.len());
        let first = agents.first().map_or(0, &index);
        let consecutive = agents.iter().enumerate().all(|(k, a)| index(a) == first + k);
        if !consecutive || agents.len() < MIN_PARALLEL_AGENTS || first + agents.len() > board.len() {
            for (a, v) in agents.iter().zip(values) {
                board[index(a)] = value(a, v);
            }
            continue;
        }
        let run = &mut board[first..first + agents.len()];
        par_map(row_chunks((run, agents, values), PUBLISH_CHUNK), |(run, agents, values)| {
            for ((entry, a), v) in run.iter_mut().zip(agents).zip(values) {
                *entry = value(a, v);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `par_map` returns every result in its item's place, and works on as many items at
    /// once as the pool has threads: never more, although the calling thread runs tasks too.
    #[test]
    fn par_map_keeps_order_and_runs_as_many_tasks_as_pool_threads() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let threads = 2;
        let pool = TaskPoolBuilder::new().num_threads(threads).build();
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let out = par_map_on(&pool, 0..64u64, |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(1));
            running.fetch_sub(1, Ordering::SeqCst);
            i * 3
        });
        assert_eq!(out, (0..64u64).map(|i| i * 3).collect::<Vec<_>>());
        let most = most.load(Ordering::SeqCst);
        assert_eq!(most, threads, "items at once on a pool of {threads} threads");
    }

    /// Chunks of a table's slices keep their rows together and in order, cover every row
    /// once, and are all full but the last (none for an empty table).
    #[test]
    fn row_chunks_cut_every_slice_of_a_table_alike() {
        for n in [0usize, 1, 4, 5, 9, 12] {
            let ids: Vec<u32> = (0..n as u32).collect();
            let mut values = vec![0u64; n];
            let mut more = vec![0u8; n];
            let chunks: Vec<_> = row_chunks((&ids[..], &mut values[..], &mut more[..]), 4).collect();
            assert_eq!(chunks.len(), n.div_ceil(4), "{n} rows");
            for (k, (ids, values, more)) in chunks.into_iter().enumerate() {
                assert!(!ids.is_empty() && ids.len() <= 4 && (ids.len() == 4 || (k + 1) * 4 >= n));
                assert_eq!((ids.len(), more.len()), (values.len(), values.len()));
                for ((&id, value), m) in ids.iter().zip(values).zip(more) {
                    assert_eq!(id as usize / 4, k, "row {id} in chunk {k}");
                    *value += id as u64 + 1;
                    *m += 1;
                }
            }
            assert_eq!(values, (1..=n as u64).collect::<Vec<_>>());
            assert!(more.iter().all(|&m| m == 1));
        }
    }

    /// Slices of different lengths are not rows of one table (checked in debug builds).
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "as many rows")]
    fn row_chunks_refuse_slices_of_different_lengths() {
        let (a, b) = ([1u8; 3], [2u8; 4]);
        let _ = row_chunks((&a[..], &b[..]), 8).count();
    }

    /// A table in index order (written in parallel chunks), one out of order and one too
    /// short for the pool (both written row by row) fill the board alike.
    #[test]
    fn publish_writes_each_agent_s_entry() {
        ensure_pool(None);
        let n = 3 * PUBLISH_CHUNK + 17;
        let in_order: Vec<u32> = (0..n as u32).collect();
        let mut shuffled = in_order.clone();
        shuffled.reverse();
        let short: Vec<u32> = (n as u32..n as u32 + 10).collect();
        let values = |ids: &[u32]| ids.iter().map(|&i| i as u64 * 3 + 1).collect::<Vec<u64>>();
        let expected: Vec<u64> = (0..n as u64 + 10).map(|i| i * 3 + 1).collect();
        for first in [&in_order, &shuffled] {
            let (v_first, v_short) = (values(first), values(&short));
            let mut board = vec![0u64; n + 10];
            let tables = [(first.as_slice(), v_first.as_slice()), (short.as_slice(), v_short.as_slice())];
            publish(&mut board, tables, |&i| i as usize, |_, &v| v);
            assert_eq!(board, expected);
        }
    }
}
