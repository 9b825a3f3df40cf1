//! One product on the pool: packing the slivers the kernel reads, and computing the tiles
//! of `C`, each thread its own run of them (`split.rs` says which).

use std::ops::Range;

use ndarray::{ArrayView2, Axis, Slice};
use rayon::prelude::*;

use super::shape::Shape;
use super::split::{plan, Area, Plan, Run, PARALLEL_MIN_PACK};
use super::{pack, MicroKernel};
use crate::speed::Scalar;

/// Computes every tile of `C` on `threads` threads, as `split::plan` deals them out.
#[allow(clippy::too_many_arguments)]
pub(super) fn tiles<'a, T: Scalar>(
    shape: &Shape,
    kernel: &MicroKernel<T>,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    alpha: T,
    beta: T,
    out: &Output<T>,
    threads: usize,
) {
    let Plan {
        order,
        runs,
        shared,
    } = plan(shape, block_tiles(shape, kernel, threads), threads);
    let compute = |packed_a: &[T], packed_b: &[T], run: &Run| {
        compute(
            shape,
            kernel,
            packed_a,
            packed_b,
            (&order, &run.span),
            alpha,
            beta,
            out,
        )
    };
    if shared {
        with_buffer(shape, |packed_a, packed_b| {
            let parallel = order.pack_volume(shape) >= PARALLEL_MIN_PACK;
            pack(shape, a, b, packed_a, packed_b, &order, parallel);
            let (packed_a, packed_b) = (&*packed_a, &*packed_b);
            runs.par_iter()
                .for_each(|run| compute(packed_a, packed_b, run));
        })
    } else {
        let pack_and_compute = |run: &Run| {
            with_buffer(shape, |packed_a, packed_b| {
                pack(shape, a, b, packed_a, packed_b, &run.packs, false);
                compute(packed_a, packed_b, run)
            })
        };
        if runs.len() == 1 {
            runs.iter().for_each(pack_and_compute);
        } else {
            runs.par_iter().for_each(pack_and_compute);
        }
    }
}

/// Row tiles per block of the tile order: `mc` rows; where `k` is short (at most
/// [`SHORT_K`], the latent layer's 20), as many as make `mc×512` elements, so that the
/// threads split the columns of one block: with `k` = 20 a tile takes ~150 cycles, and
/// splitting by rows made the AVX2 path 20–30 % slower at 2 threads on a Zen 4 (200×20×784,
/// 128×20×400). On Intel cores the opposite: each thread takes `m / threads` rows. By
/// columns, each computed a third slower while the other ran (two processes side by side
/// did not slow each other), as if the L2 prefetcher pulled in the other's lines of `C`;
/// by rows, on two threads, these products went from 0.88 to 0.99 of gemm's speed.
fn block_tiles<T>(shape: &Shape, kernel: &MicroKernel<T>, threads: usize) -> usize {
    let mc = kernel.blocking.mc;
    let k_len = shape.k_blocks[0].1.max(1);
    let rows = if k_len > SHORT_K {
        mc
    } else if super::path::intel() {
        shape.m.div_ceil(threads.max(1)).next_multiple_of(shape.mr)
    } else {
        mc * 8 * SHORT_K / k_len
    };
    rows / shape.mr
}

/// The longest `k` block that counts as short for [`block_tiles`] (measured with `kc` =
/// 512, where it was `kc/8`; it does not grow with `kc`, which sets the `B` sliver).
const SHORT_K: usize = 64;

/// Runs `f` on this thread's packing buffer, split into packed `A` and packed `B`.
fn with_buffer<T: Scalar>(shape: &Shape, f: impl FnOnce(&mut [T], &mut [T])) {
    let mut buffer = T::take_buffer();
    let (packed_a, packed_b) = shape.buffers(&mut buffer);
    f(packed_a, packed_b);
    T::return_buffer(buffer);
}

/// Packs the slivers of `area` (those not read in place) into the buffer, on the pool if
/// `parallel`.
fn pack<'a, 'p, T: Scalar>(
    shape: &Shape,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    mut packed_a: &'p mut [T],
    mut packed_b: &'p mut [T],
    area: &Area,
    parallel: bool,
) {
    let mut jobs = Vec::with_capacity(shape.k_blocks.len() * (area.rows.len() + area.cols.len()));
    for &(p0, kc) in &shape.k_blocks {
        let ks = Slice::from(p0..p0 + kc);
        let operands = [
            (
                shape.mr,
                shape.m,
                a,
                &mut packed_a,
                &area.rows,
                Shape::packs_a as fn(&Shape, usize) -> bool,
            ),
            (
                shape.nr,
                shape.n,
                b.reversed_axes(),
                &mut packed_b,
                &area.cols,
                Shape::packs_b,
            ),
        ];
        for (width, len, mut operand, out, range, packs) in operands {
            operand.slice_axis_inplace(Axis(1), ks);
            for t in 0..len.div_ceil(width) {
                let mut rows = operand;
                rows.slice_axis_inplace(
                    Axis(0),
                    Slice::from(t * width..((t + 1) * width).min(len)),
                );
                let (sliver, rest) = std::mem::take(out).split_at_mut(width * kc);
                *out = rest;
                if range.contains(&t) && packs(shape, t) {
                    jobs.push((rows, width, sliver));
                }
            }
        }
    }
    let job =
        |(src, width, out): (ArrayView2<'a, T>, usize, &'p mut [T])| pack::sliver(src, width, out);
    if parallel {
        jobs.into_par_iter().for_each(job);
    } else {
        jobs.into_iter().for_each(job);
    }
}

/// Where `C` is: its first element and the distance between its rows.
pub(super) struct Output<T> {
    pub(super) ptr: *mut T,
    pub(super) ldc: usize,
}

// SAFETY: threads write disjoint tiles of `C` through it (each tile belongs to exactly
// one run of `split::plan`, and the runs are disjoint), and `C` outlives the parallel loop.
unsafe impl<T: Send> Send for Output<T> {}
unsafe impl<T: Send> Sync for Output<T> {}

/// The largest tile of any micro-kernel (12×32, 6×64), for short row tiles computed on the stack.
const MAX_TILE: usize = 12 * 32;

/// Computes the `tiles` of `C`, every `k` block in turn (β applies to the first only).
#[allow(clippy::too_many_arguments)]
pub(super) fn compute<T: Scalar>(
    shape: &Shape,
    kernel: &MicroKernel<T>,
    packed_a: &[T],
    packed_b: &[T],
    (order, span): (&Area, &Range<usize>),
    alpha: T,
    beta: T,
    out: &Output<T>,
) {
    let (mr, nr) = (shape.mr, shape.nr);
    // The stack tile of short last row tiles, zeroed once, not per tile (with β = 0 the
    // kernel writes every value read back); and below, each row and column tile's source
    // found once per k block, not per tile: with k = 20 a tile takes ~150 cycles, and
    // finding its sources took a tenth of them (AVX2, 128×20×400: +5–8 % on one thread).
    let mut tile = [T::zero(); MAX_TILE];
    for pc in 0..shape.k_blocks.len() {
        let kc = shape.k_blocks[pc].1;
        let beta = if pc == 0 { beta } else { T::one() };
        let a_sources: Vec<_> = (0..shape.row_tiles)
            .map(|ir| shape.a_source(packed_a, pc, ir))
            .collect();
        let b_sources: Vec<_> = (0..shape.col_tiles)
            .map(|jr| shape.b_source(packed_b, pc, jr))
            .collect();
        order.for_each_tile(span, |ir, jr| {
            let (a, a_rs, a_cs) = a_sources[ir];
            let (b, ldb) = b_sources[jr];
            let (i0, j0) = (ir * mr, jr * nr);
            let (rows, cols) = (mr.min(shape.m - i0), nr.min(shape.n - j0));
            // A short last row of tiles, or a narrow last column, takes a smaller kernel.
            let (run, height) = if rows <= kernel.short_mr {
                (kernel.short, kernel.short_mr)
            } else if cols <= nr / 2 {
                (kernel.half, mr)
            } else {
                (kernel.run, mr)
            };
            // SAFETY: `A[i0.., p0..]` and `B[p0.., j0..]` are readable where the sources
            // say for a whole height×kc tile and the tile's kc×cols (a packed sliver, or the
            // operand itself); the kernel is one the CPU supports (the only kind
            // `Element::microkernel` returns) and touches no column of `B` or `C` past `cols`.
            if rows == height {
                // Rows i0..i0+height, columns j0..j0+cols are inside C, and no other thread
                // writes them (see `Output`).
                unsafe {
                    let c = out.ptr.add(i0 * out.ldc + j0);
                    run(kc, a, a_rs, a_cs, b, ldb, c, out.ldc, alpha, beta, cols)
                }
            } else {
                // A last row tile shorter than the kernel: compute the whole tile on the
                // stack, keep the rows inside C.
                unsafe {
                    let c = tile.as_mut_ptr();
                    run(kc, a, a_rs, a_cs, b, ldb, c, nr, T::one(), T::zero(), cols)
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
        });
    }
}
