//! One product's sizes, its `k` blocks and tiles, and where the kernel reads each tile's
//! operands: a packed sliver in the shared buffer, or the operand itself ([`Direct`]).

use ndarray::ArrayView2;

use super::MicroKernel;
use crate::Float;

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
    /// thread). Nor where a sliver's row is a cache line or less (AVX2's 16 f32) and ≥ 16
    /// row tiles each read a long sliver (`k` ≥ 128) of rows ≥ 1 KiB apart: each `p` is
    /// then a line, often a page, of its own; packed, one run. Zen 4, one thread, AVX2:
    /// 128×784×400 `nn` 91 → 102 GFLOP/s, `tn` 88 → 97 (portable: 31 → 36, 28 → 37). Packing
    /// lost with 4 row tiles (20×784×200 `nn` 84 → 65), `k` = 20 (128×20×400 `nn` 92 →
    /// 86), rows 80 bytes apart (128×400×20 `nn` 74 → 68), and on AVX-512, whose sliver
    /// rows are two lines (128×784×400 `nn` 112 → 107).
    pub(super) fn of_b<T>(
        b: ArrayView2<'_, T>,
        m: usize,
        kernel: &MicroKernel<T>,
    ) -> Option<Direct> {
        let (rows, cols) = Direct::strides(&b)?;
        let size = std::mem::size_of::<T>();
        let aliasing = (rows * size).is_multiple_of(256);
        let one_line = kernel.nr * size <= 64;
        let reread = m.div_ceil(kernel.mr) >= 16 && b.nrows() >= 128 && rows * size >= 1024;
        (cols == 1 && !aliasing && !(one_line && reread)).then_some(Direct {
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
    pub(super) fn buffers<'b, T: Float>(
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

/// A rough cost of computing `a·b` in this orientation, in cycles of one core: the
/// micro-kernel's steps over the tiles, the last ones by a twin where it fits (`MR·NR/L`
/// FMAs at two per cycle, with `L = NR/2` lanes, so `MR·2` cycles per `k`) plus packing,
/// about ¼ cycle per element copied and ¼ per element transposed (in registers). The
/// weights were fitted to which orientation measured faster on the shapes of
/// `kernel_report`; refitted on a Zen 4 (transposing 0.5 → 0.25, putting `Cᵀ` back 6 → 2
/// cycles an element), which changed five orientations, each faster when forced.
///
/// Why orientation matters: in `x·Wᵀ` (every forward layer) `B = Wᵀ` must be transposed
/// to pack, `k·n` elements; computing `Cᵀ = W·xᵀ` reads `W` in place and transposes `x`
/// instead, `m·k` elements, at the price of one pass over `C` to put it back. Which wins
/// depends on the tiles: 20×784×200 `nt` on AVX-512 measured 103 GFLOP/s swapped and 128
/// as it is once the 8-row twin fits its 20 rows (12 + 8); 128×784×400 `nt`, 258 as it is
/// and 240 swapped (Zen 5).
pub(super) fn cost<T>(
    kernel: &MicroKernel<T>,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
) -> f64 {
    let ((m, k), n) = (a.dim(), b.ncols());
    let (mr, nr) = (kernel.mr, kernel.nr);
    let padded = |len: usize, tile: usize, twin: usize| match len % tile {
        0 => len,
        r => len - r + if r <= twin { twin } else { tile },
    };
    let (m_pad, n_pad) = (padded(m, mr, kernel.short_mr), padded(n, nr, nr / 2));
    let compute = (m_pad * n_pad * k) as f64 / nr as f64;
    let (copy, transpose) = (0.25, 0.25);
    // A run of `MR` values costs ~3.6 cycles more (AVX2, 128×400×20 `tn`: 0.85 a value).
    let copy_a = copy + 3.6 / mr as f64;
    let (sa, sb) = (a.strides(), b.strides());
    let pack_a = if Direct::of_a(*a).is_some() {
        if m % mr == 0 || m % mr == kernel.short_mr {
            0.0
        } else {
            transpose * (mr * k) as f64
        }
    } else {
        (if sa[0] == 1 { copy_a } else { transpose }) * (m * k) as f64
    };
    let pack_b = if Direct::of_b(*b, m, kernel).is_some() {
        0.0
    } else {
        (if sb[1] == 1 { copy } else { transpose }) * (k * n) as f64
    };
    compute + pack_a + pack_b
}
