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
//!
//! A batch is lowered a group of images at a time: the group's columns side by side,
//! `cols [C·kh·kw, n·L]` (image b's at columns `b·L..(b+1)·L`), so one product serves
//! the group, `W · cols = [C_out, n·L]`: a matrix wide enough for the GEMM to run near
//! its peak, where one image's `L` columns (49 for a 7×7 output) would leave it starved.
//! The images stay batch-major (`[n, C, L]`) everywhere else; [`channel_major`] and
//! [`batch_major`] turn a group from one layout to the other. The buffers live in
//! [`crate::speed::workspace`], and a group is at most [`super::lowered::GROUP_VALUES`]
//! values of `cols`, so the scratch memory is bounded whatever the batch.

use crate::speed::parallel::for_each_indexed_chunk_mut;
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

    /// Values of one image: `c·h·w`.
    pub(crate) fn image_len(&self) -> usize {
        self.c * self.size[0] * self.size[1]
    }

    /// The image's size with its zero padding: `[h + 2p_h, w + 2p_w]`.
    fn padded(&self) -> [usize; 2] {
        [0, 1].map(|a| self.size[a] + 2 * self.padding[a])
    }

    /// Where each output position's window starts in the padded image (its top-left
    /// corner): `oh·s_h·W_p + ow·s_w`. The same for every row of `cols`.
    fn corners(&self) -> Vec<usize> {
        let ([_, w_p], [s_h, s_w]) = (self.padded(), self.stride);
        let [h_out, w_out] = self.out;
        (0..h_out)
            .flat_map(|oh| (0..w_out).map(move |ow| oh * s_h * w_p + ow * s_w))
            .collect()
    }

    /// Where row `r = (c, i, j)` of `cols` reads in the padded image, from a window's
    /// corner: channel `c`, `i·d_h` down, `j·d_w` across.
    fn row_offset(&self, r: usize) -> usize {
        let ([h_p, w_p], [kh, kw]) = (self.padded(), self.kernel);
        let (c, i, j) = (r / (kh * kw), (r / kw) % kh, r % kw);
        (c * h_p + i * self.dilation[0]) * w_p + j * self.dilation[1]
    }
}

/// `padded ← x` for a group of images, each with its zero border (`[n, c, h_p, w_p]`).
fn pad<T: Float>(x: &[T], g: &Window, padded: &mut Vec<T>) {
    let ([h, w], [h_p, w_p], [p_h, p_w]) = (g.size, g.padded(), g.padding);
    let n = x.len() / g.image_len();
    padded.clear();
    padded.resize(n * g.c * h_p * w_p, T::zero());
    for_each_indexed_chunk_mut(padded, h_p * w_p, 0, |plane, out| {
        let src = &x[plane * h * w..][..h * w];
        for (row, dst) in src.chunks(w).zip(out[p_h * w_p..].chunks_mut(w_p)) {
            dst[p_w..p_w + w].copy_from_slice(row);
        }
    });
}

/// `cols ← im2col(x)` for a group of `n` images `x [n, c, h, w]` (row-major): `cols`
/// `[rows, n·L]`, each image's columns beside the previous one's. The images are first
/// copied with their zero border into `padded` (scratch), so that every entry is one
/// read, `cols[r, (b, pos)] = padded_b[row_offset(r) + corner(pos)]`, with no test for
/// the border. Rows are filled in parallel.
pub(crate) fn im2col<T: Float>(x: &[T], g: &Window, cols: &mut [T], padded: &mut Vec<T>) {
    let l = g.positions();
    let n = x.len() / g.image_len();
    assert_eq!(cols.len(), g.rows() * n * l, "im2col: cols is rows × n·L");
    pad(x, g, padded);
    let (padded, corners) = (&padded[..], g.corners());
    let image_p = g.c * g.padded()[0] * g.padded()[1];
    for_each_indexed_chunk_mut(cols, n * l, cols.len(), |r, row| {
        let offset = g.row_offset(r);
        for (x_b, out) in padded.chunks(image_p).zip(row.chunks_mut(l)) {
            let x_b = &x_b[offset..];
            out.iter_mut()
                .zip(&corners)
                .for_each(|(o, &at)| *o = x_b[at]);
        }
    });
}

/// `x += col2im(cols)` for a group of `n` images: every column added back onto its window
/// of its image (the adjoint of [`im2col`]): into a zero-padded copy first (`padded`,
/// scratch), whose interior is then added to `x`. Images are done in parallel.
pub(crate) fn col2im<T: Float>(cols: &[T], g: &Window, x: &mut [T], padded: &mut Vec<T>) {
    let (l, [h, w], [h_p, w_p], [p_h, p_w]) = (g.positions(), g.size, g.padded(), g.padding);
    let n = x.len() / g.image_len();
    let width = n * l;
    assert_eq!(cols.len(), g.rows() * width, "col2im: cols is rows × n·L");
    let image_p = g.c * h_p * w_p;
    padded.clear();
    padded.resize(n * image_p, T::zero());
    let corners = g.corners();
    let offsets: Vec<usize> = (0..g.rows()).map(|r| g.row_offset(r)).collect();
    for_each_indexed_chunk_mut(padded, image_p, cols.len(), |b, x_b| {
        for (r, &offset) in offsets.iter().enumerate() {
            let (row, x_b) = (&cols[r * width + b * l..][..l], &mut x_b[offset..]);
            row.iter().zip(&corners).for_each(|(&v, &at)| x_b[at] += v);
        }
    });
    for_each_indexed_chunk_mut(x, h * w, 0, |plane, out| {
        let src = &padded[plane * h_p * w_p + p_h * w_p..];
        for (dst, row) in out.chunks_mut(w).zip(src.chunks(w_p)) {
            dst.iter_mut().zip(&row[p_w..]).for_each(|(d, &v)| *d += v);
        }
    });
}

/// `out ← x` from batch-major `[n, c, l]` to channel-major `[c, n·l]`.
pub(crate) fn channel_major<T: Float>(x: &[T], c: usize, l: usize, out: &mut [T]) {
    let n = x.len() / (c * l).max(1);
    assert_eq!(
        out.len(),
        x.len(),
        "channel_major: as many values out as in"
    );
    for_each_indexed_chunk_mut(out, n * l, 0, |ch, row| {
        for (b, dst) in row.chunks_mut(l).enumerate() {
            dst.copy_from_slice(&x[(b * c + ch) * l..][..l]);
        }
    });
}

/// `out ← x + bias` from channel-major `[c, n·l]` back to batch-major `[n, c, l]`, the
/// channel's bias added to each of its values (none: nothing added).
pub(crate) fn batch_major<T: Float>(
    x: &[T],
    c: usize,
    l: usize,
    bias: Option<&[T]>,
    out: &mut [T],
) {
    let width = x.len() / c.max(1);
    assert_eq!(out.len(), x.len(), "batch_major: as many values out as in");
    for_each_indexed_chunk_mut(out, c * l, 0, |b, image| {
        for (ch, dst) in image.chunks_mut(l).enumerate() {
            let src = &x[ch * width + b * l..][..l];
            let add = bias.map_or(T::zero(), |bias| bias[ch]);
            dst.iter_mut().zip(src).for_each(|(d, &s)| *d = s + add);
        }
    });
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
        im2col(&x, &g, &mut cols, &mut Vec::new());
        let mut back = vec![0.0; x.len()];
        col2im(&c, &g, &mut back, &mut Vec::new());
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
        im2col(&x, &g, &mut cols, &mut Vec::new());
        // Column 3 is the window at output (1, 1): x[1..3, 1..3] = 4, 5, 7, 8.
        let column: Vec<f64> = (0..4).map(|r| cols[r * 4 + 3]).collect();
        assert_eq!(column, [4.0, 5.0, 7.0, 8.0]);
        // Two images side by side: the second's columns follow the first's in each row.
        let two: Vec<f64> = (0..18).map(f64::from).collect();
        let mut cols = vec![0.0; 32];
        im2col(&two, &g, &mut cols, &mut Vec::new());
        let column: Vec<f64> = (0..4).map(|r| cols[r * 8 + 4 + 3]).collect();
        assert_eq!(column, [13.0, 14.0, 16.0, 17.0]);
    }

    #[test]
    fn the_two_layouts_are_inverse() {
        let x: Vec<f64> = (0..24).map(f64::from).collect(); // [n 2, c 3, l 4]
        let mut cm = vec![0.0; 24];
        channel_major(&x, 3, 4, &mut cm);
        // Channel 1's row: image 0's values 4..8, then image 1's 16..20.
        assert_eq!(cm[8..16], [4.0, 5.0, 6.0, 7.0, 16.0, 17.0, 18.0, 19.0]);
        let mut back = vec![0.0; 24];
        batch_major(&cm, 3, 4, Some(&[0.0, 100.0, 0.0]), &mut back);
        let expected: Vec<f64> = x
            .iter()
            .enumerate()
            .map(|(i, v)| v + if (i / 4) % 3 == 1 { 100.0 } else { 0.0 })
            .collect();
        assert_eq!(back, expected);
    }
}
