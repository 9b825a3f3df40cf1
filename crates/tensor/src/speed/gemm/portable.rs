//! The portable micro-kernel: the same tile loop as the x86 ones, in plain Rust the
//! compiler vectorizes for whatever the build targets (SSE2 on a baseline x86-64 build,
//! NEON on aarch64). It is the path on CPUs without AVX2, and the most readable statement
//! of what every micro-kernel computes.

use std::slice;

use crate::speed::Scalar;

/// `C[0..MR, 0..cols] ← α·Σ_p a[p]ᵀ·b[p] + β·C` (β = 0: `C` is not read; `cols ≤ NR`, and
/// columns past `cols` of `B` are not read). The tile is 4×8 (4×8 accumulators are 8 SSE
/// registers of f32); 4×4 and 2×8 at the edges.
///
/// # Safety
/// `A[i, p]` is readable at `a + i·a_rs + p·a_cs` and `B[p, 0..cols]` at `b + p·ldb` for
/// `i < MR`, `p < kc`; `c` points at an `MR×cols` tile whose rows are `ldc` apart, which no
/// one else touches during the call.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn portable<T: Scalar, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    a_rs: usize,
    a_cs: usize,
    b: *const T,
    ldb: usize,
    c: *mut T,
    ldc: usize,
    alpha: T,
    beta: T,
    cols: usize,
) {
    // Full tiles take the loop with a length known at compile time (vectorized whole).
    let acc = if cols >= NR {
        unsafe { accumulate::<T, MR, NR>(kc, a, a_rs, a_cs, b, ldb, NR) }
    } else {
        unsafe { accumulate::<T, MR, NR>(kc, a, a_rs, a_cs, b, ldb, cols) }
    };
    let cols = cols.min(NR);
    for (i, row) in acc.iter().enumerate() {
        // SAFETY: row i of the caller's tile, `cols` values long.
        let out = unsafe { slice::from_raw_parts_mut(c.add(i * ldc), cols) };
        for (o, &sum) in out.iter_mut().zip(row) {
            *o = if beta == T::zero() {
                alpha * sum
            } else {
                alpha * sum + beta * *o
            };
        }
    }
}

/// `Σ_p a[p]ᵀ·b[p]` over the first `cols` columns (the rest stay zero); inlined into each
/// branch of [`portable`], so `cols = NR` is a constant there.
///
/// # Safety
/// As [`portable`]'s.
#[inline(always)]
unsafe fn accumulate<T: Scalar, const MR: usize, const NR: usize>(
    kc: usize,
    a: *const T,
    a_rs: usize,
    a_cs: usize,
    b: *const T,
    ldb: usize,
    cols: usize,
) -> [[T; NR]; MR] {
    let mut acc = [[T::zero(); NR]; MR];
    for p in 0..kc {
        // SAFETY: `B[p, 0..cols]` is at `b + p·ldb` and `A[i, p]` at `a + i·a_rs + p·a_cs`
        // (the caller's guarantee).
        let b_row = unsafe { slice::from_raw_parts(b.add(p * ldb), cols) };
        for (i, row) in acc.iter_mut().enumerate() {
            let ai = unsafe { *a.add(i * a_rs + p * a_cs) };
            for (sum, &bj) in row.iter_mut().zip(b_row) {
                *sum += ai * bj;
            }
        }
    }
    acc
}
