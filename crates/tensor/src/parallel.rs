//! The parallel plumbing of the elementwise work: when an array is long enough to split
//! over the rayon pool, and how. Below both the ops and the matrix kernel.

use std::borrow::Cow;

use ndarray::Zip;
use rayon::prelude::*;

use crate::{Float, Tensor};

/// Arrays at least this long are processed by elementwise ops on the rayon pool.
pub(crate) const PARALLEL_MIN_LEN: usize = 1 << 15;

/// `f` applied to every element, in parallel for large arrays.
pub(crate) fn map<T: Float>(x: &Tensor<T>, f: impl Fn(T) -> T + Sync + Send) -> Tensor<T> {
    if x.len() >= PARALLEL_MIN_LEN {
        Zip::from(x).par_map_collect(|&v| f(v))
    } else {
        x.mapv(f)
    }
}

/// `d ← f(d, a, b)` elementwise, in place; in parallel for large arrays.
pub(crate) fn update2<T: Float>(
    d: &mut Tensor<T>,
    a: &Tensor<T>,
    b: &Tensor<T>,
    f: impl Fn(T, T, T) -> T + Sync + Send,
) {
    let zip = Zip::from(d).and(a).and(b);
    if a.len() >= PARALLEL_MIN_LEN {
        zip.par_for_each(|d, &a, &b| *d = f(*d, a, b));
    } else {
        zip.for_each(|d, &a, &b| *d = f(*d, a, b));
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
