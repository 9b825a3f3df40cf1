//! The parallel plumbing of the elementwise work: when an array is long enough to split
//! over the rayon pool, and how. Below both the ops and the matrix kernel.

use std::borrow::Cow;

use ndarray::{ArrayView, ArrayView1, ArrayViewD, ArrayViewMut, Dimension, Zip};
use rayon::prelude::*;

use crate::{Float, Tensor};

/// Arrays at least this long are processed by elementwise ops on the rayon pool.
pub(crate) const PARALLEL_MIN_LEN: usize = 1 << 15;

/// `f` applied to every element, in parallel for large arrays. The array is walked as one
/// flat run (an `Ix1` view): ndarray's loops over a dynamic-dimensional array step through
/// its dimensions, which cost the ReLU of a `[128, 400]` array 9 µs against 4 (Zen 4).
pub(crate) fn map<T: Float>(x: &Tensor<T>, f: impl Fn(T) -> T + Sync + Send) -> Tensor<T> {
    let x = x.as_standard_layout(); // a copy only for a strided view
    let flat = ArrayView1::from(x.as_slice().expect("a standard-layout array is a slice"));
    let y = match flat.len() >= PARALLEL_MIN_LEN {
        true => Zip::from(&flat).par_map_collect(|&v| f(v)),
        false => flat.mapv(f),
    };
    y.into_shape_with_order(x.raw_dim())
        .expect("the input's shape")
}

/// `d ← f(d, a, b)` elementwise, in place; in parallel for large arrays; flat, as in
/// [`map`], where all three are laid out row-major.
pub(crate) fn update2<T: Float>(
    d: &mut Tensor<T>,
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl Fn(T, T, T) -> T + Sync + Send,
) {
    let (parallel, n) = (a.len() >= PARALLEL_MIN_LEN, a.len());
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
fn for_each3<T: Float, D: Dimension>(
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
pub(crate) fn contiguous<T: Float>(x: &Tensor<T>) -> Cow<'_, [T]> {
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
pub(crate) fn standard_copy<T: Float>(view: ArrayViewD<'_, T>) -> Tensor<T> {
    let mut y = Tensor::zeros(view.raw_dim());
    y.assign(&view);
    y
}

/// `len` zeros, written on the rayon pool when long: a buffer the next pass overwrites
/// (a matrix product with β = 0, the BCE's gradient) still has to be initialised, and
/// one thread filling megabytes with zeros leaves the other idle for ~0.1 ms per MB.
pub(crate) fn zeros_vec<T: Float>(len: usize) -> Vec<T> {
    if len < PARALLEL_MIN_LEN {
        return vec![T::zero(); len];
    }
    let mut v = Vec::with_capacity(len);
    v.par_extend(rayon::iter::repeat_n(T::zero(), len));
    v
}

/// Slices processed by one rayon task in [`zip_chunks`]: 64 KiB of `f32`, long enough to
/// amortise a task hand-off, short enough to balance two threads.
pub(crate) const CHUNK: usize = 1 << 14;

/// `f(out, a, b)` over matching chunks of three equally long slices, in parallel for
/// long ones: the driver of the loops written as [`crate::simd::Kernel`]s.
pub(crate) fn zip_chunks<T: Float>(
    out: &mut [T],
    a: &[T],
    b: &[T],
    f: impl Fn(&mut [T], &[T], &[T]) + Sync + Send,
) {
    assert!(out.len() == a.len() && a.len() == b.len());
    if out.len() < PARALLEL_MIN_LEN {
        f(out, a, b);
        return;
    }
    out.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .zip(b.par_chunks(CHUNK))
        .for_each(|((out, a), b)| f(out, a, b));
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
}
