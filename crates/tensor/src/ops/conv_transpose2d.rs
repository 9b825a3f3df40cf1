//! `conv_transpose2d`: the transposed convolution (PyTorch's `F.conv_transpose2d`), NCHW:
//! the adjoint of `conv2d` as a function of its input, the decoder's way back up.
//!
//! ```text
//! x: [B, C_in, H, W]   W: [C_in, C_out, kh, kw]   bias: [C_out]   y: [B, C_out, H_y, W_y]
//! H_y = (H − 1)·s_h − 2·p_h + d_h·(kh − 1) + output_padding_h + 1        (and W_y alike)
//! y[b, o, h·s − p + i·d, …] += Σ_c x[b, c, h, …] · W[c, o, i, …]    for every (h, i), then + bias[o]
//! ```
//! Each input value scatters a weighted copy of the kernel onto the output. Take the
//! convolution that reads an image the size of `y` with the same kernel, stride, padding
//! and dilation: its output is the size of `x`, and this op is exactly its adjoint. So it
//! lowers to `col2im` (`im2col.rs`), with `W` read as `[C_in, C_out·kh·kw]`:
//!
//! ```text
//! y_b = col2im(Wᵀ · x_b) + bias           [C_out·kh·kw, C_in] · [C_in, H·W]
//! dx_b  = W · im2col(dy_b)                [C_in, C_out·kh·kw] · [C_out·kh·kw, H·W]   (a convolution of dy)
//! dW    = Σ_b x_b · im2col(dy_b)ᵀ          [C_in, H·W] · [H·W, C_out·kh·kw]
//! dbias = Σ_{b, h, w} dy
//! ```
//! `output_padding` (less than the stride or the dilation) picks among the sizes that the
//! convolution would map to the same `H`: a stride-2 convolution takes 7 and 8 rows both to
//! 4, so its transpose needs to be told which to restore. Reads both inputs in backward.

use ndarray::ArrayView2;

use super::conv2d::bias_gradient;
use super::im2col::Window;
use super::lowered::{convolve, correlate, deconvolve};
use crate::speed::parallel::{contiguous, for_each_indexed_chunk_mut};
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// The transposed convolution of `self` `[B, C_in, H, W]` by `weight`
    /// `[C_in, C_out, kh, kw]` plus `bias` `[C_out]`; `stride`, `padding`,
    /// `output_padding` and `dilation` as `[height, width]`, as PyTorch takes them.
    ///
    /// # Panics
    /// If the shapes do not fit together, an output padding is not smaller than the stride
    /// or the dilation, or the output would be empty (the message names the op and shapes).
    pub fn conv_transpose2d(
        self,
        weight: Var<'t, T>,
        bias: Var<'t, T>,
        stride: [usize; 2],
        padding: [usize; 2],
        output_padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Var<'t, T> {
        let (conv, y) = {
            let (x, w, b) = (self.value(), weight.value(), bias.value());
            let geometry = (stride, padding, output_padding, dilation);
            let conv = Transposed::of(x.shape(), w.shape(), b.shape(), geometry);
            let [h_y, w_y] = conv.g.size;
            let mut y = Tensor::zeros(vec![conv.batch, conv.g.c, h_y, w_y]);
            conv.forward(&x, &w, &b, &mut y);
            (conv, y)
        };
        self.tape
            .record("conv_transpose2d", y, &[self, weight, bias], conv)
    }
}

/// One `conv_transpose2d`: the batch, the input channels, and the window of the
/// convolution it is the adjoint of (which reads `y` and produces the size of `x`).
#[derive(Debug)]
struct Transposed {
    batch: usize,
    c_in: usize,
    g: Window,
}

/// Stride, padding, output padding and dilation.
type Geometry = ([usize; 2], [usize; 2], [usize; 2], [usize; 2]);

impl Transposed {
    fn of(x: &[usize], w: &[usize], b: &[usize], geometry: Geometry) -> Transposed {
        let (stride, padding, output_padding, dilation) = geometry;
        let bad = || -> ! {
            panic!(
                "conv_transpose2d: shapes do not fit: x {x:?}, weight {w:?}, bias {b:?} (want x \
                 [B, C_in, H, W], weight [C_in, C_out, kh, kw], bias [C_out]; stride {stride:?}, \
                 padding {padding:?}, output padding {output_padding:?}, dilation {dilation:?})"
            )
        };
        let (&[batch, c_in, h, wd], &[c_w, c_out, kh, kw], &[c_b]) = (x, w, b) else {
            bad()
        };
        if c_in != c_w || c_b != c_out {
            bad()
        }
        let axis = |a: usize, len: usize, k: usize| {
            let fits = output_padding[a] < stride[a].max(dilation[a]) && len > 0 && k > 0;
            // (Only computed when it fits: an empty input or kernel would underflow.)
            let full = || (len - 1) * stride[a] + dilation[a] * (k - 1) + output_padding[a] + 1;
            fits.then(full)
                .and_then(|full| full.checked_sub(2 * padding[a]))
                .filter(|&n| n > 0)
                .unwrap_or_else(|| bad())
        };
        let size = [axis(0, h, kh), axis(1, wd, kw)];
        // The convolution reading `size` gives `h + ⌊output_padding / stride⌋ ≥ h`
        // positions (and `wd` alike): with an output padding past the stride (allowed
        // below the dilation) more than `h`, and this op is the adjoint of that
        // convolution cropped to its first `[h, wd]`. (`None`: a stride of 0.)
        let g = Window::new(c_out, size, [kh, kw], stride, padding, dilation)
            .map(|g| Window { out: [h, wd], ..g })
            .unwrap_or_else(|| bad());
        Transposed { batch, c_in, g }
    }

    /// `y = col2im(Wᵀ · x) + bias`, a group of images at a time, into `y` (zeros on entry).
    fn forward<T: Float>(&self, x: &Tensor<T>, w: &Tensor<T>, b: &Tensor<T>, y: &mut Tensor<T>) {
        let (x, w, bias) = (contiguous(x), contiguous(w), contiguous(b));
        let y = y.as_slice_mut().expect("a new array is row-major");
        deconvolve(self.weights(&w), &x, &self.g, y);
        // Each output plane (image b, channel c) gets its channel's bias.
        let plane = self.g.size[0] * self.g.size[1];
        for_each_indexed_chunk_mut(y, plane, 0, |i, channel| {
            let bias = bias[i % self.g.c];
            channel.iter_mut().for_each(|v| *v += bias);
        });
    }

    /// `W` as the matrix `[C_in, C_out·kh·kw]`.
    fn weights<'a, T: Float>(&self, w: &'a [T]) -> ArrayView2<'a, T> {
        let shape = (self.c_in, self.g.rows());
        ArrayView2::from_shape(shape, w).expect("weight [C_in, C_out·kh·kw]")
    }
}

impl<T: Float> Backward<T> for Transposed {
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
        // dx = W · im2col(dy) and dW = Σ_b x_b · im2col(dy_b)ᵀ: one lowering of dy for both.
        let mut dx = needs[0].then(|| Tensor::zeros(inputs[0].raw_dim()));
        let dx_slice = dx
            .as_mut()
            .map(|dx| dx.as_slice_mut().expect("a new array is row-major"));
        let dw = if needs[1] {
            let mut dw = vec![T::zero(); w.len()];
            let dx_too = dx_slice.map(|dx| (self.weights(&w), dx));
            correlate(&x, &dy, &self.g, &mut dw, dx_too);
            Some(Tensor::from_shape_vec(inputs[1].raw_dim(), dw).expect("the weight's shape"))
        } else {
            if let Some(dx) = dx_slice {
                convolve(self.weights(&w), &dy, &self.g, None, dx);
            }
            None
        };
        let db = needs[2].then(|| bias_gradient(&dy, self.batch, self.g.c));
        vec![dx, dw, db]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::{array, Array4};
    use proptest::prelude::*;

    /// The transposed convolution is the adjoint of the convolution with the same weights:
    /// ⟨conv2d(x, W), y⟩ = ⟨x, conv_transpose2d(y, W)⟩ (biases zero), the output padding
    /// chosen so that the transpose restores x's size.
    #[test]
    fn it_is_the_adjoint_of_conv2d() {
        let tape = Tape::<f64>::new();
        for (h, w, k, s, p, d) in [(7, 6, 3, 2, 1, 1), (8, 5, 2, 3, 0, 2), (5, 5, 4, 1, 2, 1)] {
            let x = tape.constant(&seeded(&[2, 3, h, w], 1));
            let weight = tape.constant(&seeded(&[4, 3, k, k], 2));
            let (zero4, zero3) = (
                tape.constant(&ndarray::ArrayD::zeros(vec![4])),
                tape.constant(&ndarray::ArrayD::zeros(vec![3])),
            );
            let conv = x.conv2d(weight, zero4, [s, s], [p, p], [d, d]);
            let shape = conv.shape().to_vec();
            let y = tape.constant(&seeded(&shape, 5));
            let restore = |len: usize, out: usize| len - ((out - 1) * s + d * (k - 1) + 1 - 2 * p);
            let op = [restore(h, shape[2]), restore(w, shape[3])];
            let back = y.conv_transpose2d(weight, zero3, [s, s], [p, p], op, [d, d]);
            assert_eq!(back.shape(), x.shape());
            let lhs = (conv * y).sum().item();
            let rhs = (x * back).sum().item();
            assert!(
                (lhs - rhs).abs() < 1e-12 * lhs.abs().max(1.0),
                "{lhs} vs {rhs}"
            );
        }
    }

    /// A strided input and weight give what their row-major copies give.
    #[test]
    fn strided_inputs_equal_their_row_major_copies() {
        let strided = seeded(&[2, 3, 4, 3], 1).permuted_axes(vec![0, 3, 1, 2]);
        let weight = seeded(&[3, 2, 3, 2], 2).permuted_axes(vec![0, 1, 3, 2]);
        assert!(!strided.is_standard_layout() && !weight.is_standard_layout());
        let copies = |a: &crate::Tensor<f64>| a.as_standard_layout().into_owned();
        let bias = seeded(&[2], 3);
        let run = |x: &crate::Tensor<f64>, w: &crate::Tensor<f64>| {
            let tape = Tape::<f64>::new();
            let (x, w, b) = (tape.param(x), tape.param(w), tape.param(&bias));
            let y = x.conv_transpose2d(w, b, [2, 1], [1, 0], [1, 0], [1, 1]);
            let grads = tape.backward(y.sum());
            let grad = |v| grads.get(v).unwrap().clone();
            (y.to_tensor(), grad(x), grad(w))
        };
        assert_eq!(
            run(&strided, &weight),
            run(&copies(&strided), &copies(&weight))
        );
    }

    #[test]
    fn hand_derived_values() {
        // One 2×2 input, a 2×2 kernel of ones, stride 2: each input value becomes a 2×2
        // block of the 4×4 output; bias 1.
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[[[1.0, 2.0], [3.0, 4.0]]]].into_dyn());
        let w = tape.param(&Array4::<f64>::ones((1, 1, 2, 2)).into_dyn());
        let b = tape.param(&array![1.0].into_dyn());
        let y = x.conv_transpose2d(w, b, [2, 2], [0, 0], [0, 0], [1, 1]);
        let row = |a: f64, c: f64| [a, a, c, c];
        let expected = ndarray::Array4::from_shape_fn((1, 1, 4, 4), |(_, _, i, j)| {
            let r = if i < 2 { row(2.0, 3.0) } else { row(4.0, 5.0) };
            r[j]
        });
        assert_close(&y.to_tensor(), &expected.into_dyn(), 1e-15);
        let grads = tape.backward(y.sum());
        // ∂Σy/∂x: each input feeds 4 outputs; ∂Σy/∂W[i, j]: Σx; ∂Σy/∂b: 16 positions.
        assert_close(
            grads.get(x).unwrap(),
            &(Array4::<f64>::ones((1, 1, 2, 2)) * 4.0).into_dyn(),
            1e-15,
        );
        assert_close(
            grads.get(w).unwrap(),
            &(Array4::<f64>::ones((1, 1, 2, 2)) * 10.0).into_dyn(),
            1e-15,
        );
        assert_close(grads.get(b).unwrap(), &array![16.0].into_dyn(), 1e-15);
    }

    #[test]
    #[should_panic(expected = "conv_transpose2d: shapes do not fit")]
    fn an_output_padding_not_below_the_stride_panics() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&Array4::zeros((1, 1, 2, 2)).into_dyn());
        let w = tape.constant(&Array4::zeros((1, 1, 3, 3)).into_dyn());
        let b = tape.constant(&array![0.0].into_dyn());
        x.conv_transpose2d(w, b, [2, 2], [1, 1], [2, 2], [1, 1]);
    }

    /// The weight's input channels and the bias's length are each checked alone: either
    /// mismatch panics naming the op (x has 2 channels).
    #[test]
    fn each_mismatched_shape_panics_naming_the_op() {
        for (w_shape, bias_len) in [([1, 3, 2, 2], 3), ([2, 3, 2, 2], 2)] {
            let message = panic_message(|| {
                let tape = Tape::<f64>::new();
                let x = tape.constant(&Array4::zeros((1, 2, 4, 4)).into_dyn());
                let w = tape.constant(&ndarray::ArrayD::zeros(w_shape.to_vec()));
                let b = tape.constant(&ndarray::ArrayD::zeros(vec![bias_len]));
                x.conv_transpose2d(w, b, [1, 1], [0, 0], [0, 0], [1, 1]);
            });
            assert!(
                message.starts_with("conv_transpose2d: shapes do not fit"),
                "{w_shape:?} {bias_len}: {message}"
            );
        }
    }

    /// Geometries with no output: an empty input, an empty kernel, a padding that eats
    /// the whole output, a stride of 0. Each panics naming the op (not an overflow).
    #[test]
    fn degenerate_geometries_panic_naming_the_op() {
        // (x, weight, stride, padding, dilation)
        type Case = ([usize; 4], [usize; 4], [usize; 2], [usize; 2], [usize; 2]);
        let cases: [Case; 4] = [
            ([1, 1, 0, 3], [1, 1, 2, 2], [1, 1], [0, 0], [1, 1]),
            ([1, 1, 3, 3], [1, 1, 0, 2], [1, 1], [0, 0], [1, 1]),
            ([1, 1, 1, 1], [1, 1, 2, 2], [1, 1], [1, 1], [1, 1]),
            ([1, 1, 3, 3], [1, 1, 2, 2], [0, 1], [0, 0], [2, 2]),
        ];
        for (x_shape, w_shape, stride, padding, dilation) in cases {
            let message = panic_message(|| {
                let tape = Tape::<f64>::new();
                let x = tape.constant(&ndarray::ArrayD::zeros(x_shape.to_vec()));
                let w = tape.constant(&ndarray::ArrayD::zeros(w_shape.to_vec()));
                let b = tape.constant(&array![0.0].into_dyn());
                x.conv_transpose2d(w, b, stride, padding, [0, 0], dilation);
            });
            assert!(
                message.starts_with("conv_transpose2d: shapes do not fit"),
                "{x_shape:?} {w_shape:?} {stride:?} {padding:?}: {message}"
            );
        }
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_conv_transpose2d(
            (batch, c_in, c_out) in (1usize..5, 1usize..3, 1usize..3),
            (h, w) in (1usize..5, 1usize..5),
            (kh, kw) in (1usize..4, 1usize..4),
            stride in (1usize..4, 1usize..4),
            padding in (0usize..2, 0usize..2),
            dilation in (1usize..3, 1usize..3),
            out_pad in (0usize..3, 0usize..3),
            seed in any::<u64>(),
        ) {
            let (stride, padding, dilation) = ([stride.0, stride.1], [padding.0, padding.1], [dilation.0, dilation.1]);
            let output_padding = [out_pad.0 % stride[0].max(dilation[0]), out_pad.1 % stride[1].max(dilation[1])];
            let size = |a: usize, len: usize, k: usize| (len - 1) * stride[a] + dilation[a] * (k - 1) + output_padding[a] + 1;
            prop_assume!(size(0, h, kh) > 2 * padding[0] && size(1, w, kw) > 2 * padding[1]);
            let x = seeded(&[batch, c_in, h, w], seed);
            let weight = seeded(&[c_in, c_out, kh, kw], seed ^ 1);
            let bias = seeded(&[c_out], seed ^ 2);
            assert_gradcheck(&[x, weight, bias], |_, v| {
                v[0].conv_transpose2d(v[1], v[2], stride, padding, output_padding, dilation)
            })?;
        }
    }
}
