//! Our own matrix multiply, `C ← α·A·B + β·C`: a packed, cache-blocked GEMM in the style
//! of BLIS (Goto & van de Geijn, *Anatomy of High-Performance Matrix Multiplication*,
//! 2008), with micro-kernels for AVX-512, AVX2+FMA and plain Rust chosen at run time.
//!
//! # The idea in one paragraph
//! `C[i,j] = Σ_p A[i,p]·B[p,j]` costs `2·m·k·n` flops on `m·k + k·n` inputs, so every
//! input value is used `n` (or `m`) times. A CPU can do two vector FMAs per cycle but load
//! only two or three vectors per cycle, from L1 only, so the kernel's job is to reuse
//! each loaded value many times from *registers*. The **micro-kernel** keeps an `MR×NR`
//! tile of `C` in registers and, for each `p`, loads `NR` values of `B` and `MR` of `A`
//! and does `MR·NR` multiply-adds: `MR·NR / (MR + NR)` flops per loaded value. Everything
//! around it (blocking and packing) only makes sure those loads hit L1.
//!
//! # The loops (outermost first)
//! 1. **`pc`: blocks of `kc` shared indices.** Each block ends with a pass over the tile
//!    of `C` (load, add, store: 24 vectors), so fewer blocks save memory traffic; but the
//!    packed sliver of `B` (`kc×NR`, reused for every row tile of a block) should stay
//!    near L1. f32 uses `kc` = 1024, so the VAE's products (`k` ≤ 784) take one block:
//!    a sliver of up to 128 KiB, beyond the 48 KiB L1 but streamed from L2 in order,
//!    which the prefetchers follow (`kernel_report --kc` compares block sizes). `k` is
//!    cut into equal blocks (1500 → 2 × 750, not 1024 + 476), so no block is a sliver
//!    of overhead.
//! 2. **Blocks of `mc` = 16 row tiles (32 of the 6×64 tile),** so the `A` block
//!    (192×1024 f32: 768 KiB of the 1 MiB L2) stays in L2 while every column tile of `B`
//!    passes over it (other blocks where `k` is short: `run::block_tiles`). Fewer rows
//!    would cut a 128-row product into two blocks, split worse between the threads.
//! 3. **`jr`: column tiles** (`NR` wide) and 4. **`ir`: row tiles** (`MR` tall), each one
//!    call of the micro-kernel on a `kc`-long packed sliver of `A` and of `B`.
//!
//! **Packing** (`pack.rs`) copies a sliver, from whatever strides the operand has, into
//! the exact order the kernel reads it, with the edges padded with zeros. That is why
//! transposed operands (backprop's `dC·Bᵀ` and `Aᵀ·dC`) are never copied first: only
//! packing sees strides. But packing costs a pass over the operand, which a product with
//! few rows (the batch) never earns back, so where the operand is already laid out for
//! the kernel (`A` with contiguous rows, `B` with contiguous rows and a stride that does
//! not alias in L1) the kernel reads it in place: its last column tile too, under a mask
//! of its columns (`x86.rs`), and a last row tile where the short twin fits it exactly
//! (`shape.rs` says when, with the figures, and when `B` is packed all the same).
//!
//! # The tile shapes
//! A micro-kernel needs at least `latency × throughput` independent FMAs in flight
//! (4 cycles × 2 per cycle = 8) or the FMA units wait. It keeps `MR·NR/L` accumulator
//! registers (`L` lanes per vector) plus `NR/L` for the row of `B` and one broadcast of
//! `A`, and the CPU has 32 vector registers with AVX-512, 16 with AVX2:
//! - AVX-512, f32: `12×32` = 24 accumulators + 2 + 1 = 27 of 32 registers; per `p`, 2
//!   loads of `B` and 12 broadcasts of `A` (each one load) feed 24 FMAs.
//! - AVX2, f32: `6×16` = 12 accumulators + 2 + 1 = 15 of 16 registers.
//! - f64 has half the lanes: `12×16` and `6×8`.
//! - Each has two **twins for the edges**: one vector wide (`12×16`, `6×8` for f32) for a
//!   last column tile at most half full (400 = 12 × 32 + 16, 200 = 6 × 32 + 8), and fewer
//!   rows (`8×32`, `4×16`) for a short last row tile (128, 200 and 20 rows all end in 8 on
//!   AVX-512). A last column tile narrower still is computed under a mask of its
//!   columns (`x86.rs`).
//! - **6×64** (AVX-512): as many accumulators, 10 loads per `p` instead of 14 (twins
//!   `6×32`, `4×64`; f64 `6×32`), but more edges (128 = 21·6 + 2, 20 = 3·6 + 2). Intel
//!   cores are bound by loads where AMD's are not, so on Intel cores the default path
//!   takes, product by product, whichever tile `cost::choose` finds cheaper; on AMD
//!   cores it keeps `12×32`.
//!
//! # What it reaches
//! The micro-kernel alone runs at about 92 % of a core's FMA peak (a 12×512×32 product in
//! L1); from there, edge tiles, the final pass over each tile of `C`, packing and waking
//! the second thread take their share. Each machine's figures, with the commands that
//! measure them (`kernel_report`, the criterion benches), are in `BENCHMARKS.md`; the
//! history of what was tried, kept or not, in `docs/benchmarks-log.md`.
//!
//! # Threads and determinism
//! The tiles of `C` are taken in one fixed order and cut into spans of equal work, one per
//! thread. Each thread packs the slivers its own span reads into its own buffer and then
//! computes the span (one hand-off per product); where the spans would pack much of the
//! same operand twice, all threads pack it once into a shared buffer first (`split.rs`
//! chooses, and gives the figures). Every element of `C` is summed by one thread in one
//! fixed order (the `kc` blocks in turn, `p` in order within each), so the result is
//! bit-identical whatever the number of threads. The micro-kernels use fused
//! multiply-adds and the portable one does not, so results differ in the last bits
//! *between paths*, never between runs or thread counts; nor between the two AVX-512
//! tiles, which add in the same order (so the tile chosen per product changes no bit).
//!
//! # Choosing the path
//! [`Path::best`] is the widest micro-kernel the CPU runs. Products take [`Path::selected`]:
//! `TENSOR_GEMM` (a [`Path::name`]: `avx512`, `avx512-12x32` and `avx512-6x64` (one tile for
//! every product), `avx2`, `portable` or `matrixmultiply`; a path the CPU lacks falls back
//! to the best), else [`Path::best`]. `TENSOR_GEMM=avx2` measures the AVX2 path on an
//! AVX-512 machine. [`gemm_on`] takes the path as an argument (the tests run every path
//! the machine has).
//!
//! # Safety
//! This module (its micro-kernels in `x86.rs` and `portable.rs`, packing's transposes
//! in `transpose.rs` and its column runs in `pack.rs`, and the writes to `C` in
//! `run.rs`) is the crate's `unsafe` code
//! besides [`crate::speed::simd`]: a [`MicroKernel`] can only be obtained for a path the CPU
//! supports, and the driver hands it operands and a tile of `C` whose bounds it has
//! checked, each tile to one thread.

pub mod caches;
mod cost;
mod element;
pub mod matrixmultiply;
mod pack;
mod path;
mod portable;
mod run;
mod shape;
mod split;
#[cfg(target_arch = "x86_64")]
mod transpose;
#[cfg(target_arch = "x86_64")]
mod x86;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use self::cost::choose;
use self::run::Output;
use self::shape::{Direct, Shape};
use crate::speed::parallel::zeros_vec;
use crate::speed::side_by_side;
use crate::speed::Scalar;

pub use self::element::Element;
pub use self::path::Path;

/// The environment variable that forces a path (a [`Path::name`]: `avx512`, `avx2`, ...).
pub const PATH_ENV: &str = "TENSOR_GEMM";

/// Our kernel keeps products up to this many flops on the calling thread: waking a
/// second thread costs a few microseconds on a virtual machine, as long as a 0.5-MFLOP
/// product takes. Where the line falls depends on the machine: on a Zen 5, 2^19 measured
/// 128×20×400 at 312 GFLOP/s (two threads) against 209 with 2^21 (serial), and 20×200×200
/// at 247 against 174; on an Intel Xeon, 2^21 had measured better (128×20×400: 155 serial,
/// 124 split). The Zen 5 is the machine this kernel is tuned for.
const SERIAL_MAX_FLOPS: usize = 1 << 19;

/// The micro-kernel's signature; see `x86.rs` for what it computes and its contract.
type KernelFn<T> =
    unsafe fn(usize, *const T, usize, usize, *const T, usize, *mut T, usize, T, T, usize);

/// A micro-kernel, its tile and its cache blocking.
#[derive(Clone, Copy)]
pub struct MicroKernel<T> {
    /// Rows of the tile of `C` it computes.
    pub mr: usize,
    /// Columns of the tile.
    pub nr: usize,
    /// Vector registers per row of the tile (`NR` over the lanes of one).
    pub vectors: usize,
    /// The blocking it is used with.
    pub blocking: Blocking,
    run: KernelFn<T>,
    /// The same kernel `NR/2` columns wide, for a last column tile at most half full
    /// (400 columns are 12 tiles of 32 and one of 16): half the multiply-adds.
    half: KernelFn<T>,
    /// The same kernel `short_mr` rows tall, for a last row tile of at most that many
    /// (128, 200 and 20 rows each end in a tile of 8 of 12 on AVX-512).
    short: KernelFn<T>,
    short_mr: usize,
}

/// Cache block sizes (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blocking {
    /// The longest block of the shared dimension `k`.
    pub kc: usize,
    /// Rows of `A` per L2 block (a multiple of the tile's `MR`).
    pub mc: usize,
}

/// `C ← α·A·B + β·C` with `A: [m,k]`, `B: [k,n]`, `C: [m,n]`, views with any strides, on
/// the path [`Path::selected`] chose. With β = 0, `C` is not read (it may hold NaNs).
///
/// # Panics
/// If the shapes do not agree (`matmul: ...` with both shapes).
pub fn gemm<'a, T: Scalar>(
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    gemm_on(Path::selected(), alpha, a, b, beta, c);
}

/// [`gemm`] on the given path (the best supported one if the CPU lacks it).
pub fn gemm_on<'a, T: Scalar>(
    path: Path,
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    gemm_blocked(path, None, alpha, a, b, beta, c);
}

/// [`gemm_on`] with explicit block sizes (`None`: the kernel's own), for tuning them.
pub fn gemm_blocked<'a, T: Scalar>(
    path: Path,
    blocking: Option<Blocking>,
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    c: ArrayViewMut2<'_, T>,
) {
    check_shapes(&a, &b, &c);
    let path = path.or_best();
    let Some(mut kernel) = T::microkernel(path) else {
        return matrixmultiply::gemm_matrixmultiply(alpha, a, b, beta, c);
    };
    // On Intel cores the default AVX-512 path also weighs the 6×64 tile (`cost::choose`).
    let wide = match (path, blocking) {
        (Path::Avx512, None) if path::intel() => T::microkernel(Path::Avx512Wide),
        _ => None,
    };
    kernel.blocking = blocking.unwrap_or(kernel.blocking);
    match wide {
        Some(wide) => product(&[kernel, wide], alpha, a, b, beta, c, true),
        None => product(&[kernel], alpha, a, b, beta, c, true),
    }
}

/// `C ← α·A·B + β·C` with the cheapest of `kernels` (see `cost::choose`); `may_swap`:
/// whether it may compute `Cᵀ = Bᵀ·Aᵀ` instead, when that is estimated cheaper.
fn product<'a, T: Scalar>(
    kernels: &[MicroKernel<T>],
    alpha: T,
    a: ArrayView2<'a, T>,
    b: ArrayView2<'a, T>,
    beta: T,
    mut c: ArrayViewMut2<'_, T>,
    may_swap: bool,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        return c.map_inplace(|x| *x = if beta == T::zero() { beta } else { beta * *x });
    }
    let (kernel, swap) = choose(kernels, &a, &b, may_swap);
    let row_stride_ok = m == 1 || c.strides()[0] >= n as isize;
    if swap || c.strides()[1] != 1 && n > 1 || !row_stride_ok {
        // Compute into a row-major array (of Cᵀ when swapped), then combine into C.
        let (rows, cols) = if swap { (n, m) } else { (m, n) };
        let mut tmp = Array2::zeros((rows, cols));
        let kernels = std::slice::from_ref(kernel);
        if swap {
            product(
                kernels,
                alpha,
                b.t(),
                a.t(),
                T::zero(),
                tmp.view_mut(),
                false,
            );
        } else {
            product(kernels, alpha, a, b, T::zero(), tmp.view_mut(), false);
        }
        let tmp = if swap { tmp.reversed_axes() } else { tmp };
        return c.zip_mut_with(&tmp, |x, &t| {
            *x = if beta == T::zero() { t } else { beta * *x + t }
        });
    }
    let threads = if 2 * m * k * n <= SERIAL_MAX_FLOPS {
        1
    } else {
        side_by_side::threads()
    };
    let mut shape = Shape::new(m, k, n, kernel);
    // Operands read in place where the kernel can (see `Direct`); only the rest is packed.
    shape.a_direct = Direct::of_a(a);
    shape.b_direct = Direct::of_b(b, m, kernel);
    let out = Output {
        ptr: c.as_mut_ptr(),
        ldc: if m == 1 { n } else { c.strides()[0] as usize },
    };
    run::tiles(&shape, kernel, a, b, alpha, beta, &out, threads);
}

/// `A·B` into a new row-major array.
pub fn matmul<'a, T: Scalar>(a: ArrayView2<'a, T>, b: ArrayView2<'a, T>) -> Array2<T> {
    let (m, n) = (a.nrows(), b.ncols());
    let mut c = Array2::from_shape_vec((m, n), zeros_vec(m * n)).expect("m·n zeros");
    gemm(T::one(), a, b, T::zero(), c.view_mut());
    c
}

/// `(m, k, n)` of `A·B → C`.
///
/// # Panics
/// If the shapes do not agree (`matmul: ...` with both shapes).
pub(crate) fn check_shapes<T>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &ArrayViewMut2<'_, T>,
) -> (usize, usize, usize) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "matmul: shapes do not agree: [{m}, {k}] · [{k2}, {n}] → {:?}",
        c.shape()
    );
    (m, k, n)
}
