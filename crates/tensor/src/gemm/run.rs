//! The two parallel phases of one product: pack the slivers that need packing, then
//! compute the tiles of `C`, each thread its own run of them.

use ndarray::{ArrayView2, Axis, Slice};
use rayon::prelude::*;

use super::shape::Shape;
use super::{pack, MicroKernel};
use crate::Float;

/// Packs every sliver of `A` and `B` into the shared buffer, on `threads` threads.
pub(super) fn pack_both<'a, 'p, T: Float>(
    shape: &Shape,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    mut packed_a: &'p mut [T],
    mut packed_b: &'p mut [T],
    threads: usize,
) {
    let mut jobs = Vec::with_capacity(shape.k_blocks.len() * (shape.row_tiles + shape.col_tiles));
    for &(p0, kc) in &shape.k_blocks {
        let ks = Slice::from(p0..p0 + kc);
        let packs_a = |t| shape.packs_a(t);
        let packs_b = |t| shape.packs_b(t);
        let operands: [(_, _, _, _, _, &dyn Fn(usize) -> bool); 2] = [
            (
                shape.row_tiles,
                shape.mr,
                shape.m,
                a,
                &mut packed_a,
                &packs_a,
            ),
            (
                shape.col_tiles,
                shape.nr,
                shape.n,
                b.reversed_axes(),
                &mut packed_b,
                &packs_b,
            ),
        ];
        for (tiles, width, len, operand, out, packs) in operands {
            let mut operand = operand;
            operand.slice_axis_inplace(Axis(1), ks);
            for t in 0..tiles {
                let mut rows = operand;
                rows.slice_axis_inplace(
                    Axis(0),
                    Slice::from(t * width..((t + 1) * width).min(len)),
                );
                let (sliver, rest) = std::mem::take(out).split_at_mut(width * kc);
                *out = rest;
                if packs(t) {
                    jobs.push((rows, width, sliver));
                }
            }
        }
    }
    let job =
        |(src, width, out): (ArrayView2<'a, T>, usize, &'p mut [T])| pack::sliver(src, width, out);
    // Little to pack (edge tiles only, or a small product): not worth a hand-off.
    let volume: usize = jobs.iter().map(|(_, _, out)| out.len()).sum();
    if threads == 1 || volume < PARALLEL_MIN_PACK {
        jobs.into_iter().for_each(job);
    } else {
        jobs.into_par_iter().for_each(job);
    }
}

/// Packing less than this many elements stays on the calling thread: a rayon hand-off
/// costs a few microseconds, as long as packing 32k elements.
const PARALLEL_MIN_PACK: usize = 1 << 15;

/// Where `C` is: its first element and the distance between its rows.
pub(super) struct Output<T> {
    pub(super) ptr: *mut T,
    pub(super) ldc: usize,
}

// SAFETY: threads write disjoint tiles of `C` through it (each tile belongs to exactly
// one run of `tile_order`, and the runs are disjoint), and `C` outlives the parallel loop.
unsafe impl<T: Send> Send for Output<T> {}
unsafe impl<T: Send> Sync for Output<T> {}

/// The largest tile any micro-kernel has (12×32), for edge tiles computed on the stack.
const MAX_TILE: usize = 12 * 32;

/// Computes `tiles` of `C`, every `k` block in turn (β applies to the first only).
#[allow(clippy::too_many_arguments)]
pub(super) fn compute<T: Float>(
    shape: &Shape,
    kernel: &MicroKernel<T>,
    packed_a: &[T],
    packed_b: &[T],
    tiles: &[(usize, usize)],
    alpha: T,
    beta: T,
    out: &Output<T>,
) {
    let (mr, nr) = (shape.mr, shape.nr);
    for pc in 0..shape.k_blocks.len() {
        let kc = shape.k_blocks[pc].1;
        let beta = if pc == 0 { beta } else { T::one() };
        for &(ir, jr) in tiles {
            let (a, a_rs, a_cs) = shape.a_source(packed_a, pc, ir);
            let (b, ldb) = shape.b_source(packed_b, pc, jr);
            let (i0, j0) = (ir * mr, jr * nr);
            let (rows, cols) = (mr.min(shape.m - i0), nr.min(shape.n - j0));
            // SAFETY: `A[i0.., p0..]` and `B[p0.., j0..]` are readable where the sources
            // say for a whole MR×kc and kc×NR tile (a packed sliver, or a full tile of the
            // operand itself); the kernel is one the CPU supports (the only kind
            // `Element::microkernel` returns).
            if rows == mr && cols == nr {
                // A full tile: rows i0..i0+MR, columns j0..j0+NR are inside C, and no
                // other thread writes them (see `Output`).
                unsafe {
                    let c = out.ptr.add(i0 * out.ldc + j0);
                    (kernel.run)(kc, a, a_rs, a_cs, b, ldb, c, out.ldc, alpha, beta)
                }
            } else {
                // An edge tile: compute the whole tile on the stack, keep the part inside C.
                let mut tile = [T::zero(); MAX_TILE];
                unsafe {
                    let c = tile.as_mut_ptr();
                    (kernel.run)(kc, a, a_rs, a_cs, b, ldb, c, nr, T::one(), T::zero())
                };
                for i in 0..rows {
                    // SAFETY: row i0 + i < m, columns j0..j0+cols < n: inside C, ours alone.
                    let row = unsafe {
                        std::slice::from_raw_parts_mut(out.ptr.add((i0 + i) * out.ldc + j0), cols)
                    };
                    for (x, &t) in row.iter_mut().zip(&tile[i * nr..]) {
                        *x = if beta == T::zero() {
                            alpha * t
                        } else {
                            alpha * t + beta * *x
                        };
                    }
                }
            }
        }
    }
}
