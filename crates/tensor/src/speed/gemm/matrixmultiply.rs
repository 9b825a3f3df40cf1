//! The `matrixmultiply` path (`TENSOR_GEMM=matrixmultiply`, the kernel before ours, and
//! the oracle of our kernel's tests): `C` split into blocks that run in parallel on the
//! rayon pool, each computed by matrixmultiply's `sgemm`/`dgemm` (through ndarray's
//! `general_mat_mul`, which hands it the views' strides as they are).
//!
//! Why split `C` and not `K`: a block of rows (or columns) of `C` depends on the whole of
//! `K`, so every element is still computed by one sgemm call with the same summation
//! order whatever the split. Results are therefore deterministic: identical bits for the
//! same inputs and thread count (in fact for any thread count).
//!
//! Which split: rows of `C` (rows of `A`, each thread packs all of `B`) or columns of `C`
//! (columns of `B`, each thread packs all of `A`). Packing is the overhead that is
//! duplicated across threads, so we split the dimension whose *other* operand is cheaper
//! to pack twice; see [`plan`].

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, Axis, Slice};
use rayon::prelude::*;

use crate::speed::Scalar;

/// Products below this many flops (2·m·k·n) run on the calling thread: a rayon
/// hand-off costs a few microseconds, as much as a 64×64×64 product.
pub const PARALLEL_MIN_FLOPS: usize = 1 << 20;

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

/// The same product computed by matrixmultiply, split over the pool by [`plan`]: the
/// fallback path and our kernel's oracle.
///
/// # Panics
/// If the shapes do not agree.
pub fn gemm_matrixmultiply<'a, T: Scalar>(
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    let (m, k, n) = super::check_shapes(&a, &b, &c);
    let plan = plan(m, k, n, crate::speed::side_by_side::threads());
    gemm_with_plan(alpha, a, b, beta, c, plan);
}

/// [`gemm_matrixmultiply`] with an explicit split (benchmarks compare splits with this).
pub fn gemm_with_plan<'a, T: Scalar>(
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
