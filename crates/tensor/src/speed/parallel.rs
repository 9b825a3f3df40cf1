//! The parallel plumbing of the elementwise work: when an array is long enough to split
//! over the rayon pool, and how. Every op's loop that runs on the pool goes through one
//! of these helpers (the ops' files hold only their math), and so does the optimizers'
//! fused update ([`zip4`]). A split never changes a bit: each element gets the same
//! operations on any thread, and sums are taken in fixed chunks added in order.

use std::borrow::Cow;

use ndarray::{
    Array1, Array2, ArrayView, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut, ArrayViewMut1,
    Axis, Dimension, Zip,
};
use rayon::prelude::*;

use crate::speed::side_by_side::on_one_thread;
use crate::speed::simd::{dispatch, Kernel};
use crate::speed::Scalar;

/// An array of any dimensionality: what the engine calls a `Tensor`.
type Tensor<T> = ndarray::ArrayD<T>;

/// Arrays at least this long are processed on the rayon pool: below it, handing work to
/// another thread costs more than it saves.
pub const PARALLEL_MIN_LEN: usize = 1 << 15;

/// Whether a loop over `len` values goes on the pool: when it is long enough, and the
/// thread is not already one of several running side by side (there, handing parts of
/// its work to the other threads would only move its cache lines between the cores and
/// add hand-offs: they are busy with their own items).
pub fn split(len: usize) -> bool {
    len >= PARALLEL_MIN_LEN && !on_one_thread()
}

/// `f` applied to every element, in parallel for large arrays. The array is walked as one
/// flat run (an `Ix1` view): ndarray's loops over a dynamic-dimensional array step through
/// its dimensions, which cost the ReLU of a `[128, 400]` array 9 µs against 4 (Zen 4).
pub(crate) fn map<T: Scalar>(x: &Tensor<T>, f: impl Fn(T) -> T + Sync + Send) -> Tensor<T> {
    let x = x.as_standard_layout(); // a copy only for a strided view
    let flat = ArrayView1::from(x.as_slice().expect("a standard-layout array is a slice"));
    let y = match split(flat.len()) {
        true => Zip::from(&flat).par_map_collect(|&v| f(v)),
        false => flat.mapv(f),
    };
    y.into_shape_with_order(x.raw_dim())
        .expect("the input's shape")
}

/// `d ← f(d, a, b)` elementwise, in place; in parallel for large arrays; flat, as in
/// [`map`], where all three are laid out row-major.
pub(crate) fn update2<T: Scalar>(
    d: &mut Tensor<T>,
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl Fn(T, T, T) -> T + Sync + Send,
) {
    let (parallel, n) = (split(a.len()), a.len());
    let same_shape = d.shape() == a.shape() && a.shape() == b.shape();
    let (a_flat, b_flat) = (
        a.view().into_shape_with_order(n),
        b.view().into_shape_with_order(n),
    );
    if let (true, Ok(a), Ok(b)) = (same_shape, a_flat, b_flat) {
        if let Ok(d) = d.view_mut().into_shape_with_order(n) {
            return for_each3(d, a, b, parallel, &f);
        }
    }
    for_each3(d.view_mut(), a.view(), b.view(), parallel, &f);
}

/// [`update2`]'s loop, over views of any dimensionality.
fn for_each3<T: Scalar, D: Dimension>(
    d: ArrayViewMut<'_, T, D>,
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
    parallel: bool,
    f: &(impl Fn(T, T, T) -> T + Sync + Send),
) {
    let zip = Zip::from(d).and(a).and(b);
    match parallel {
        true => zip.par_for_each(|d, &a, &b| *d = f(*d, a, b)),
        false => zip.for_each(|d, &a, &b| *d = f(*d, a, b)),
    }
}

/// A tensor's elements as one slice in row-major order: borrowed when the tensor is
/// already laid out that way (as every freshly computed one is), else copied.
pub(crate) fn contiguous<T: Scalar>(x: &Tensor<T>) -> Cow<'_, [T]> {
    match x.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(x.iter().copied().collect()),
    }
}

/// A row-major copy of any view (a slice, a broadcast, a transpose). Zeros, then
/// `assign`: ndarray's `assign` walks a dynamic-dimensional view in runs, where
/// `to_owned` and `as_standard_layout` step element by element through its index
/// (1024×40 → 1024×20: 5 µs against 44; a `[1024]` gradient broadcast to `[1024, 20]`:
/// 5 against 48; Zen 4).
pub(crate) fn standard_copy<T: Scalar>(view: ArrayViewD<'_, T>) -> Tensor<T> {
    let mut y = Tensor::zeros(view.raw_dim());
    y.assign(&view);
    y
}

/// `len` zeros, written on the rayon pool when long: a buffer the next pass overwrites
/// (a matrix product with β = 0, the BCE's gradient) still has to be initialised, and
/// one thread filling megabytes with zeros leaves the other idle for ~0.1 ms per MB.
pub(crate) fn zeros_vec<T: Scalar>(len: usize) -> Vec<T> {
    if !split(len) {
        return vec![T::zero(); len];
    }
    let mut v = Vec::with_capacity(len);
    v.par_extend(rayon::iter::repeat_n(T::zero(), len));
    v
}

/// Elements processed by one rayon task: 64 KiB of `f32`, long enough to amortise a task
/// hand-off, short enough to balance two threads. Also the length of the runs whose
/// partial sums `chunked_sum` adds in order (so changing it changes those sums' bits).
pub const CHUNK: usize = 1 << 14;

/// `f(out, a, b)` over matching chunks of three equally long slices, in parallel for
/// long ones: the driver of the loops written as [`crate::speed::simd::Kernel`]s.
pub(crate) fn zip_chunks<T: Scalar>(
    out: &mut [T],
    a: &[T],
    b: &[T],
    f: impl Fn(&mut [T], &[T], &[T]) + Sync + Send,
) {
    assert!(out.len() == a.len() && a.len() == b.len());
    if !split(out.len()) {
        f(out, a, b);
        return;
    }
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .zip(b.par_chunks(CHUNK))
        .for_each(|((out, a), b)| f(out, a, b));
}

/// `f(chunk)` over a slice cut into runs of [`CHUNK`], on the pool when the slice is
/// long: the driver of an in-place loop (tanh's forward).
pub(crate) fn for_each_chunk_mut<T: Scalar>(v: &mut [T], f: impl Fn(&mut [T]) + Sync + Send) {
    if !split(v.len()) {
        return f(v);
    }
    v.par_chunks_mut(CHUNK).for_each(f);
}

/// `f(i, chunk_i)` over `v` cut into chunks of `len` (the last may be shorter), on the pool
/// when the loop touches `work` values or more in all (`v`'s length, or more when each
/// chunk reads more than it writes): the driver of loops over images or rows (the
/// convolutions' im2col).
pub(crate) fn for_each_indexed_chunk_mut<T: Scalar>(
    v: &mut [T],
    len: usize,
    work: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    let len = len.max(1);
    if !split(work.max(v.len())) {
        return v.chunks_mut(len).enumerate().for_each(|(i, c)| f(i, c));
    }
    v.par_chunks_mut(len).enumerate().for_each(|(i, c)| f(i, c));
}

/// `Σ f(a_chunk, b_chunk)` over matching runs of [`CHUNK`] of two equally long slices:
/// the partial sums are computed on the pool when the slices are long, and always added
/// in order, so the result's bits do not depend on the number of threads.
pub(crate) fn chunked_sum<T: Scalar>(
    a: &[T],
    b: &[T],
    f: impl Fn(&[T], &[T]) -> f64 + Sync + Send,
) -> f64 {
    assert_eq!(a.len(), b.len(), "chunked_sum: slices of different lengths");
    let partials: Vec<f64> = if split(a.len()) {
        a.par_chunks(CHUNK)
            .zip(b.par_chunks(CHUNK))
            .map(|(a, b)| f(a, b))
            .collect()
    } else {
        a.chunks(CHUNK)
            .zip(b.chunks(CHUNK))
            .map(|(a, b)| f(a, b))
            .collect()
    };
    partials.iter().sum()
}

/// `rows` copies of `row` as a `[rows, row.len()]` array, filled on the pool when large
/// (the output of a linear layer starts as copies of its bias).
pub(crate) fn repeat_rows<T: Scalar>(row: &[T], rows: usize) -> Array2<T> {
    let mut y = Array2::from_shape_vec((rows, row.len()), zeros_vec(rows * row.len()))
        .expect("rows × len zeros");
    let fill = |mut out: ArrayViewMut1<T>| out.assign(&ArrayView1::from(row));
    if split(y.len()) {
        y.axis_iter_mut(Axis(0)).into_par_iter().for_each(fill);
    } else {
        y.axis_iter_mut(Axis(0)).for_each(fill);
    }
    y
}

/// Rows per partial sum in [`column_sums`]. A fixed size, so the order of the additions,
/// and the result's bits, do not depend on the number of threads.
const ROWS_PER_PARTIAL: usize = 128;

/// `Σ_i x[i, ·]`: partial sums over blocks of rows, on the pool when large, added in
/// order (a linear layer's bias gradient).
pub(crate) fn column_sums<T: Scalar>(x: ArrayView2<'_, T>) -> Array1<T> {
    let blocks = x.axis_chunks_iter(Axis(0), ROWS_PER_PARTIAL);
    let partials: Vec<Array1<T>> = if split(x.len()) {
        blocks
            .into_par_iter()
            .map(|b| b.sum_axis(Axis(0)))
            .collect()
    } else {
        blocks.map(|b| b.sum_axis(Axis(0))).collect()
    };
    partials
        .into_iter()
        .reduce(|a, b| a + b)
        .unwrap_or_else(|| Array1::zeros(x.ncols()))
}

/// Runs `f` over four lists of equally shaped arrays elementwise (parameter `i`, its
/// gradient and its two state arrays), as one parallel region when there is enough work:
/// the one fused pass an optimizer's update rule is written as (memory-bound: one read
/// of each).
///
/// All the arrays are cut into pieces of at most [`CHUNK`] elements and the pieces go to
/// the pool together: one hand-off per step instead of one per large parameter, and the
/// small ones (biases, the latent layers) shared out too instead of run on the calling
/// thread. Each element is updated by one thread with the same operations, so the split
/// does not change any bits.
///
/// Contiguous arrays (all of them, in practice) go through [`dispatch`]: the loop, with
/// `f` inlined into it, runs in its AVX2 version where the CPU has one, twice as wide as
/// the portable SSE2 build for Adam's square root and division. `f` should not call
/// [`mul_add`](num_traits::Float::mul_add): without it the arithmetic is the same IEEE
/// operations in every version, so both give identical bits.
pub fn zip4<T: Scalar, F: Fn(&mut T, T, &mut T, &mut T) + Sync + Send>(
    params: &mut [&mut Tensor<T>],
    grads: &[&Tensor<T>],
    s1: &mut [Tensor<T>],
    s2: &mut [Tensor<T>],
    f: F,
) {
    let f = &f;
    let total: usize = grads.iter().map(|g| g.len()).sum();
    let parallel = split(total);
    let mut pieces = Vec::new();
    let arrays = params.iter_mut().zip(grads).zip(s1.iter_mut().zip(s2));
    for ((p, g), (s1, s2)) in arrays {
        let laid_out = |t: &Tensor<T>| t.is_standard_layout();
        if !(laid_out(p) && laid_out(g) && laid_out(s1) && laid_out(s2)) {
            let zip = Zip::from(&mut **p).and(*g).and(s1).and(s2);
            if parallel {
                zip.par_for_each(|p, &g, a, b| f(p, g, a, b));
            } else {
                zip.for_each(|p, &g, a, b| f(p, g, a, b));
            }
            continue;
        }
        let slice = "a standard-layout array is a slice";
        let (p, g) = (p.as_slice_mut().expect(slice), g.as_slice().expect(slice));
        let (s1, s2) = (
            s1.as_slice_mut().expect(slice),
            s2.as_slice_mut().expect(slice),
        );
        let chunks = (p.chunks_mut(CHUNK).zip(g.chunks(CHUNK)))
            .zip(s1.chunks_mut(CHUNK).zip(s2.chunks_mut(CHUNK)));
        pieces.extend(chunks.map(|((p, g), (s1, s2))| Zip4 { p, g, s1, s2, f }));
    }
    if parallel {
        pieces.into_par_iter().for_each(dispatch);
    } else {
        pieces.into_iter().for_each(dispatch);
    }
}

/// [`zip4`]'s loop over equally long slices, as a [`Kernel`] for [`dispatch`].
struct Zip4<'a, T, F> {
    p: &'a mut [T],
    g: &'a [T],
    s1: &'a mut [T],
    s2: &'a mut [T],
    f: &'a F,
}

impl<T: Scalar, F: Fn(&mut T, T, &mut T, &mut T)> Kernel for Zip4<'_, T, F> {
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let pairs = self.s1.iter_mut().zip(self.s2.iter_mut());
        for ((p, &g), (s1, s2)) in self.p.iter_mut().zip(self.g).zip(pairs) {
            (self.f)(p, g, s1, s2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `rows × 100` test values; column-major when `transposed` (walked the slow way).
    fn values(rows: usize, salt: usize, transposed: bool) -> Tensor<f64> {
        let shape = if transposed { [100, rows] } else { [rows, 100] };
        let x = Tensor::from_shape_fn(shape.to_vec(), |ix| {
            ((ix[0] * 31 + ix[1] * 7 + salt) % 23) as f64 - 11.0
        });
        if transposed {
            x.reversed_axes()
        } else {
            x
        }
    }

    /// The flat walk and the dimension-by-dimension one, serial and parallel, give what
    /// ndarray's own serial loops give, element for element.
    #[test]
    fn map_and_update2_match_plain_loops_on_every_path() {
        let f = |v: f64| v * v - 3.0 * v;
        let g = |d: f64, a: f64, b: f64| d * a - b;
        for rows in [3, PARALLEL_MIN_LEN / 100 + 7] {
            for transposed in [false, true] {
                let (x, a, b) = (
                    values(rows, 0, transposed),
                    values(rows, 1, transposed),
                    values(rows, 2, transposed),
                );
                assert_eq!(x.is_standard_layout(), !transposed);
                assert_eq!(map(&x, f), x.mapv(f), "map, {rows} rows");
                let mut d = x.clone();
                update2(&mut d, &a, &b, g);
                let mut expected = x.clone();
                Zip::from(&mut expected)
                    .and(&a)
                    .and(&b)
                    .for_each(|d, &a, &b| *d = g(*d, a, b));
                assert_eq!(d, expected, "update2, {rows} rows");
            }
        }
    }

    #[test]
    fn zeros_vec_is_all_zeros_on_both_paths() {
        for len in [0, 7, PARALLEL_MIN_LEN + 3] {
            let v = zeros_vec::<f32>(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 0.0));
        }
    }
}
