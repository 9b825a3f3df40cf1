//! Work cut into a few large items (the convolutions' groups of images) that run **side by
//! side**, one item per thread, each item's own loops and matrix products kept on its
//! thread: where the items already keep every thread busy, splitting each of them between
//! the threads again would only add hand-offs and move its cache lines between the cores.
//! A thread-local flag marks a thread that runs such an item; the pool's other helpers
//! ([`super::parallel::split`]) and the GEMM ([`threads`]) read it.

use std::cell::Cell;

use rayon::prelude::*;

thread_local! {
    /// Set while this thread runs one of several items side by side ([`side_by_side`]):
    /// its loops then stay on it (see [`super::parallel::split`]).
    static ONE_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is running one of several items side by side, so that its work,
/// the matrix products included, stays on it.
pub fn on_one_thread() -> bool {
    ONE_THREAD.with(Cell::get)
}

/// The threads a large piece of work (a matrix product) may be split between: the pool's,
/// or only this one while it runs one of several items side by side.
pub fn threads() -> usize {
    if on_one_thread() {
        1
    } else {
        rayon::current_num_threads()
    }
}

/// `f(item)` for every item: side by side, one item per thread, when there are several,
/// each item's own loops and products then kept on its thread ([`on_one_thread`]); on
/// the calling thread, free to use the whole pool, when there is one. The driver of the
/// convolutions' groups of images (`ops/lowered.rs`).
pub(crate) fn side_by_side<I: Send>(items: Vec<I>, f: impl Fn(I) + Sync + Send) {
    if items.len() == 1 {
        items.into_iter().for_each(f);
    } else {
        items
            .into_par_iter()
            .for_each(|item| on_this_thread(|| f(item)));
    }
}

/// `f(item)` for every item, side by side as in [`side_by_side`], the results in the
/// items' order (so a sum of them taken in that order has the same bits on any number
/// of threads).
pub(crate) fn map_side_by_side<I: Send, R: Send>(
    items: Vec<I>,
    f: impl Fn(I) -> R + Sync + Send,
) -> Vec<R> {
    if items.len() == 1 {
        return items.into_iter().map(f).collect();
    }
    items
        .into_par_iter()
        .map(|item| on_this_thread(|| f(item)))
        .collect()
}

/// `f()` with this thread marked as running one item of several side by side.
fn on_this_thread<R>(f: impl FnOnce() -> R) -> R {
    let before = ONE_THREAD.with(|flag| flag.replace(true));
    let result = f();
    ONE_THREAD.with(|flag| flag.set(before));
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn items_side_by_side_keep_their_work_on_their_thread() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        pool.install(|| {
            assert!(!on_one_thread());
            assert_eq!(threads(), 3);
            let seen = Mutex::new(Vec::new());
            side_by_side(vec![1, 2, 3, 4], |i| {
                seen.lock().unwrap().push((i, on_one_thread(), threads()));
            });
            let mut seen = seen.into_inner().unwrap();
            seen.sort();
            assert_eq!(
                seen,
                [(1, true, 1), (2, true, 1), (3, true, 1), (4, true, 1)]
            );
            side_by_side(vec![5], |_| {
                assert_eq!((on_one_thread(), threads()), (false, 3))
            });
            let squares = map_side_by_side((0..9).collect(), |i: u64| (i * i, threads()));
            assert_eq!(squares, (0..9).map(|i| (i * i, 1)).collect::<Vec<_>>());
            assert_eq!(map_side_by_side(vec![7], |i| (i, threads())), [(7, 3)]);
            assert!(!on_one_thread(), "the flag is restored");
        });
    }
}
