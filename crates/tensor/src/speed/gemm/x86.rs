//! The x86-64 micro-kernels: one `MR×NR` tile of `C` from a packed sliver of `A` and one
//! of `B`, written with `core::arch` intrinsics for AVX-512F and for AVX2+FMA.
//!
//! Every kernel is the same loop, stamped out by [`microkernel!`] for one register width
//! and element type. For each `p` of the `kc` shared indices it
//! 1. loads the `NR` packed values `B[p, 0..NR]` into `NV` vector registers,
//! 2. for each of the `MR` rows, broadcasts `A[i, p]` (a load folded into the FMA as an
//!    embedded broadcast on AVX-512) and does `NV` fused multiply-adds into the row's
//!    accumulators,
//!
//! so the whole tile, `MR·NV` vectors, stays in registers for the entire `kc` loop and is
//! written to `C` once, at the end: `C ← α·acc + β·C` (with β = 0, `C` is not read, and
//! with α = 1 not multiplied: 3–5 % of a tile when `k` is 20).
//!
//! A last column tile narrower than the kernel (`cols < NR`: 50 = 32 + 18) takes a second
//! copy of the loop whose loads of `B`, and whose loads and stores of `C`, are masked to
//! its columns (AVX-512's mask registers, AVX2's `vmaskmov`): `B` is then read in place
//! and `C` written directly, where the tile used to be packed, zero-padded, computed on
//! the stack and copied. On a Zen 5 that made 20×200×50 45 % faster (130 → 190 GFLOP/s)
//! and 20×200×200 25 %. Masked-off lanes are neither read nor written, so nothing runs
//! past the end of `B` or `C` (`tests/gemm_bounds.rs` puts them against an unreadable page).
//!
//! Why these tile shapes (the module docs of [`super`] derive them in full):
//! - **AVX-512 (32 registers of 16 f32 / 8 f64):** `MR = 12` rows × `NV = 2` vectors =
//!   24 accumulators, + 2 for the `B` row + 1 broadcast = 27 registers of 32. 24
//!   independent FMAs per `p` cover the FMA latency (4 cycles) × throughput (2 per
//!   cycle) = 8 in flight three times over. The other AVX-512 tile, `6×64` (`NV = 4`),
//!   has as many accumulators, + 4 + 1 = 29 registers, and loads 10 values per `p`, not 14.
//! - **AVX2 (16 registers of 8 f32 / 4 f64):** `MR = 6` × `NV = 2` = 12 accumulators,
//!   + 2 + 1 = 15 of 16 registers (the classic Haswell BLIS tile).
//!
//! # Safety
//! These functions are `unsafe` twice over: they are compiled for CPU features the
//! machine may lack (call them only after [`super::Path`] detection said it has them),
//! and they read and write through raw pointers (the caller guarantees that `A[0..MR, 0..kc]`
//! and `B[0..kc, 0..cols]` are readable where the strides say, and that `c` points at an
//! `MR×cols` tile of rows `ldc` apart that no one else touches during the call; `cols ≤ NR`).

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The micro-kernel's loop over `p` (see the module docs), `B`'s vectors loaded by
/// `$load_b` (plain or masked).
///
/// Four steps of `p` per trip of the loop: each trip's bookkeeping (two pointer
/// increments, the count and the branch) is scalar work that Intel cores issue to the same
/// ports as the 512-bit FMAs. On an Ice Lake Xeon, one thread, AVX-512: +8.7 % over the 33
/// shapes and layouts of kernel_report (195 of 297 paired processes won; BENCHMARKS.md).
macro_rules! tile_loop {
    ($kc:ident, $($rest:tt)*) => {
        let unrolled = $kc / 4 * 4;
        for p4 in (0..unrolled).step_by(4) {
            for u in 0..4 {
                tile_loop!(@step p4 + u, $($rest)*);
            }
        }
        for p in unrolled..$kc {
            tile_loop!(@step p, $($rest)*);
        }
    };
    (@step $p:expr, $a:ident, $a_rs:ident, $a_cs:ident, $b:ident, $ldb:ident, $acc:ident, $nv:literal,
     $lanes:literal, $splat:ident, $fma:ident, |$ptr:ident, $v:ident| $load_b:expr) => {{
        let p = $p;
        // SAFETY: p < kc, and the caller guarantees that `B[p, 0..cols]` is at
        // `b + p·ldb` and `A[i, p]` at `a + i·a_rs + p·a_cs`.
        let b_row = $b.add(p * $ldb);
        let bv: [_; $nv] = std::array::from_fn(|$v| {
            let $ptr = b_row.add($v * $lanes);
            $load_b
        });
        let a_col = $a.add(p * $a_cs);
        for (i, row) in $acc.iter_mut().enumerate() {
            let ai = $splat(*a_col.add(i * $a_rs));
            for (v, reg) in row.iter_mut().enumerate() {
                *reg = $fma(ai, bv[v], *reg);
            }
        }
    }};
}

/// Defines one micro-kernel; see the module docs for the loop it writes. `A[i, p]` is read
/// at `a + i·a_rs + p·a_cs` (a packed sliver: `a_rs = 1`, `a_cs = MR`; or `A` itself) and
/// `B[p, j]` at `b + p·ldb + j` (a packed sliver: `ldb = NR`; or the rows of `B` itself).
macro_rules! microkernel {
    // Kernels for one instruction set and type, sharing its intrinsics (`{ zero: ... }`):
    // each `$mr` rows × `$nv` vectors, with its `half` twin `$hnv` vectors wide and its
    // `short` twin `$smr` rows tall (for a narrow last column or a short last row of tiles).
    ($feature:literal, $t:ty, $lanes:literal, $ops:tt,
     $($(#[$doc:meta])* $name:ident / $half:ident / $short:ident: $mr:literal x $nv:literal / $hnv:literal, $smr:literal;)+) => {
        $(
            microkernel!(@one $(#[$doc])* $name, $feature, $t, $lanes, $mr, $nv, $ops);
            microkernel!(@one #[doc = "The same, half as wide."] $half, $feature, $t, $lanes, $mr, $hnv, $ops);
            microkernel!(@one #[doc = "The same, fewer rows."] $short, $feature, $t, $lanes, $smr, $nv, $ops);
        )+
    };
    (@one $(#[$doc:meta])* $name:ident, $feature:literal, $t:ty, $lanes:literal, $mr:literal, $nv:literal,
     { $($ops:tt)* }) => {
        microkernel!($(#[$doc])* $name, $feature, $t, $lanes, $mr, $nv, $($ops)*);
    };
    ($(#[$doc:meta])* $name:ident, $feature:literal, $t:ty, $lanes:literal, $mr:literal, $nv:literal,
     zero: $zero:ident, load: $load:ident, store: $store:ident, splat: $splat:ident,
     fma: $fma:ident, mul: $mul:ident, mask: |$n:ident| $mask:expr,
     masked_load: |$lp:ident, $lm:ident| $masked_load:expr,
     masked_store: |$sp:ident, $sm:ident, $sx:ident| $masked_store:expr) => {
        $(#[$doc])*
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        pub(super) unsafe fn $name(
            kc: usize,
            a: *const $t,
            a_rs: usize,
            a_cs: usize,
            b: *const $t,
            ldb: usize,
            c: *mut $t,
            ldc: usize,
            alpha: $t,
            beta: $t,
            cols: usize,
        ) {
            let full = cols >= $nv * $lanes;
            // Lanes of vector v inside the tile's `cols` columns: B's columns past them
            // are not read and C's not written (a last column tile read in place).
            let masks: [_; $nv] = std::array::from_fn(|v| {
                let $n = cols.saturating_sub(v * $lanes).min($lanes);
                $mask
            });
            let mut acc = [[$zero(); $nv]; $mr];
            // The loop twice, so that full tiles (all but the last column) keep plain loads.
            if full {
                tile_loop!(kc, a, a_rs, a_cs, b, ldb, acc, $nv, $lanes, $splat, $fma, |ptr, _v| $load(ptr));
            } else {
                tile_loop!(kc, a, a_rs, a_cs, b, ldb, acc, $nv, $lanes, $splat, $fma, |ptr, v| {
                    let ($lp, $lm) = (ptr, masks[v]);
                    $masked_load
                });
            }
            let va = $splat(alpha);
            for (i, row) in acc.iter().enumerate() {
                for (v, reg) in row.iter().enumerate() {
                    // SAFETY: row i < MR and columns v·lanes.. < cols lie in the caller's tile.
                    let dst = c.add(i * ldc + v * $lanes);
                    let out = if beta == 0.0 && alpha == 1.0 {
                        *reg
                    } else if beta == 0.0 {
                        $mul(va, *reg)
                    } else {
                        let old = if full {
                            $load(dst)
                        } else {
                            let ($lp, $lm) = (dst, masks[v]);
                            $masked_load
                        };
                        $fma(va, *reg, $mul($splat(beta), old))
                    };
                    if full {
                        $store(dst, out);
                    } else {
                        let ($sp, $sm, $sx) = (dst, masks[v], out);
                        $masked_store;
                    }
                }
            }
        }
    };
}

microkernel!("avx512f", f32, 16, {
    zero: _mm512_setzero_ps, load: _mm512_loadu_ps, store: _mm512_storeu_ps,
    splat: _mm512_set1_ps, fma: _mm512_fmadd_ps, mul: _mm512_mul_ps,
    mask: |n| (1u32 << n).wrapping_sub(1) as __mmask16,
    masked_load: |p, m| _mm512_maskz_loadu_ps(m, p),
    masked_store: |p, m, x| _mm512_mask_storeu_ps(p, m, x)
},
    /// f32, AVX-512F: a 12×32 tile (12 rows × 2 vectors of 16).
    avx512_f32_12x32 / avx512_f32_12x16 / avx512_f32_8x32: 12 x 2 / 1, 8;
    /// f32, AVX-512F: a 6×64 tile (6 rows × 4 vectors of 16).
    avx512_f32_6x64 / avx512_f32_6x32 / avx512_f32_4x64: 6 x 4 / 2, 4;
);

microkernel!("avx512f", f64, 8, {
    zero: _mm512_setzero_pd, load: _mm512_loadu_pd, store: _mm512_storeu_pd,
    splat: _mm512_set1_pd, fma: _mm512_fmadd_pd, mul: _mm512_mul_pd,
    mask: |n| (1u32 << n).wrapping_sub(1) as __mmask8,
    masked_load: |p, m| _mm512_maskz_loadu_pd(m, p),
    masked_store: |p, m, x| _mm512_mask_storeu_pd(p, m, x)
},
    /// f64, AVX-512F: a 12×16 tile (12 rows × 2 vectors of 8).
    avx512_f64_12x16 / avx512_f64_12x8 / avx512_f64_8x16: 12 x 2 / 1, 8;
    /// f64, AVX-512F: a 6×32 tile (6 rows × 4 vectors of 8).
    avx512_f64_6x32 / avx512_f64_6x16 / avx512_f64_4x32: 6 x 4 / 2, 4;
);

microkernel!("avx2,fma", f32, 8, {
    zero: _mm256_setzero_ps, load: _mm256_loadu_ps, store: _mm256_storeu_ps,
    splat: _mm256_set1_ps, fma: _mm256_fmadd_ps, mul: _mm256_mul_ps,
    mask: |n| _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
    masked_load: |p, m| _mm256_maskload_ps(p, m),
    masked_store: |p, m, x| _mm256_maskstore_ps(p, m, x)
},
    /// f32, AVX2+FMA: a 6×16 tile (6 rows × 2 vectors of 8).
    avx2_f32_6x16 / avx2_f32_6x8 / avx2_f32_4x16: 6 x 2 / 1, 4;
);

microkernel!("avx2,fma", f64, 4, {
    zero: _mm256_setzero_pd, load: _mm256_loadu_pd, store: _mm256_storeu_pd,
    splat: _mm256_set1_pd, fma: _mm256_fmadd_pd, mul: _mm256_mul_pd,
    mask: |n| _mm256_cmpgt_epi64(_mm256_set1_epi64x(n as i64), _mm256_setr_epi64x(0, 1, 2, 3)),
    masked_load: |p, m| _mm256_maskload_pd(p, m),
    masked_store: |p, m, x| _mm256_maskstore_pd(p, m, x)
},
    /// f64, AVX2+FMA: a 6×8 tile (6 rows × 2 vectors of 4).
    avx2_f64_6x8 / avx2_f64_6x4 / avx2_f64_4x8: 6 x 2 / 1, 4;
);
