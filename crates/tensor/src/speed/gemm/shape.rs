//! One product's sizes, its `k` blocks and tiles, and where the kernel reads each tile's
//! operands: a packed sliver in the shared buffer, or the operand itself ([`Direct`]).

use ndarray::ArrayView2;

use super::MicroKernel;
use crate::speed::Scalar;

/// The sizes of one product and where each packed sliver lives in the shared buffer.
pub(super) struct Shape {
    pub(super) m: usize,
    pub(super) k: usize,
    pub(super) n: usize,
    /// Row tiles (`⌈m/MR⌉`) and column tiles (`⌈n/NR⌉`).
    pub(super) row_tiles: usize,
    pub(super) col_tiles: usize,
    pub(super) mr: usize,
    pub(super) nr: usize,
    /// Rows of the kernel's short twin (a last row tile of exactly this many is read in
    /// place).
    pub(super) short_mr: usize,
    /// The `k` blocks: `(start, length)`, equal lengths of at most `kc`.
    pub(super) k_blocks: Vec<(usize, usize)>,
    /// Where the kernel reads `A` and `B` in place, if it can (which tiles: `packs_a/_b`).
    pub(super) a_direct: Option<Direct>,
    pub(super) b_direct: Option<Direct>,
}

/// An operand the micro-kernel reads in place, without packing: its first element and
/// its strides, in elements.
///
/// The kernel reads `A[i, p]` one scalar at a time (a broadcast), so it could read any
/// strides; it reads a row of `B` as whole vectors, so `B` needs unit column stride. When
/// the operand is already laid out well, packing copies every element once to save
/// nothing: in the training step it cost a third of the kernel's own time. A last row
/// tile is still packed, zero-padded (unless the short twin fits it exactly); a last
/// column tile is not: the kernels mask `B`'s loads and `C`'s stores to its columns.
#[derive(Clone, Copy)]
pub(super) struct Direct {
    /// Address of element `[0, 0]`, as an integer (so `Shape` stays `Send`).
    pub(super) base: usize,
    pub(super) rows: usize,
    pub(super) cols: usize,
}

impl Direct {
    pub(super) fn strides<T>(v: &ArrayView2<'_, T>) -> Option<(usize, usize)> {
        let s = v.strides();
        (s[0] >= 0 && s[1] >= 0).then_some((s[0] as usize, s[1] as usize))
    }

    /// `A` in place when its rows are contiguous (`A·B`, `A·Bᵀ`): packing it would be a
    /// transpose, the slowest copy there is. A column-major `A` (`Aᵀ·B`) packs with
    /// plain copies into slivers that read better than its strided columns (measured on
    /// a Xeon: 784×128×400 `tn`, 310 GFLOP/s in place, 355 packed), unless it stays in L1
    /// (batch 20): its columns are then as good as a sliver's (Zen 5, 20×200×50 `tn`: 146
    /// GFLOP/s packed, 189 in place).
    pub(super) fn of_a<T>(a: ArrayView2<'_, T>) -> Option<Direct> {
        let (rows, cols) = Direct::strides(&a)?;
        let small = rows == 1 && a.len() * std::mem::size_of::<T>() <= A_IN_PLACE_BYTES;
        (cols == 1 || small).then_some(Direct {
            base: a.as_ptr() as usize,
            rows,
            cols,
        })
    }

    /// `B` in place when its rows are contiguous, unless the row stride is a multiple of
    /// 256 bytes: then the rows of a sliver fall into a few of L1's 64 sets and evict
    /// each other (measured on a Xeon: 1024³ `nn`, 140 GFLOP/s in place, 180 packed, one
    /// thread). Nor where ≥ 8 row tiles each reread a long sliver (`k` ≥ 128) of rows
    /// ≥ 1 KiB apart, each `p` a line, often a page, of its own (packed: one run), if
    /// either
    /// - the sliver's row is a cache line or less (AVX2's 16 f32). Zen 4, one thread:
    ///   128×784×400 `nn` 91 → 102 GFLOP/s, `tn` 88 → 97 (portable: 31 → 36, 28 → 37); but
    ///   on AVX-512, whose sliver rows are two lines, 128×784×400 `nn` 112 → 107; or
    /// - the CPU is Intel's. An Ice Lake Xeon, one thread, AVX-512, packed over in place:
    ///   the large VAE shapes `nn` and `tn` +7 to +23 % with the 12×32 tile, +3 to +37 %
    ///   with 6×64 (7 paired processes).
    ///
    /// Packing lost with 4 row tiles (Zen 4, 20×784×200 `nn` 84 → 65; the Xeon 0.59–0.88),
    /// and with `k` = 20 it was level on the Xeon (0.95–1.07) and lost on the Zen 4
    /// (128×20×400 `nn` 92 → 86).
    pub(super) fn of_b<T>(
        b: ArrayView2<'_, T>,
        m: usize,
        kernel: &MicroKernel<T>,
    ) -> Option<Direct> {
        let (rows, cols) = Direct::strides(&b)?;
        let size = std::mem::size_of::<T>();
        let aliasing = (rows * size).is_multiple_of(256);
        let one_line = kernel.nr * size <= 64;
        let reread = m.div_ceil(kernel.mr) >= 8 && b.nrows() >= 128 && rows * size >= 1024;
        let packs = reread && (one_line || super::path::intel());
        (cols == 1 && !aliasing && !packs).then_some(Direct {
            base: b.as_ptr() as usize,
            rows,
            cols,
        })
    }

    /// The address of element `[i, j]`.
    pub(super) fn at<T>(&self, i: usize, j: usize) -> *const T {
        (self.base as *const T).wrapping_add(i * self.rows + j * self.cols)
    }
}

/// The largest column-major `A` read in place: a 32 KiB L1 (Zen 4; the Zen 5 has 48). Up
/// from 16 KiB: 128×400×20 `tn`, whose swapped `A` is 32 KiB, +9 % on one thread.
const A_IN_PLACE_BYTES: usize = 32 << 10;

impl Shape {
    pub(super) fn new<T>(m: usize, k: usize, n: usize, kernel: &MicroKernel<T>) -> Shape {
        let count = k.div_ceil(kernel.blocking.kc.max(1));
        let len = k.div_ceil(count);
        let k_blocks = (0..k).step_by(len).map(|p| (p, len.min(k - p))).collect();
        let (mr, nr) = (kernel.mr, kernel.nr);
        let (row_tiles, col_tiles) = (m.div_ceil(mr), n.div_ceil(nr));
        Shape {
            m,
            k,
            n,
            row_tiles,
            col_tiles,
            mr,
            nr,
            short_mr: kernel.short_mr,
            k_blocks,
            a_direct: None,
            b_direct: None,
        }
    }

    /// Splits the (reused) buffer into packed `A` (all row tiles × `k`) and packed `B`,
    /// each starting on a 64-byte boundary (one cache line, one AVX-512 vector).
    pub(super) fn buffers<'b, T: Scalar>(
        &self,
        buffer: &'b mut Vec<T>,
    ) -> (&'b mut [T], &'b mut [T]) {
        let pad = 64 / std::mem::size_of::<T>();
        let (a_len, b_len) = (
            self.row_tiles * self.mr * self.k,
            self.col_tiles * self.nr * self.k,
        );
        let a_room = a_len.next_multiple_of(pad);
        if buffer.len() < a_room + b_len + pad {
            *buffer = vec![T::zero(); a_room + b_len + pad];
        }
        let skip = buffer.as_ptr().align_offset(64).min(pad);
        let (a, b) = buffer[skip..].split_at_mut(a_room);
        (&mut a[..a_len], &mut b[..b_len])
    }

    /// The work of tile `(ir, jr)`, in rows × half tiles: the short twin's rows for a
    /// short last row tile (all its columns), half for a last column tile at most half full.
    pub(super) fn work(&self, ir: usize, jr: usize) -> usize {
        let (rows, cols) = (self.m - ir * self.mr, self.n - jr * self.nr);
        match (rows <= self.short_mr, cols <= self.nr / 2) {
            (true, _) => 2 * self.short_mr,
            (false, true) => self.mr,
            (false, false) => 2 * self.mr,
        }
    }

    /// The [`Shape::work`] of all the tiles (all rows but the last, and all columns but the
    /// last, are full).
    pub(super) fn total_work(&self) -> usize {
        let row = |ir| (self.col_tiles - 1) * self.work(ir, 0) + self.work(ir, self.col_tiles - 1);
        (self.row_tiles - 1) * row(0) + row(self.row_tiles - 1)
    }

    /// Whether row tile `ir` is read from a packed sliver (else in place): a last row tile
    /// is, zero-padded, unless the short twin takes exactly its rows.
    pub(super) fn packs_a(&self, ir: usize) -> bool {
        let rows = self.mr.min(self.m - ir * self.mr);
        self.a_direct.is_none() || rows != self.mr && rows != self.short_mr
    }

    /// Whether column tile `jr` is read from a packed sliver (else in place). Every tile
    /// of a direct `B` is read in place, the last too: the kernels read only its columns.
    pub(super) fn packs_b(&self, _jr: usize) -> bool {
        self.b_direct.is_none()
    }

    /// Where the kernel reads row tile `ir` of `A` in `k` block `pc`: pointer, row and
    /// column strides.
    pub(super) fn a_source<T>(
        &self,
        packed: &[T],
        pc: usize,
        ir: usize,
    ) -> (*const T, usize, usize) {
        let (p0, kc) = self.k_blocks[pc];
        match self.a_direct {
            Some(a) if !self.packs_a(ir) => (a.at(ir * self.mr, p0), a.rows, a.cols),
            _ => {
                let sliver =
                    &packed[self.row_tiles * self.mr * p0 + ir * self.mr * kc..][..self.mr * kc];
                (sliver.as_ptr(), 1, self.mr)
            }
        }
    }

    /// Where the kernel reads column tile `jr` of `B` in `k` block `pc`: pointer and row
    /// stride.
    pub(super) fn b_source<T>(&self, packed: &[T], pc: usize, jr: usize) -> (*const T, usize) {
        let (p0, kc) = self.k_blocks[pc];
        match self.b_direct {
            Some(b) if !self.packs_b(jr) => (b.at(p0, jr * self.nr), b.rows),
            _ => {
                let sliver =
                    &packed[self.col_tiles * self.nr * p0 + jr * self.nr * kc..][..self.nr * kc];
                (sliver.as_ptr(), self.nr)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speed::gemm::cost::tests::tile;

    #[test]
    fn the_total_work_is_the_sum_of_the_tiles_work() {
        for kernel in [tile(12, 32, 2, 8), tile(6, 64, 4, 4)] {
            for (m, n) in [
                (1, 1),
                (5, 20),
                (20, 200),
                (128, 400),
                (130, 784),
                (12, 32),
                (7, 100),
            ] {
                let shape = Shape::new(m, 3, n, &kernel);
                let tiles = (0..shape.row_tiles)
                    .flat_map(|ir| (0..shape.col_tiles).map(move |jr| (ir, jr)));
                let sum: usize = tiles.map(|(ir, jr)| shape.work(ir, jr)).sum();
                assert_eq!(
                    shape.total_work(),
                    sum,
                    "{m}×{n} on {}×{}",
                    kernel.mr,
                    kernel.nr
                );
            }
        }
    }
}
