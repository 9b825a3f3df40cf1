//! The three products a convolution lowers to, over a whole batch: what `conv2d.rs` and
//! `conv_transpose2d.rs` are built on (each uses all three, in different roles).
//!
//! ```text
//! convolve:    y_b  = M · im2col(x_b)            [m, rows] · [rows, L]      (+ a bias per row of M)
//! deconvolve:  x_b += col2im(Mᵀ · dy_b)          [rows, m] · [m, L]
//! correlate:   dM  += Σ_b a_b · im2col(x_b)ᵀ      [m, L] · [L, rows]
//! ```
//! A batch is lowered a group of images at a time (`im2col.rs`): a group's columns side by
//! side make one product wide enough for the GEMM. The groups are small, a few hundred
//! kilobytes of `cols` ([`GROUP_VALUES`]), so that a group's lowering, its product and its
//! copy back all stay in the core's own L2 cache, and they run **side by side, one group
//! per thread**, each with its own scratch buffers, its lowering loops and its GEMM on
//! its own thread (`speed::parallel::side_by_side`): no hand-off inside a group, no cache
//! line shared between the threads. (One large group split
//! between the threads instead wrote and packed several megabytes through L3 per layer,
//! with a hand-off at each of its three steps.) A batch of one group runs it on every
//! thread, as before.
//!
//! The group size depends on the shapes only, never on the thread count, and each image is
//! in one group, so `convolve` and `deconvolve` give the same bits on any number of threads.
//! `correlate` sums over the batch: each group's product goes into its own partial sum,
//! [`WAVE`] groups at a time in parallel, and the partials are added to `dM` in the order
//! of the groups, so its bits do not depend on the thread count either.

use ndarray::ArrayView2;

use super::conv2d::{matrix, matrix_mut};
use super::im2col::{batch_major, channel_major, col2im, im2col, Window};
use crate::speed::gemm::gemm;
use crate::speed::side_by_side::{map_side_by_side, side_by_side};
use crate::speed::workspace::{with_buffers, SLOTS};
use crate::Float;

/// The most values of `cols` one group may hold (512 KiB of `f32`, within a core's L2),
/// unless one image alone needs more. (Sixteen in this crate's own tests, so that their
/// small images still fall in several groups and waves.)
pub const GROUP_VALUES: usize = if cfg!(test) { 16 } else { 1 << 17 };

/// Groups whose partial weight gradients are computed at once (so at most this many
/// partials, each the size of the weights, are held). Two in this crate's own tests.
pub const WAVE: usize = if cfg!(test) { 2 } else { 8 };

/// Images per group when each lowers to `per_image` values of `cols`: the batch cut into
/// as few groups as [`GROUP_VALUES`] allows, of equal sizes (so two threads get equal
/// work: 128 images of at most 41 go in 4 groups of 32, not 41 + 41 + 41 + 5).
pub(crate) fn group_size(batch: usize, per_image: usize) -> usize {
    group_size_within(batch, per_image, GROUP_VALUES)
}

/// [`group_size`] for groups of at most `cap` values of `cols`.
fn group_size_within(batch: usize, per_image: usize, cap: usize) -> usize {
    let batch = batch.max(1);
    let most = (cap / per_image.max(1)).clamp(1, batch);
    batch.div_ceil(batch.div_ceil(most))
}

/// `y_b ← M · im2col(x_b) + bias` for every image `x_b` of the window `g` (`x`
/// `[n, C, H, W]` row-major, `y` `[n, m, L]`): a convolution's forward, and a transposed
/// convolution's input gradient.
pub(crate) fn convolve<T: Float>(
    m: ArrayView2<'_, T>,
    x: &[T],
    g: &Window,
    bias: Option<&[T]>,
    y: &mut [T],
) {
    let (l, rows, image, c) = (g.positions(), g.rows(), g.image_len(), m.nrows());
    let group = group_size(x.len() / image, rows * l);
    let lens = [rows * group * l, c * group * l, 0];
    let groups: Vec<_> = x
        .chunks(group * image)
        .zip(y.chunks_mut(group * c * l))
        .collect();
    side_by_side(groups, |(x_g, y_g)| {
        with_buffers(lens, |[cols, out, padded]: &mut [Vec<T>; SLOTS]| {
            let width = x_g.len() / image * l;
            let cols = &mut cols[..rows * width];
            im2col(x_g, g, cols, padded);
            product_to_images(m.view(), (cols, rows), &mut out[..c * width], l, bias, y_g);
        })
    });
}

/// `y ← M · cols (+ bias)` for one group, through `scratch` (`[m, width]`, channel-major)
/// into the group's images, batch-major (`y` `[n, m, L]`): the product [`convolve`]
/// makes, and [`correlate`] when asked for it too.
fn product_to_images<'a, T: Float>(
    m: ArrayView2<'a, T>,
    (cols, rows): (&'a [T], usize),
    scratch: &mut [T],
    l: usize,
    bias: Option<&[T]>,
    y: &mut [T],
) {
    let c = m.nrows();
    gemm(
        T::one(),
        m,
        matrix(cols, rows),
        T::zero(),
        matrix_mut(scratch, c),
    );
    batch_major(scratch, c, l, bias, y);
}

/// `x_b += col2im(Mᵀ · dy_b)` for every image (`dy` `[n, m, L]`, `x` `[n, C, H, W]` of the
/// window `g`): a convolution's input gradient, and a transposed convolution's forward.
pub(crate) fn deconvolve<T: Float>(m: ArrayView2<'_, T>, dy: &[T], g: &Window, x: &mut [T]) {
    let (l, rows, image, c) = (g.positions(), g.rows(), g.image_len(), m.nrows());
    let group = group_size(x.len() / image, rows * l);
    let lens = [rows * group * l, c * group * l, 0];
    let groups: Vec<_> = dy
        .chunks(group * c * l)
        .zip(x.chunks_mut(group * image))
        .collect();
    side_by_side(groups, |(dy_g, x_g)| {
        with_buffers(lens, |[cols, dy_cm, padded]: &mut [Vec<T>; SLOTS]| {
            let width = dy_g.len() / c;
            let dy_cm = &mut dy_cm[..c * width];
            channel_major(dy_g, c, l, dy_cm);
            let cols = &mut cols[..rows * width];
            gemm(
                T::one(),
                m.t(),
                matrix(dy_cm, c),
                T::zero(),
                matrix_mut(cols, rows),
            );
            col2im(cols, g, x_g, padded);
        })
    });
}

/// `dM += Σ_b a_b · im2col(x_b)ᵀ` over every image (`a` `[n, m, L]`, `x` `[n, C, H, W]`
/// of the window `g`, `dM` `[m, rows]` row-major): a weight gradient. With `convolve_too`
/// `(M₂, y)`, also `y_b ← M₂ · im2col(x_b)` from the same lowering (what [`convolve`]
/// gives without a bias): a transposed convolution's input gradient, which lowers the
/// same output gradient as its weight gradient, so it is lowered once for both.
pub(crate) fn correlate<T: Float>(
    a: &[T],
    x: &[T],
    g: &Window,
    dm: &mut [T],
    convolve_too: Option<(ArrayView2<'_, T>, &mut [T])>,
) {
    let (l, rows, image) = (g.positions(), g.rows(), g.image_len());
    let (c, batch) = (dm.len() / rows, x.len() / image);
    let group = group_size(batch, rows * l);
    let (m2, y) = convolve_too.map_or((None, None), |(m, y)| (Some(m), Some(y)));
    let c2 = m2.map_or(0, |m| m.nrows());
    let lens = [rows * group * l, c.max(c2) * group * l, 0];
    let partial = |(a_g, x_g, y_g): (&[T], &[T], &mut [T]), beta: T, out: &mut [T]| {
        with_buffers(lens, |[cols, a_cm, padded]: &mut [Vec<T>; SLOTS]| {
            let width = x_g.len() / image * l;
            let cols = &mut cols[..rows * width];
            im2col(x_g, g, cols, padded);
            if let Some(m2) = &m2 {
                product_to_images(
                    m2.view(),
                    (cols, rows),
                    &mut a_cm[..c2 * width],
                    l,
                    None,
                    y_g,
                );
            }
            let a_cm = &mut a_cm[..c * width];
            channel_major(a_g, c, l, a_cm);
            let (a_m, cols) = (matrix(a_cm, c), matrix(cols, rows));
            gemm(T::one(), a_m, cols.t(), beta, matrix_mut(out, c));
        })
    };
    let y_groups: Vec<&mut [T]> = match y {
        Some(y) => y.chunks_mut(group * c2 * l).collect(),
        None => (0..batch.div_ceil(group))
            .map(|_| <&mut [T]>::default())
            .collect(),
    };
    let mut groups = a
        .chunks(group * c * l)
        .zip(x.chunks(group * image))
        .zip(y_groups)
        .map(|((a_g, x_g), y_g)| (a_g, x_g, y_g));
    if batch <= group {
        let only = groups.next().expect("a batch is one group at least");
        return partial(only, T::one(), dm);
    }
    loop {
        let wave: Vec<_> = groups.by_ref().take(WAVE).collect();
        if wave.is_empty() {
            return;
        }
        let partials = map_side_by_side(wave, |group| {
            let mut out = vec![T::zero(); dm.len()];
            partial(group, T::zero(), &mut out);
            out
        });
        for p in &partials {
            dm.iter_mut().zip(p).for_each(|(d, &v)| *d += v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_close, seeded};
    use crate::{Tape, Tensor};
    use ndarray::Axis;
    use std::ops::Range;

    #[test]
    fn groups_are_equal_and_within_the_cap() {
        let cap = 1 << 17;
        // 41 images fit; 128 of them go in 4 groups of 32.
        assert_eq!(group_size_within(128, cap / 41, cap), 32);
        assert_eq!(group_size_within(128, 1, cap), 128);
        assert_eq!(group_size_within(5, cap, cap), 1);
        assert_eq!(
            group_size_within(3, 4 * cap, cap),
            1,
            "one image, however large"
        );
        assert_eq!(group_size_within(0, 10, cap), 1);
        for (batch, per_image) in [(128, 25_088), (1000, 3_136), (7, 30_000)] {
            let group = group_size_within(batch, per_image, cap);
            assert!(group * per_image <= cap, "{batch} {per_image}");
            assert_eq!(
                group,
                batch.div_ceil(batch.div_ceil(group)),
                "{batch} {per_image}"
            );
        }
    }

    /// A convolution and its transpose over the images `rows` of `x`, with the gradients
    /// of `Σ y ⊙ dy` (`dy` drawn for the whole batch): `[y, dx, dW, db]` for each, on a
    /// pool of `threads`.
    fn both_ops(x: &Tensor<f64>, rows: Range<usize>, threads: usize) -> Vec<Tensor<f64>> {
        let (n, c_in, c_out) = (x.shape()[0], x.shape()[1], 3);
        let x = &x.slice_axis(Axis(0), rows.clone().into()).to_owned();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
        pool.unwrap().install(|| {
            let mut out = Vec::new();
            for transposed in [false, true] {
                let tape = Tape::<f64>::new();
                let w_shape = if transposed {
                    [c_in, c_out, 2, 3]
                } else {
                    [c_out, c_in, 2, 3]
                };
                let (xv, w, b) = (
                    tape.param(x),
                    tape.param(&seeded(&w_shape, 7)),
                    tape.param(&seeded(&[c_out], 8)),
                );
                let y = if transposed {
                    xv.conv_transpose2d(w, b, [2, 1], [1, 0], [1, 0], [1, 1])
                } else {
                    xv.conv2d(w, b, [1, 2], [1, 1], [1, 1])
                };
                let mut shape = y.value().shape().to_vec();
                shape[0] = n;
                let dy = seeded(&shape, 9)
                    .slice_axis(Axis(0), rows.clone().into())
                    .to_owned();
                out.push(y.to_tensor());
                let grads = tape.backward_with(y, dy);
                out.extend([xv, w, b].map(|v| grads.get(v).unwrap().clone()));
            }
            out
        })
    }

    /// Batches that fall in several groups (one image each, and two each with a last
    /// group of one) and several waves: each image's output and input gradient are the
    /// ones it has alone, the weight and bias gradients the sums of its own, and every
    /// bit is the same on one thread and on three.
    #[test]
    fn a_batch_in_groups_is_its_images_one_by_one_on_any_thread_count() {
        for (shape, per_group) in [([7, 2, 6, 5], 1), ([9, 1, 2, 2], 2)] {
            let x = seeded(&shape, 3);
            let whole = both_ops(&x, 0..shape[0], 2);
            // The convolution's lowering of one image: C_in·2·3 rows by its output positions.
            let positions = whole[0].len() / (shape[0] * 3);
            let group = group_size(shape[0], shape[1] * 6 * positions);
            assert!(
                group <= per_group && shape[0] > 2 * WAVE,
                "{shape:?}: groups of {group}"
            );
            let mut sums: Vec<Tensor<f64>> = Vec::new();
            for b in 0..shape[0] {
                let alone = both_ops(&x, b..b + 1, 2);
                for i in [0, 1, 4, 5] {
                    let row = whole[i].slice_axis(Axis(0), (b..b + 1).into()).to_owned();
                    assert_close(&alone[i], &row, 1e-14);
                }
                match b {
                    0 => sums = alone,
                    _ => sums.iter_mut().zip(&alone).for_each(|(s, a)| *s += a),
                }
            }
            for i in [2, 3, 6, 7] {
                assert_close(&whole[i], &sums[i], 1e-12);
            }
            assert_eq!(
                both_ops(&x, 0..shape[0], 1),
                both_ops(&x, 0..shape[0], 3),
                "{shape:?}"
            );
        }
    }
}
