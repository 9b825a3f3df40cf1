//! `conv2d`: a 2-D convolution (PyTorch's `F.conv2d`: a cross-correlation), NCHW.
//!
//! ```text
//! y[b, o, oh, ow] = bias[o] + Σ_{c, i, j} W[o, c, i, j] · x[b, c, oh·s_h − p_h + i·d_h, ow·s_w − p_w + j·d_w]
//!     x: [B, C, H, W]   W: [C_out, C, kh, kw]   bias: [C_out]   y: [B, C_out, H_out, W_out]
//! ```
//! (`x` reads 0 outside the image: the zero padding.) Lowered to a matrix product
//! (`im2col.rs`): with `cols_b = im2col(x_b)` `[C·kh·kw, L]`, `L = H_out·W_out`,
//!
//! ```text
//! y_b = W · cols_b + bias                  [C_out, C·kh·kw] · [C·kh·kw, L] = [C_out, L]
//! ```
//! and the backward is that product's (`matmul.rs`), summed over the batch:
//!
//! ```text
//! dW    = Σ_b dy_b · cols_bᵀ               [C_out, L] · [L, C·kh·kw]       (a correlation of x with dy)
//! dx_b  = col2im(Wᵀ · dy_b)                [C·kh·kw, C_out] · [C_out, L]   (a transposed convolution of dy)
//! dbias = Σ_{b, oh, ow} dy                 (each bias is added at every position)
//! ```
//! `col2im` adds each column back onto the window it came from: the adjoint of the copy
//! that `im2col` made. So the input gradient of a convolution is a transposed convolution
//! of the output gradient with the same weights (`conv_transpose2d.rs`), and the other way
//! round. Reads both inputs in backward (the columns are made again rather than kept).

use ndarray::{ArrayView2, ArrayViewMut2};

use super::im2col::Window;
use super::lowered::{convolve, correlate, deconvolve};
use crate::speed::parallel::{contiguous, for_each_indexed_chunk_mut};
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// The convolution of `self` `[B, C, H, W]` by `weight` `[C_out, C, kh, kw]` plus
    /// `bias` `[C_out]`, with `stride`, zero `padding` and `dilation` as `[height, width]`.
    ///
    /// # Panics
    /// If the shapes do not fit together, or the dilated kernel is larger than the padded
    /// image (the message names the op and the shapes).
    pub fn conv2d(
        self,
        weight: Var<'t, T>,
        bias: Var<'t, T>,
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Var<'t, T> {
        let (conv, y) = {
            let (x, w, b) = (self.value(), weight.value(), bias.value());
            let conv = Conv::of(x.shape(), w.shape(), b.shape(), stride, padding, dilation);
            let mut y = Tensor::zeros(vec![conv.batch, conv.c_out, conv.g.out[0], conv.g.out[1]]);
            conv.forward(&x, &w, &b, &mut y);
            (conv, y)
        };
        self.tape.record("conv2d", y, &[self, weight, bias], conv)
    }
}

/// One `conv2d`: the batch, the output channels and the window.
#[derive(Debug)]
struct Conv {
    batch: usize,
    c_out: usize,
    g: Window,
}

impl Conv {
    /// The convolution of `x` by `w` and `b`, checked.
    fn of(
        x: &[usize],
        w: &[usize],
        b: &[usize],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Conv {
        let bad = || -> ! {
            panic!(
                "conv2d: shapes do not fit: x {x:?}, weight {w:?}, bias {b:?} (want x [B, C, H, W], \
                 weight [C_out, C, kh, kw], bias [C_out]; stride {stride:?}, padding {padding:?}, \
                 dilation {dilation:?})"
            )
        };
        let (&[batch, c, h, wd], &[c_out, c_w, kh, kw], &[c_b]) = (x, w, b) else {
            bad()
        };
        if c != c_w || c_b != c_out {
            bad()
        }
        let g =
            Window::new(c, [h, wd], [kh, kw], stride, padding, dilation).unwrap_or_else(|| bad());
        Conv { batch, c_out, g }
    }

    /// `y = W · im2col(x) + bias`, a group of images at a time, into `y`.
    fn forward<T: Float>(&self, x: &Tensor<T>, w: &Tensor<T>, b: &Tensor<T>, y: &mut Tensor<T>) {
        let (x, w, bias) = (contiguous(x), contiguous(w), contiguous(b));
        let y = y.as_slice_mut().expect("a new array is row-major");
        convolve(self.weights(&w), &x, &self.g, Some(&bias), y);
    }

    /// `W` as the matrix `[C_out, C·kh·kw]`.
    fn weights<'a, T: Float>(&self, w: &'a [T]) -> ArrayView2<'a, T> {
        let shape = (self.c_out, self.g.rows());
        ArrayView2::from_shape(shape, w).expect("weight [C_out, C·kh·kw]")
    }
}

/// A row-major slice as a matrix of `rows` rows.
pub(super) fn matrix<T: Float>(v: &[T], rows: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((rows, v.len() / rows), v).expect("rows × columns")
}

/// A row-major slice as a mutable matrix of `rows` rows.
pub(super) fn matrix_mut<T: Float>(v: &mut [T], rows: usize) -> ArrayViewMut2<'_, T> {
    let columns = v.len() / rows;
    ArrayViewMut2::from_shape((rows, columns), v).expect("rows × columns")
}

/// `dbias[o] = Σ_{b, h, w} dy[b, o, h, w]` of a row-major `dy` `[batch, channels, …]`:
/// each bias is added at every output position.
pub(super) fn bias_gradient<T: Float>(dy: &[T], batch: usize, channels: usize) -> Tensor<T> {
    let plane = dy.len() / (batch * channels).max(1);
    // Each image's C sums on the pool, then the images added in order (the same bits on
    // any thread count).
    let mut sums = vec![T::zero(); batch * channels];
    for_each_indexed_chunk_mut(&mut sums, channels, dy.len(), |b, image| {
        for (c, sum) in image.iter_mut().enumerate() {
            let values = &dy[(b * channels + c) * plane..][..plane];
            *sum = values.iter().fold(T::zero(), |s, &v| s + v);
        }
    });
    let mut db = Tensor::zeros(vec![channels]);
    for image in sums.chunks(channels.max(1)) {
        db.iter_mut().zip(image).for_each(|(d, &s)| *d += s);
    }
    db
}

impl<T: Float> Backward<T> for Conv {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (x, w, dy) = (
            contiguous(inputs[0]),
            contiguous(inputs[1]),
            contiguous(&dy),
        );
        let mut dx = needs[0].then(|| Tensor::zeros(inputs[0].raw_dim()));
        if let Some(dx) = dx.as_mut() {
            let dx = dx.as_slice_mut().expect("a new array is row-major");
            deconvolve(self.weights(&w), &dy, &self.g, dx);
        }
        let dw = needs[1].then(|| {
            let mut dw = vec![T::zero(); w.len()];
            correlate(&dy, &x, &self.g, &mut dw, None);
            Tensor::from_shape_vec(inputs[1].raw_dim(), dw).expect("the weight's shape")
        });
        let db = needs[2].then(|| bias_gradient(&dy, self.batch, self.c_out));
        vec![dx, dw, db]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::{array, Array4};
    use proptest::prelude::*;

    #[test]
    fn hand_derived_values_and_gradients() {
        // x = 1..9 as a 3×3 image, a 2×2 kernel of ones, bias 0.5: each output is the sum of
        // a 2×2 window plus ½; with L = Σ y, ∂L/∂W[i, j] is the sum of the x's that weight
        // touches (4 windows), ∂L/∂x counts how many windows hold each pixel.
        let tape = Tape::<f64>::new();
        let x = tape.param(
            &Array4::from_shape_fn((1, 1, 3, 3), |(_, _, i, j)| (3 * i + j + 1) as f64).into_dyn(),
        );
        let w = tape.param(&Array4::<f64>::ones((1, 1, 2, 2)).into_dyn());
        let b = tape.param(&array![0.5].into_dyn());
        let y = x.conv2d(w, b, [1, 1], [0, 0], [1, 1]);
        let expected = array![[[[12.5, 16.5], [24.5, 28.5]]]].into_dyn();
        assert_close(&y.to_tensor(), &expected, 1e-15);
        let grads = tape.backward(y.sum());
        let dw = array![[[[12.0, 16.0], [24.0, 28.0]]]].into_dyn();
        let dx = array![[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]].into_dyn();
        assert_close(grads.get(w).unwrap(), &dw, 1e-15);
        assert_close(grads.get(x).unwrap(), &dx, 1e-15);
        assert_close(grads.get(b).unwrap(), &array![4.0].into_dyn(), 1e-15);
    }

    /// A strided input (here a batch whose axes were permuted, as a view would leave it)
    /// gives the same output and gradients as its row-major copy.
    #[test]
    fn strided_inputs_equal_their_row_major_copies() {
        let nhwc = seeded(&[2, 5, 4, 3], 1); // [B, H, W, C]
        let strided = nhwc.permuted_axes(vec![0, 3, 1, 2]); // [B, C, H, W], not row-major
        assert!(!strided.is_standard_layout());
        let copy = strided.as_standard_layout().into_owned();
        let weight = seeded(&[2, 3, 2, 3], 2).permuted_axes(vec![0, 1, 3, 2]);
        let (weight_copy, bias) = (weight.as_standard_layout().into_owned(), seeded(&[2], 3));
        let run = |x: &crate::Tensor<f64>, w: &crate::Tensor<f64>| {
            let tape = Tape::<f64>::new();
            let (x, w, b) = (tape.param(x), tape.param(w), tape.param(&bias));
            let y = x.conv2d(w, b, [1, 2], [1, 0], [1, 1]);
            let grads = tape.backward(y.sum());
            let grad = |v| grads.get(v).unwrap().clone();
            (y.to_tensor(), grad(x), grad(w))
        };
        assert_eq!(run(&strided, &weight), run(&copy, &weight_copy));
    }

    #[test]
    #[should_panic(expected = "conv2d: shapes do not fit")]
    fn a_kernel_larger_than_the_padded_image_panics() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&Array4::zeros((1, 1, 2, 2)).into_dyn());
        let w = tape.constant(&Array4::zeros((1, 1, 3, 3)).into_dyn());
        let b = tape.constant(&array![0.0].into_dyn());
        x.conv2d(w, b, [1, 1], [0, 0], [1, 1]);
    }

    /// The weight's input channels and the bias's length are each checked alone: either
    /// mismatch panics naming the op (x has 2 channels).
    #[test]
    fn each_mismatched_shape_panics_naming_the_op() {
        for (w_shape, bias_len) in [([3, 1, 2, 2], 3), ([3, 2, 2, 2], 2)] {
            let message = panic_message(|| {
                let tape = Tape::<f64>::new();
                let x = tape.constant(&Array4::zeros((1, 2, 4, 4)).into_dyn());
                let w = tape.constant(&ndarray::ArrayD::zeros(w_shape.to_vec()));
                let b = tape.constant(&ndarray::ArrayD::zeros(vec![bias_len]));
                x.conv2d(w, b, [1, 1], [0, 0], [1, 1]);
            });
            assert!(
                message.starts_with("conv2d: shapes do not fit"),
                "{w_shape:?} {bias_len}: {message}"
            );
        }
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_conv2d(
            (batch, c_in, c_out) in (1usize..5, 1usize..3, 1usize..3),
            (h, w) in (1usize..6, 1usize..6),
            (kh, kw) in (1usize..4, 1usize..4),
            stride in (1usize..4, 1usize..4),
            padding in (0usize..3, 0usize..3),
            dilation in (1usize..3, 1usize..3),
            seed in any::<u64>(),
        ) {
            let (stride, padding, dilation) = ([stride.0, stride.1], [padding.0, padding.1], [dilation.0, dilation.1]);
            let fits = |a: usize, len: usize, k: usize| len + 2 * padding[a] > dilation[a] * (k - 1);
            prop_assume!(fits(0, h, kh) && fits(1, w, kw));
            let x = seeded(&[batch, c_in, h, w], seed);
            let weight = seeded(&[c_out, c_in, kh, kw], seed ^ 1);
            let bias = seeded(&[c_out], seed ^ 2);
            assert_gradcheck(&[x, weight, bias], |_, v| v[0].conv2d(v[1], v[2], stride, padding, dilation))?;
        }
    }
}
