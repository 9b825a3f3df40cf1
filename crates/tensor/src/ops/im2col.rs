//! The lowering of a 2-D convolution to one matrix product (im2col), and its adjoint
//! (col2im): what `conv2d.rs` and `conv_transpose2d.rs` are built on.
//!
//! A convolution of one image `x [C, H, W]` with weights `W [C_out, C, kh, kw]` is, at
//! every output position, the dot product of each filter with the window of `x` under it.
//! Lay every window out as one column:
//!
//! ```text
//! cols[(c, i, j), (oh, ow)] = x[c, oh·s_h − p_h + i·d_h, ow·s_w − p_w + j·d_w]   (0 outside x)
//! cols: [C·kh·kw, H_out·W_out]
//! y = W · cols        [C_out, C·kh·kw] · [C·kh·kw, H_out·W_out] = [C_out, H_out·W_out]
//! H_out = ⌊(H + 2p_h − d_h·(kh − 1) − 1) / s_h⌋ + 1        (and W_out alike)
//! ```
//!
//! Why this is the fast way on a CPU: the convolution becomes a product of two dense
//! matrices, which our GEMM computes at a large fraction of the machine's peak (every
//! loaded value reused from registers many times), where a direct loop over the kernel
//! window touches each input value `kh·kw` times with little reuse. The price is the copy:
//! `cols` holds each input value up to `kh·kw` times, a pass over memory that is small
//! next to the product's `2·C_out·C·kh·kw` flops per output position.
//!
//! `col2im` is the adjoint of `im2col`: it adds every column back onto the window it came
//! from, and where windows overlap the values add up. A linear map's gradient is its
//! adjoint applied to the output's gradient, so col2im is where a convolution's input
//! gradient goes, and the forward of a transposed convolution.

use crate::Float;

/// The geometry of one convolution: the image it reads (`c` channels of `h × w`), its
/// kernel, stride, zero padding and dilation, and the output size they give.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    /// Channels of the image.
    pub(crate) c: usize,
    /// The image's height and width.
    pub(crate) size: [usize; 2],
    /// The kernel's height and width.
    pub(crate) kernel: [usize; 2],
    pub(crate) stride: [usize; 2],
    pub(crate) padding: [usize; 2],
    pub(crate) dilation: [usize; 2],
    /// The output's height and width.
    pub(crate) out: [usize; 2],
}

impl Window {
    /// The convolution of a `c × size` image by a `kernel`, or `None` when the dilated
    /// kernel is larger than the padded image along an axis (no output position), or a
    /// stride or dilation is 0.
    pub(crate) fn new(
        c: usize,
        size: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
    ) -> Option<Window> {
        let axis = |a: usize| {
            let span = dilation[a].checked_mul(kernel[a].checked_sub(1)?)? + 1;
            let padded = size[a].checked_add(2 * padding[a])?;
            (stride[a] > 0 && dilation[a] > 0 && kernel[a] > 0 && padded >= span)
                .then(|| (padded - span) / stride[a] + 1)
        };
        Some(Window {
            c,
            size,
            kernel,
            stride,
            padding,
            dilation,
            out: [axis(0)?, axis(1)?],
        })
    }

    /// Rows of `cols`: one per (channel, kernel row, kernel column).
    pub(crate) fn rows(&self) -> usize {
        self.c * self.kernel[0] * self.kernel[1]
    }

    /// Columns of `cols`: one per output position.
    pub(crate) fn positions(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// For kernel offset `i` along `axis`: each output index `o` with the input index it
    /// reads (`o·s − p + i·d`), or `None` where that falls in the zero padding.
    fn sources(&self, axis: usize, i: usize) -> impl Iterator<Item = (usize, Option<usize>)> {
        let (s, p, d, len) = (
            self.stride[axis],
            self.padding[axis],
            self.dilation[axis],
            self.size[axis],
        );
        (0..self.out[axis]).map(move |o| {
            let at = (o * s + i * d).checked_sub(p).filter(|&at| at < len);
            (o, at)
        })
    }

    /// Calls `f(cols index, x index)` for every entry of `cols` that reads the image (the
    /// others are zero padding), row by row.
    fn for_each_pair(&self, mut f: impl FnMut(usize, usize)) {
        let ([h, w], [kh, kw], [_, w_out]) = (self.size, self.kernel, self.out);
        let positions = self.positions();
        for c in 0..self.c {
            for i in 0..kh {
                for j in 0..kw {
                    let row = ((c * kh + i) * kw + j) * positions;
                    for (oh, ih) in self.sources(0, i) {
                        let Some(ih) = ih else { continue };
                        let (col, src) = (row + oh * w_out, (c * h + ih) * w);
                        for (ow, iw) in self.sources(1, j) {
                            if let Some(iw) = iw {
                                f(col + ow, src + iw);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `cols ← im2col(x)`: `x` one image `[c, h, w]` (row-major), `cols` `[rows, positions]`.
pub(crate) fn im2col<T: Float>(x: &[T], g: &Window, cols: &mut [T]) {
    debug_assert_eq!(x.len(), g.c * g.size[0] * g.size[1]);
    cols.fill(T::zero());
    g.for_each_pair(|col, src| cols[col] = x[src]);
}

/// `x += col2im(cols)`: every column added back onto its window of the image `[c, h, w]`.
pub(crate) fn col2im<T: Float>(cols: &[T], g: &Window, x: &mut [T]) {
    debug_assert_eq!(cols.len(), g.rows() * g.positions());
    g.for_each_pair(|col, dst| x[dst] += cols[col]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_sizes_follow_pytorchs_formula() {
        let one = [1, 1];
        let g = |size, k, s, p, d| Window::new(1, size, k, s, p, d).map(|w| w.out);
        assert_eq!(g([28, 28], [4, 4], [2, 2], one, one), Some([14, 14]));
        assert_eq!(g([7, 9], [2, 3], [2, 1], [0, 1], one), Some([3, 9]));
        assert_eq!(g([5, 5], [3, 3], one, [0, 0], [2, 2]), Some([1, 1]));
        // A kernel larger than the padded image has no output position.
        assert_eq!(g([2, 2], [4, 4], one, [0, 0], one), None);
        assert_eq!(g([2, 2], [4, 4], one, [1, 1], one), Some([1, 1]));
        assert_eq!(g([3, 3], [1, 1], [0, 1], [0, 0], one), None);
    }

    /// col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩ for any x and c.
    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        let g = Window::new(2, [5, 4], [3, 2], [2, 1], [1, 1], [1, 2]).unwrap();
        let x: Vec<f64> = (0..40).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        let c: Vec<f64> = (0..g.rows() * g.positions())
            .map(|i| ((i * 5) % 13) as f64 - 6.0)
            .collect();
        let mut cols = vec![0.0; c.len()];
        im2col(&x, &g, &mut cols);
        let mut back = vec![0.0; x.len()];
        col2im(&c, &g, &mut back);
        let lhs: f64 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
        let rhs: f64 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
        assert_eq!(lhs, rhs);
    }

    #[test]
    fn a_column_is_the_window_under_one_output_position() {
        // x = 0..9 as a 3×3 image; a 2×2 kernel, stride 1, no padding: 4 windows.
        let g = Window::new(1, [3, 3], [2, 2], [1, 1], [0, 0], [1, 1]).unwrap();
        let x: Vec<f64> = (0..9).map(f64::from).collect();
        let mut cols = vec![0.0; 16];
        im2col(&x, &g, &mut cols);
        // Column 3 is the window at output (1, 1): x[1..3, 1..3] = 4, 5, 7, 8.
        let column: Vec<f64> = (0..4).map(|r| cols[r * 4 + 3]).collect();
        assert_eq!(column, [4.0, 5.0, 7.0, 8.0]);
    }
}
