//! Packing's transposes in registers (x86-64): the copy that packs `B` of `x·Wᵀ` (whose
//! rows are `W`'s columns) and the edge slivers of a row-major `A`.
//!
//! `out[p·width + i] = lanes[i][p]`: square blocks of the rows are loaded as vectors
//! (one vector holds one row's run of `p`), shuffled until each vector holds one `p`'s run
//! of rows, and stored. A 16×16 block (AVX-512) takes 16 loads, 64 shuffles and 16 stores
//! for 256 values; an 8×8 block (AVX2) 8 loads, 24 shuffles and 8 stores for 64, half
//! again as many shuffles a value; four `p` past the last 8 (`k` = 20) go in 8×4 blocks,
//! and what no block covers one value at a time.

use std::arch::x86_64::*;
use std::ops::Range;

/// Packs rows `lanes` (each at least `kc = out.len() / width` long) transposed into `out`:
/// 16×16 blocks where the CPU has AVX-512, 8×8 and 8×4 blocks for the rest with AVX2, and
/// what is left one by one. Returns false, doing nothing, where the CPU lacks AVX2.
pub(super) fn transpose_into_f32(lanes: &[&[f32]], width: usize, out: &mut [f32]) -> bool {
    if !crate::speed::simd::has_avx2_fma() {
        return false;
    }
    let (rows, kc) = (lanes.len(), out.len() / width);
    assert!(rows <= width && lanes.iter().all(|l| l.len() >= kc));
    let (rows_8, kc_8, kc_4) = (rows / 8 * 8, kc / 8 * 8, kc / 4 * 4);
    let (rows_16, kc_16) = if crate::speed::simd::has_avx512f() {
        (rows / 16 * 16, kc / 16 * 16)
    } else {
        (0, 0)
    };
    // SAFETY: the CPU has the features each block needs (checked above); every block lies
    // inside `rows × kc`, so its loads are inside the lanes and its stores inside `out`
    // (its last row < rows ≤ width, its last p < kc).
    unsafe {
        for (p0, i0) in blocks(0..kc_16, 0..rows_16, 16) {
            block_16(lanes, i0, p0, width, out);
        }
        // The 8×8 blocks the 16×16 ones left: rows past the last 16, then `p` past it.
        let rest = blocks(0..kc_8, rows_16..rows_8, 8).chain(blocks(kc_16..kc_8, 0..rows_16, 8));
        for (p0, i0) in rest {
            block_8(lanes, i0, p0, width, out);
        }
        // Four `p` past the last 8 (`k` = 20 is 16 + 4), in 8×4 blocks.
        if kc_4 > kc_8 {
            for i0 in (0..rows_8).step_by(8) {
                block_8x4(lanes, i0, kc_8, width, out);
            }
        }
    }
    for (p, chunk) in out.chunks_exact_mut(width).enumerate() {
        let rows_done = if p < kc_4 { rows_8 } else { 0 };
        for i in rows_done..rows {
            chunk[i] = lanes[i][p];
        }
    }
    true
}

/// The corners `(p0, i0)` of the `size`×`size` blocks of `ps × rows`, `p` outermost (so
/// the stores go forward through `out`).
fn blocks(
    ps: Range<usize>,
    rows: Range<usize>,
    size: usize,
) -> impl Iterator<Item = (usize, usize)> {
    ps.step_by(size)
        .flat_map(move |p0| rows.clone().step_by(size).map(move |i0| (p0, i0)))
}

/// The first two steps of both blocks, within each 128-bit lane: pairs of rows
/// interleaved, then 4×4 blocks transposed, so that `u[4j + q]` holds, in lane `L`, rows
/// `4j..4j+4` of column `p = 4L + q`.
macro_rules! within_lanes {
    ($r:ident, $n:literal, $unpacklo:ident, $unpackhi:ident, $shuffle:ident) => {{
        let t: [_; $n] = std::array::from_fn(|x| match x % 2 {
            0 => $unpacklo($r[x], $r[x + 1]),
            _ => $unpackhi($r[x - 1], $r[x]),
        });
        let u: [_; $n] = std::array::from_fn(|x| {
            let (j, q) = (x / 4, x % 4);
            let (lo, hi) = (t[4 * j + q / 2], t[4 * j + 2 + q / 2]);
            match q % 2 {
                0 => $shuffle::<0x44>(lo, hi),
                _ => $shuffle::<0xEE>(lo, hi),
            }
        });
        u
    }};
}

/// Transposes rows `i0..i0+16`, columns `p0..p0+16` into `out`.
///
/// # Safety
/// AVX-512F; `p0 + 16 ≤` every lane's length, `(p0 + 15)·width + i0 + 16 ≤ out.len()`.
#[target_feature(enable = "avx512f")]
unsafe fn block_16(lanes: &[&[f32]], i0: usize, p0: usize, width: usize, out: &mut [f32]) {
    let r: [__m512; 16] = std::array::from_fn(|i| _mm512_loadu_ps(lanes[i0 + i].as_ptr().add(p0)));
    let u = within_lanes! { r, 16, _mm512_unpacklo_ps, _mm512_unpackhi_ps, _mm512_shuffle_ps };
    // Then the 4×4 transpose of the 128-bit lanes: column 4L + q is lane L of u[q],
    // u[4 + q], u[8 + q] and u[12 + q].
    for q in 0..4 {
        let v = [u[q], u[4 + q], u[8 + q], u[12 + q]];
        let x = [
            _mm512_shuffle_f32x4::<0x44>(v[0], v[1]),
            _mm512_shuffle_f32x4::<0xEE>(v[0], v[1]),
            _mm512_shuffle_f32x4::<0x44>(v[2], v[3]),
            _mm512_shuffle_f32x4::<0xEE>(v[2], v[3]),
        ];
        let columns = [
            _mm512_shuffle_f32x4::<0x88>(x[0], x[2]),
            _mm512_shuffle_f32x4::<0xDD>(x[0], x[2]),
            _mm512_shuffle_f32x4::<0x88>(x[1], x[3]),
            _mm512_shuffle_f32x4::<0xDD>(x[1], x[3]),
        ];
        for (l, column) in columns.into_iter().enumerate() {
            let dst = &mut out[(p0 + 4 * l + q) * width + i0..][..16];
            _mm512_storeu_ps(dst.as_mut_ptr(), column);
        }
    }
}

/// Transposes rows `i0..i0+8`, columns `p0..p0+8` into `out`.
///
/// # Safety
/// AVX2; `p0 + 8 ≤` every lane's length, `(p0 + 7)·width + i0 + 8 ≤ out.len()`.
#[target_feature(enable = "avx2")]
unsafe fn block_8(lanes: &[&[f32]], i0: usize, p0: usize, width: usize, out: &mut [f32]) {
    let r: [__m256; 8] = std::array::from_fn(|i| _mm256_loadu_ps(lanes[i0 + i].as_ptr().add(p0)));
    let u = within_lanes! { r, 8, _mm256_unpacklo_ps, _mm256_unpackhi_ps, _mm256_shuffle_ps };
    // Then the 2×2 transpose of the 128-bit lanes: column 4L + q is lane L of u[q], u[4 + q].
    let columns: [__m256; 8] = std::array::from_fn(|q| match q / 4 {
        0 => _mm256_permute2f128_ps::<0x20>(u[q], u[q + 4]),
        _ => _mm256_permute2f128_ps::<0x31>(u[q - 4], u[q]),
    });
    for (q, column) in columns.into_iter().enumerate() {
        let dst = &mut out[(p0 + q) * width + i0..][..8];
        _mm256_storeu_ps(dst.as_mut_ptr(), column);
    }
}

/// Transposes rows `i0..i0+8`, columns `p0..p0+4` into `out`: rows `i` and `i + 4` share
/// a vector (its low and high 128 bits), so `within_lanes!` alone leaves each `p`'s 8 rows
/// in one vector.
///
/// # Safety
/// AVX2; `p0 + 4 ≤` every lane's length, `(p0 + 3)·width + i0 + 8 ≤ out.len()`.
#[target_feature(enable = "avx2")]
unsafe fn block_8x4(lanes: &[&[f32]], i0: usize, p0: usize, width: usize, out: &mut [f32]) {
    let row = |i: usize| _mm_loadu_ps(lanes[i0 + i].as_ptr().add(p0));
    let r: [__m256; 4] = std::array::from_fn(|i| _mm256_set_m128(row(i + 4), row(i)));
    let u = within_lanes! { r, 4, _mm256_unpacklo_ps, _mm256_unpackhi_ps, _mm256_shuffle_ps };
    for (q, column) in u.into_iter().enumerate() {
        let dst = &mut out[(p0 + q) * width + i0..][..8];
        _mm256_storeu_ps(dst.as_mut_ptr(), column);
    }
}
