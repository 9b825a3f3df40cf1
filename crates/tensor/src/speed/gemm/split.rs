//! How one product's tiles are dealt out to the threads, and who packs what.
//!
//! The tiles of `C` are taken in one fixed order (an [`Area`]: blocks of rows, column by
//! column within a block) and cut into spans of equal work, one per thread. A span reads the
//! slivers of packed `A` (one per row tile) and `B` (one per column tile) of the tiles in
//! it. There are two ways to get them packed:
//! - **Each thread packs its own** into its own buffer, then computes its span: one
//!   hand-off per product, and a thread reads only slivers it wrote itself (still in its
//!   L1 and L2). A sliver that two spans read is packed twice; usually that is an edge
//!   tile, since `A` and `B` are read in place where they can be.
//! - **All threads pack into one shared buffer, then compute**: two hand-offs, and half the
//!   slivers come from the other core's cache, but nothing is packed twice. It wins where
//!   both spans need most of a packed operand (a transposed `W` in `x·Wᵀ` when the spans
//!   cross a block of rows).
//!
//! The choice is by an estimate in cycles of the slowest thread (as in `cost::cost`).
//! Measured on a Zen 4 against always packing into the shared buffer (kernel_report, 7
//! processes of each build, shapes in a random order, 2 threads): 128×400×20 went from
//! 76–79 to 99–112 GFLOP/s, 20×200×200 from 86–101 to 108–125, 20×784×200 `tn` on the
//! AVX2 path from 78 to 135; the large shapes stayed within 2 % on AVX-512. The training
//! step did not measurably change.

use std::ops::Range;

use super::shape::Shape;

/// A rectangle of tiles, `rows × cols` (in tile units), and the order one thread computes
/// them in: blocks of `block` row tiles; within a block column tile by column tile (the
/// `B` sliver stays in L1), row tile by row tile (the block of `A` stays in L2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Area {
    pub(super) rows: Range<usize>,
    pub(super) cols: Range<usize>,
    pub(super) block: usize,
}

impl Area {
    fn len(&self) -> usize {
        self.rows.len() * self.cols.len()
    }

    /// The tile at position `p` of the order (every block but the last is full).
    fn tile_at(&self, p: usize) -> (usize, usize) {
        let full = self.block * self.cols.len();
        let first = self.rows.start + p / full * self.block;
        let height = self.block.min(self.rows.end - first);
        let q = p % full;
        (first + q % height, self.cols.start + q / height)
    }

    /// Calls `visit` on the tiles at positions `span`, in order: a division to find the
    /// first, then counters, block by block. (Finding every tile by division cost a
    /// product with `k` = 20, whose tiles are short, 5–10 % on a Zen 4.)
    pub(super) fn for_each_tile(&self, span: &Range<usize>, mut visit: impl FnMut(usize, usize)) {
        let full = self.block * self.cols.len();
        let mut p = span.start;
        while p < span.end {
            let block_start = p / full * full;
            let first = self.rows.start + p / full * self.block;
            let height = self.block.min(self.rows.end - first);
            let end = span.end.min(block_start + height * self.cols.len());
            let (mut col, mut row) = ((p - block_start) / height, (p - block_start) % height);
            for _ in p..end {
                visit(first + row, self.cols.start + col);
                row += 1;
                if row == height {
                    (row, col) = (0, col + 1);
                }
            }
            p = end;
        }
    }

    /// The slivers a span of positions reads, as a rectangle that holds all its tiles:
    /// within one block, the block's rows and the columns from the first tile's to the
    /// last's; across blocks, those blocks' rows and every column.
    fn touched(&self, span: &Range<usize>) -> Area {
        let (first, last) = (self.tile_at(span.start), self.tile_at(span.end - 1));
        let block_start = |ir: usize| ir - (ir - self.rows.start) % self.block;
        let rows = block_start(first.0)..(block_start(last.0) + self.block).min(self.rows.end);
        let full = self.block * self.cols.len();
        let cols = if span.start / full == (span.end - 1) / full {
            first.1..last.1 + 1
        } else {
            self.cols.clone()
        };
        Area {
            rows,
            cols,
            block: self.block,
        }
    }

    /// The elements packing this area's slivers copies (those not read in place).
    pub(super) fn pack_volume(&self, shape: &Shape) -> usize {
        let rows = self.rows.clone().filter(|&t| shape.packs_a(t)).count();
        let cols = self.cols.clone().filter(|&t| shape.packs_b(t)).count();
        (rows * shape.mr + cols * shape.nr) * shape.k
    }
}

/// One thread's share of a product: positions `span` of the plan's order, and the
/// slivers they read (`packs`: a rectangle that holds them all).
pub(super) struct Run {
    pub(super) span: Range<usize>,
    pub(super) packs: Area,
}

/// How a product is computed: the order of its tiles, one run per thread, and whether
/// their slivers are packed once into a shared buffer (else each thread packs its own).
pub(super) struct Plan {
    pub(super) order: Area,
    pub(super) runs: Vec<Run>,
    pub(super) shared: bool,
}

/// A hand-off to the other threads (waking them, and waiting for the last), in cycles.
const HANDOFF: f64 = 10_000.0;

/// Cycles to pack one element, between a copy (¼) and a transpose (½).
const PACK: f64 = 0.35;

/// The plan with the shorter estimated time for its slowest thread: each thread packing
/// its own slivers, or all packing them into one shared buffer first.
pub(super) fn plan(shape: &Shape, block: usize, threads: usize) -> Plan {
    let order = Area {
        rows: 0..shape.row_tiles,
        cols: 0..shape.col_tiles,
        block: block.max(1),
    };
    let threads = threads.min(order.len());
    if threads <= 1 {
        let packs = order.clone();
        let span = 0..order.len();
        return Plan {
            order,
            runs: vec![Run { span, packs }],
            shared: false,
        };
    }
    let runs: Vec<Run> = spans(shape, &order, threads)
        .into_iter()
        .map(|span| Run {
            packs: order.touched(&span),
            span,
        })
        .collect();
    let cycles = |run: &Run, pack: f64| (run.span.len() * shape.mr * shape.k) as f64 + pack * PACK;
    let own = runs
        .iter()
        .map(|run| cycles(run, run.packs.pack_volume(shape) as f64))
        .fold(0.0, f64::max);
    // Shared: every sliver once, on all threads if there is enough of it, then a hand-off.
    let volume = order.pack_volume(shape);
    let pack_threads = if volume >= PARALLEL_MIN_PACK {
        threads
    } else {
        1
    };
    let shared = cycles(&runs[0], (volume / pack_threads) as f64) + HANDOFF;
    Plan {
        shared: shared < own,
        order,
        runs,
    }
}

/// Cuts `order` into `threads` spans (fewer if its tiles are too few) of about equal
/// work, by [`Shape::work`]: a span that holds the half-wide last column tiles of a block
/// gets more tiles, so the threads finish together. (Spans of equal tile counts left one
/// thread 4–8 % more work on 128×784×400 on two threads.)
fn spans(shape: &Shape, order: &Area, threads: usize) -> Vec<Range<usize>> {
    let total = shape.total_work();
    let (mut cuts, mut done, mut position) = (vec![0], 0, 0);
    order.for_each_tile(&(0..order.len()), |ir, jr| {
        if cuts.len() < threads {
            (done, position) = (done + shape.work(ir, jr), position + 1);
            if done * threads >= cuts.len() * total && position > cuts[cuts.len() - 1] {
                cuts.push(position);
            }
        }
    });
    cuts.push(order.len());
    cuts.windows(2)
        .map(|w| w[0]..w[1])
        .filter(|s| !s.is_empty())
        .collect()
}

/// Packing this much goes on the pool in the shared plan: a hand-off costs a few
/// microseconds, as long as packing 32k elements.
pub(super) const PARALLEL_MIN_PACK: usize = 1 << 15;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_area_orders_its_tiles_in_blocks_of_rows() {
        let area = Area {
            rows: 1..6,
            cols: 2..4,
            block: 2,
        };
        let tiles: Vec<_> = (0..area.len()).map(|p| area.tile_at(p)).collect();
        assert_eq!(
            tiles,
            [
                (1, 2),
                (2, 2),
                (1, 3),
                (2, 3),
                (3, 2),
                (4, 2),
                (3, 3),
                (4, 3),
                (5, 2),
                (5, 3)
            ]
        );
    }

    #[test]
    fn stepping_through_a_span_visits_the_tiles_of_its_positions() {
        let area = Area {
            rows: 1..12,
            cols: 2..9,
            block: 4,
        };
        for start in 0..=area.len() {
            for end in start..=area.len() {
                let mut visited = Vec::new();
                area.for_each_tile(&(start..end), |ir, jr| visited.push((ir, jr)));
                let expected: Vec<_> = (start..end).map(|p| area.tile_at(p)).collect();
                assert_eq!(visited, expected, "span {start}..{end}");
            }
        }
    }

    #[test]
    fn a_span_reads_only_slivers_inside_what_it_packs() {
        let order = Area {
            rows: 0..11,
            cols: 0..7,
            block: 4,
        };
        for threads in 1..9 {
            let mut seen = 0;
            for t in 0..threads {
                let span = t * order.len() / threads..(t + 1) * order.len() / threads;
                let packs = order.touched(&span);
                order.for_each_tile(&span, |ir, jr| {
                    assert!(packs.rows.contains(&ir) && packs.cols.contains(&jr));
                    seen += 1;
                });
            }
            assert_eq!(seen, order.len(), "{threads} threads");
        }
    }
}
