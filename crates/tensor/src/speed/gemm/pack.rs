//! Packing: copying a block of an operand, from whatever strides it has, into the order
//! the micro-kernel reads it, so that the kernel's inner loop walks memory strictly
//! forwards, one cache line after the next.
//!
//! A *sliver* of `R` rows and `kc` columns is stored column after column: element `(i, p)`
//! goes to `out[p·R + i]`. For `A` the rows are `MR` rows of `A`; for `B` the same function
//! packs `NR` columns of `B`, given the transposed view (`B`'s columns are `Bᵀ`'s rows).
//! Rows past the matrix's edge are zero, so the kernel always computes a full tile and
//! the padding adds nothing.
//!
//! Transposed operands (backprop's `dC·Bᵀ`, `Aᵀ·dC`) are just views with swapped strides;
//! packing reads them in their own order and is the only place strides matter.

use ndarray::ArrayView2;

use crate::speed::Scalar;

/// Packs `src` (`rows ≤ width` × `kc`) into `out` (`kc·width` values): `out[p·width + i] =
/// src[i, p]`, zero for `i ≥ rows`.
pub(super) fn sliver<T: Scalar>(src: ArrayView2<'_, T>, width: usize, out: &mut [T]) {
    let (rows, kc) = src.dim();
    debug_assert!(rows <= width && out.len() == kc * width);
    if rows < width {
        out.fill(T::zero());
    }
    if src.strides()[0] == 1 || rows == 1 {
        // Each column of `src` (one `p`) is contiguous: copy it as a run (a few vector
        // moves). `B` in `A·B` and `A` in `Aᵀ·B`. Found by stepping a pointer, not as
        // ndarray's column views, whose making and checking per `p` cost more than the
        // copy: packing a 784×400 `B` went 0.38 → 0.26 ns an element (Zen 3, one thread).
        let (base, step) = (src.as_ptr(), src.strides()[1]);
        for (p, chunk) in out.chunks_exact_mut(width).enumerate() {
            // SAFETY: column `p < kc` of the view starts at `base + p·step` and holds
            // `rows` elements one apart (unit row stride, or a single row), all inside the
            // memory the view borrows.
            let run = unsafe { std::slice::from_raw_parts(base.offset(p as isize * step), rows) };
            copy_short(run, &mut chunk[..rows]);
        }
    } else if let Some((lanes, rows)) = row_slices(&src) {
        let lanes = &lanes[..rows];
        // Rows are contiguous (`A` in `A·B`, `B` in `A·Bᵀ`): a transpose. In registers
        // where the CPU can; else write each output run in order, gathering one value
        // from each row (the rows' cache lines stay in L1 across the 16 `p` they hold).
        if T::transpose_into(lanes, width, out) {
            return;
        }
        for (p, chunk) in out.chunks_exact_mut(width).enumerate() {
            for (o, lane) in chunk.iter_mut().zip(lanes) {
                *o = lane[p];
            }
        }
    } else {
        for (i, row) in src.rows().into_iter().enumerate() {
            for (p, &v) in row.iter().enumerate() {
                out[p * width + i] = v;
            }
        }
    }
}

/// Copies a run of at most 32 values in blocks of 4, each one vector move: the runs are
/// short (one sliver's `MR` or `NR` values), and `copy_from_slice` of a length known only
/// at run time is a call to `memcpy`, which measured slower than the copy itself.
fn copy_short<T: Copy>(src: &[T], dst: &mut [T]) {
    let done = dst.len() / 4 * 4;
    let mut blocks = dst.chunks_exact_mut(4);
    for (d, s) in (&mut blocks).zip(src.chunks_exact(4)) {
        d.copy_from_slice(s);
    }
    for (d, &s) in blocks.into_remainder().iter_mut().zip(&src[done..]) {
        *d = s;
    }
}

/// The rows of `src` as slices, if each is contiguous (in an array on the stack: this
/// runs once per sliver, and a heap allocation each time measured in small products).
fn row_slices<'a, T>(src: &ArrayView2<'a, T>) -> Option<([&'a [T]; MAX_WIDTH], usize)> {
    let mut lanes: [&[T]; MAX_WIDTH] = [&[]; MAX_WIDTH];
    if src.nrows() > MAX_WIDTH {
        return None;
    }
    for (i, lane) in lanes.iter_mut().enumerate().take(src.nrows()) {
        *lane = src.index_axis_move(ndarray::Axis(0), i).to_slice()?;
    }
    Some((lanes, src.nrows()))
}

/// The widest sliver any micro-kernel packs (its `MR` or `NR`).
const MAX_WIDTH: usize = 64;

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, s};

    #[test]
    fn a_sliver_is_stored_column_after_column_and_padded_with_zeros() {
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let mut out = vec![f64::NAN; 9];
        sliver(a.view(), 3, &mut out);
        assert_eq!(out, [1.0, 4.0, 0.0, 2.0, 5.0, 0.0, 3.0, 6.0, 0.0]);
    }

    #[test]
    fn strides_do_not_change_the_packed_order() {
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        // Stored transposed: `at.t()` is `a` with unit row stride, the copying branch.
        // (`a.t().to_owned()` would keep the transpose's memory order, and `.t()` of it
        // would be row-major again.)
        let at = a.t().as_standard_layout().into_owned();
        assert_eq!(at.t().strides(), [1, 2]);
        let (mut row_major, mut col_major) = (vec![0.0; 6], vec![0.0; 6]);
        sliver(a.view(), 2, &mut row_major);
        sliver(at.t(), 2, &mut col_major);
        assert_eq!(row_major, col_major);
        // The same columns walked backwards (a negative column stride), with padding.
        let mut reversed = vec![f64::NAN; 9];
        sliver(at.t().slice(s![.., ..;-1]), 3, &mut reversed);
        assert_eq!(reversed, [3.0, 6.0, 0.0, 2.0, 5.0, 0.0, 1.0, 4.0, 0.0]);
        let wide = array![[1.0, 0.0, 2.0, 0.0, 3.0], [4.0, 0.0, 5.0, 0.0, 6.0]];
        let mut strided = vec![0.0; 6];
        sliver(wide.slice(s![.., ..;2]), 2, &mut strided);
        assert_eq!(strided, row_major);
    }

    #[test]
    fn transposing_packs_match_the_definition_for_every_edge() {
        // Rows contiguous (the transposing branch, in registers where the CPU can), with
        // rows and kc on both sides of the 8×8 and 16×16 blocks: (24, 32, 45) has both
        // kinds of block, an 8×4 one and scalar leftovers; (16, 16, 16) one 16×16 block
        // alone; (32, 32, 20) the latent layer's `k`.
        for (rows, width, kc) in [
            (12, 12, 37),
            (32, 32, 64),
            (7, 12, 9),
            (20, 32, 8),
            (9, 12, 3),
            (24, 32, 45),
            (16, 16, 16),
            (32, 32, 40),
            (32, 32, 20),
            (16, 16, 23),
        ] {
            let a = ndarray::Array2::from_shape_fn((rows, kc + 3), |(i, p)| (i * 100 + p) as f32);
            let src = a.slice(s![.., 1..kc + 1]);
            let mut out = vec![f32::NAN; kc * width];
            sliver(src, width, &mut out);
            for p in 0..kc {
                for i in 0..width {
                    let expected = if i < rows { src[[i, p]] } else { 0.0 };
                    assert_eq!(
                        out[p * width + i],
                        expected,
                        "rows {rows} width {width} kc {kc}: ({i}, {p})"
                    );
                }
            }
        }
    }
}
