//! Which micro-kernel, and which orientation, a product takes: an estimate in cycles of
//! each choice ([`cost`], [`loads`]), and the cheapest ([`choose`]).

use ndarray::ArrayView2;

use super::shape::Direct;
use super::MicroKernel;

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
pub(super) mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::speed::gemm::{portable::portable, Blocking};

    /// A kernel for the cost model only (it runs the portable loop, never called here).
    pub(in crate::speed::gemm) fn tile(
        mr: usize,
        nr: usize,
        vectors: usize,
        short_mr: usize,
    ) -> MicroKernel<f32> {
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
}
