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

/// A rough cost of computing `a·b` in this orientation, in cycles of one core: the
/// micro-kernel's steps over the tiles, the last ones by a twin where it fits (`MR·NR/L`
/// FMAs at two per cycle, `L` lanes a vector, so `MR·V/2` cycles per `k` with `V` vectors
/// a row) plus packing,
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
    let compute = (m_pad * n_pad * k * kernel.vectors) as f64 / (2 * nr) as f64;
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

/// The kernel and orientation for `a·b`: `(kernel, swap)`, where `swap` computes `Cᵀ =
/// Bᵀ·Aᵀ` (only if `may_swap`) and puts it back into `C`, a strided pass of about 2
/// cycles an element. Each kernel takes the orientation of lower [`cost`]; between
/// kernels, the loads of their tiles count too ([`loads`]), and the first of equals wins.
pub(super) fn choose<'k, T>(
    kernels: &'k [MicroKernel<T>],
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    may_swap: bool,
) -> (&'k MicroKernel<T>, bool) {
    let put_back = 2.0 * (a.nrows() * b.ncols()) as f64;
    let each = kernels.iter().map(|kernel| {
        let as_is = cost(kernel, a, b);
        let swapped = may_swap.then(|| cost(kernel, &b.t(), &a.t()) + put_back);
        match swapped {
            Some(cycles) if cycles < as_is => (
                kernel,
                true,
                cycles + loads(kernel, b.ncols(), a.nrows(), a.ncols()),
            ),
            _ => (
                kernel,
                false,
                as_is + loads(kernel, a.nrows(), b.ncols(), a.ncols()),
            ),
        }
    });
    let (kernel, swap, _) = each.min_by(|x, y| x.2.total_cmp(&y.2)).expect("a kernel");
    (kernel, swap)
}

/// The cycles the tiles of an `m×n` product spend loading, beyond [`cost`]'s FMAs: per
/// step of `p`, a tile loads a broadcast of `A` a row and a vector of `B` a column, each
/// taking half an FMA's slot (two FMAs a cycle). The 6×64 tile (24 FMAs, 10 loads) then
/// costs 6 % less than 12×32 (14 loads), where an Ice Lake Xeon measured it 5 % faster
/// with no edge tiles, and 12–27 % on the VAE's large shapes with `B` packed; and its
/// half twin 6×32 (12 FMAs, 8 loads) costs more per FMA than 12×32, as the Xeon measured
/// where `n` = 20 (0.79–0.86). Edges as the kernels take them (`run::compute`): the half
/// twin for a last column at most half full, the short twin (full width) for a short
/// last row.
fn loads<T>(kernel: &MicroKernel<T>, m: usize, n: usize, k: usize) -> f64 {
    let (mr, nr, vectors) = (kernel.mr, kernel.nr, kernel.vectors);
    let row = (mr + vectors) * (n / nr)
        + match n % nr {
            0 => 0,
            cols if cols <= nr / 2 => mr + vectors / 2,
            _ => mr + vectors,
        };
    let last_row = match m % mr {
        0 => 0,
        rows if rows <= kernel.short_mr => (kernel.short_mr + vectors) * n.div_ceil(nr),
        _ => row,
    };
    ((m / mr) * row + last_row) as f64 * k as f64 / 4.0
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::speed::gemm::{portable::portable, Blocking};

    /// A kernel for the cost model only (it runs the portable loop, never called here).
    fn tile(mr: usize, nr: usize, vectors: usize, short_mr: usize) -> MicroKernel<f32> {
        let blocking = Blocking { kc: 1024, mc: 192 };
        let run = portable::<f32, 4, 8>;
        let (half, short) = (run, run);
        MicroKernel {
            mr,
            nr,
            vectors,
            short_mr,
            blocking,
            run,
            half,
            short,
        }
    }

    fn chosen(kernels: &[MicroKernel<f32>], (m, k, n): (usize, usize, usize)) -> (usize, bool) {
        let (a, b) = (Array2::zeros((m, k)), Array2::zeros((k, n)));
        let (kernel, swap) = choose(kernels, &a.view(), &b.view(), true);
        (kernel.nr, swap)
    }

    #[test]
    fn the_tile_with_fewer_loads_wins_where_both_fit_and_edges_decide_the_rest() {
        let both = [tile(12, 32, 2, 8), tile(6, 64, 4, 4)];
        // 384 rows and 512 columns are whole tiles of either: the same FMAs, fewer loads.
        assert_eq!(chosen(&both, (384, 256, 512)).0, 64);
        assert_eq!(chosen(&both[1..], (384, 256, 512)).0, 64);
        // Batch 20 is 12 + 8 rows, exactly, but 6 + 6 + 6 + 2 (a short twin of 4).
        assert_eq!(chosen(&both, (20, 784, 200)).0, 32);
        // 20 columns: a 12×32 tile, against the 6×64 kernel's half twin (6×32), which loads
        // 8 values for 12 FMAs.
        assert_eq!(chosen(&both, (256, 400, 20)).0, 32);
        // With one kernel, only the orientation is chosen.
        assert_eq!(chosen(&both[..1], (384, 256, 512)), (32, false));
    }

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
