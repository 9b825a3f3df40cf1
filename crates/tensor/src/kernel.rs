//! [`gemm`], `C ← α·A·B + β·C`, runs our own kernel ([`crate::gemm`]); this file keeps
//! the previous one (`TENSOR_GEMM=matrixmultiply`, and the oracle of the kernel's tests):
//! `C` split into blocks that run in parallel on the rayon pool, each computed by
//! matrixmultiply's `sgemm`/`dgemm` (through ndarray's `general_mat_mul`, which hands it
//! the views' strides as they are).
//!
//! Why split `C` and not `K`: a block of rows (or columns) of `C` depends on the whole of
//! `K`, so every element is still computed by one sgemm call with the same summation
//! order whatever the split. Results are therefore deterministic: identical bits for the
//! same inputs and thread count (in fact for any thread count).
//!
//! Why strides matter: backprop needs `dA = dC·Bᵀ` and `dB = Aᵀ·dC`. `.t()` on an ndarray
//! view swaps its strides without touching memory, and matrixmultiply packs panels from
//! any strides, so transposed operands are never copied.
//!
//! Call it from inside the rayon pool (`ThreadPool::install`), as the `vae` program
//! does: the calling thread then computes a block itself. Called from outside, it hands
//! every block to the pool and sleeps until they are done, two context switches per
//! product, which measured a quarter slower training.
//!
//! Which split: rows of `C` (rows of `A`, each thread packs all of `B`) or columns of `C`
//! (columns of `B`, each thread packs all of `A`). Packing is the overhead that is
//! duplicated across threads, so we split the dimension whose *other* operand is cheaper
//! to pack twice; see [`plan`] and the measured table in BENCHMARKS.md.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis, Slice};
use rayon::prelude::*;

use crate::Float;

/// Products below this many flops (2·m·k·n) run on the calling thread: a rayon
/// hand-off costs a few microseconds, as much as a 64×64×64 product.
pub const PARALLEL_MIN_FLOPS: usize = crate::gemm::PARALLEL_MIN_FLOPS;

/// Block sizes are multiples of this, matrixmultiply's largest micro-kernel side (8×8 for
/// sgemm on AVX2), so no block ends in a partial, masked micro-tile it could have avoided.
const ALIGN: usize = 8;

/// How a product is cut across threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    /// `Axis(0)`: blocks of rows of `C` (and `A`); `Axis(1)`: blocks of columns of `C` (and `B`).
    pub axis: usize,
    /// Number of blocks (1 means a single call on the current thread).
    pub blocks: usize,
}

/// Chooses the split for an `m×k · k×n` product on `threads` threads.
///
/// Splitting rows makes every thread pack all of `B` (`k·n` elements); splitting columns
/// makes every thread pack all of `A` (`m·k`). We duplicate the smaller packing work
/// (columns when `m ≤ n`), unless the column blocks would be narrower than
/// [`MIN_COLUMN_BLOCK`] (e.g. the 20-wide latent layer), where the micro-kernel's
/// panels would be mostly edge. One block per thread: each keeps its packed panels in
/// its own core's cache, which measured faster than finer blocks with work stealing
/// (BENCHMARKS.md has the comparison).
pub fn plan(m: usize, k: usize, n: usize, threads: usize) -> Plan {
    let flops = 2 * m * k * n;
    if threads <= 1 || flops < PARALLEL_MIN_FLOPS {
        return Plan { axis: 0, blocks: 1 };
    }
    let axis = if m <= n && n / threads >= MIN_COLUMN_BLOCK {
        1
    } else {
        0
    };
    let len = if axis == 0 { m } else { n };
    let blocks = threads.min(len.div_ceil(ALIGN)).max(1);
    Plan { axis, blocks }
}

/// Narrowest column block worth a thread of its own.
pub const MIN_COLUMN_BLOCK: usize = 64;

/// `C ← α·A·B + β·C` with `A: [m,k]`, `B: [k,n]`, `C: [m,n]`, views with any strides, on
/// the path [`crate::gemm::Path::selected`] names (our own kernel on the widest
/// instructions the CPU has, unless `TENSOR_GEMM` says otherwise).
///
/// # Panics
/// If the shapes do not agree (`matmul: ...` with both shapes).
pub fn gemm<'a, T: Float>(
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    crate::gemm::gemm(alpha, a, b, beta, c);
}

/// The same product computed by matrixmultiply, split over the pool by [`plan`]: the
/// fallback path and our kernel's oracle.
///
/// # Panics
/// If the shapes do not agree.
pub fn gemm_matrixmultiply<'a, T: Float>(
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    let (m, k, n) = crate::gemm::check_shapes(&a, &b, &c);
    let plan = plan(m, k, n, rayon::current_num_threads());
    gemm_with_plan(alpha, a, b, beta, c, plan);
}

/// [`gemm`] with an explicit split (benchmarks compare splits with this).
pub fn gemm_with_plan<'a, T: Float>(
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
    plan: Plan,
) {
    if plan.blocks <= 1 {
        general_mat_mul(alpha, &a, &b, beta, &mut c);
        return;
    }
    let len = c.len_of(Axis(plan.axis));
    let chunk = len.div_ceil(plan.blocks).next_multiple_of(ALIGN).min(len);
    // Pair each block of C with the slice of A (row split) or B (column split) it needs.
    // Views are Copy: narrowing a copy leaves the original untouched.
    let narrow = |mut part: ArrayView2<'a, T>, axis: usize, start: usize| {
        part.slice_axis_inplace(Axis(axis), Slice::from(start..(start + chunk).min(len)));
        part
    };
    let jobs: Vec<_> = if plan.axis == 0 {
        c.axis_chunks_iter_mut(Axis(0), chunk)
            .enumerate()
            .map(|(i, c)| (narrow(a, 0, i * chunk), b, c))
            .collect()
    } else {
        c.axis_chunks_iter_mut(Axis(1), chunk)
            .enumerate()
            .map(|(i, c)| (a, narrow(b, 1, i * chunk), c))
            .collect()
    };
    jobs.into_par_iter()
        .for_each(|(a, b, mut c)| general_mat_mul(alpha, &a, &b, beta, &mut c));
}

/// `A·B` into a new row-major array.
pub fn matmul<'a, T: Float>(a: ArrayView2<'a, T>, b: ArrayView2<'a, T>) -> Array2<T> {
    let (m, n) = (a.nrows(), b.ncols());
    let mut c =
        Array2::from_shape_vec((m, n), crate::parallel::zeros_vec(m * n)).expect("m·n zeros");
    gemm(T::one(), a, b, T::zero(), c.view_mut());
    c
}

/// The textbook triple loop, in f64 accumulation: the reference the kernel is tested against.
pub fn matmul_naive<T: Float>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    assert_eq!(a.ncols(), b.nrows(), "matmul_naive: inner dims differ");
    Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
        let s: f64 = (0..a.ncols())
            .map(|p| a[(i, p)].as_f64() * b[(p, j)].as_f64())
            .sum();
        T::of(s)
    })
}
