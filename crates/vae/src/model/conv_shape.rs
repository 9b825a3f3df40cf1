//! The convolutional VAE's geometry: the image, the conv layers' channels, and the
//! one kernel size, stride and padding they share; from them, every layer's size and the
//! output padding that lets each transposed convolution undo its convolution.
//!
//! ```text
//! a conv layer:        n → ⌊(n + 2p − k) / s⌋ + 1           (per axis)
//! its transpose:       m → (m − 1)·s − 2p + k + output_padding
//! ```
//! The floor loses `(n + 2p − k) mod s` pixels, so the transpose adds them back as its
//! output padding (always below the stride, as PyTorch requires); the two axes can need
//! different values when the image is not square. That is why any image size round-trips.

/// The convolutional part of a model (the `--arch conv` flags, and what its checkpoint
/// records).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// The image as `[channels, height, width]` (1 channel for grey images).
    pub image: [usize; 3],
    /// Output channels of each conv layer, input side first (`--channels 32,64`).
    pub channels: Vec<usize>,
    /// The square kernel's side (`--kernel`).
    pub kernel: usize,
    /// The stride on both axes (`--stride`).
    pub stride: usize,
    /// The zero padding on both axes (`--padding`).
    pub padding: usize,
}

/// Why a geometry cannot be built: the flag to change, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    /// The flag that names the problem (`--kernel`, `--channels`, `--stride`).
    pub flag: &'static str,
    /// The problem, with the sizes.
    pub problem: String,
}

impl ConvShape {
    /// `[height, width]` of the image and after each conv layer, checked: every layer's
    /// padded input must hold the kernel, so that no size reaches 0.
    pub fn sizes(&self) -> Result<Vec<[usize; 2]>, ShapeError> {
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        if self.channels.is_empty() || self.channels.contains(&0) {
            return Err(ShapeError {
                flag: "--channels",
                problem: format!(
                    "give one or more conv layers of at least 1 channel, got {:?}",
                    self.channels
                ),
            });
        }
        if k == 0 || s == 0 {
            let flag = if k == 0 { "--kernel" } else { "--stride" };
            return Err(ShapeError {
                flag,
                problem: "must be at least 1".into(),
            });
        }
        let [_, h, w] = self.image;
        let mut sizes = vec![[h, w]];
        for layer in 0..self.channels.len() {
            let [h, w] = sizes[layer];
            let padded = |n: usize| p.checked_mul(2).and_then(|pp| n.checked_add(pp));
            let fits = |n: usize| padded(n).is_some_and(|padded| padded >= k);
            if !(fits(h) && fits(w)) {
                let chain: Vec<String> = sizes.iter().map(|[h, w]| format!("{h}×{w}")).collect();
                let problem = format!(
                    "conv layer {} gets {h}×{w} inputs (sizes {}), smaller than its {k}×{k} \
                     kernel even with padding {p}",
                    layer + 1,
                    chain.join(" → ")
                );
                let flag = if layer == 0 { "--kernel" } else { "--channels" };
                return Err(ShapeError { flag, problem });
            }
            let out = |n: usize| (padded(n).expect("checked above") - k) / s + 1;
            sizes.push([out(h), out(w)]);
        }
        Ok(sizes)
    }

    /// The output padding `[h, w]` of each transposed conv, in the decoder's order (the
    /// last conv's transpose first), so that each restores its conv's input size.
    ///
    /// # Panics
    /// If [`sizes`](Self::sizes) fails (the config was built unchecked).
    pub fn output_padding(&self) -> Vec<[usize; 2]> {
        let sizes = self.sizes().expect("a checked geometry");
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let lost = |n: usize| (n + 2 * p - k) % s;
        sizes[..sizes.len() - 1]
            .iter()
            .rev()
            .map(|&[h, w]| [lost(h), lost(w)])
            .collect()
    }

    /// `[channels, height, width]` of the last conv layer's output (what is flattened).
    ///
    /// # Panics
    /// If [`sizes`](Self::sizes) fails.
    pub fn last(&self) -> [usize; 3] {
        let sizes = self.sizes().expect("a checked geometry");
        let [h, w] = sizes[sizes.len() - 1];
        [self.channels[self.channels.len() - 1], h, w]
    }

    /// Values in the last conv layer's output: the dense part's input size.
    /// (Saturates rather than overflows: absurd sizes are then refused by the parameter
    /// count.)
    pub fn flat(&self) -> usize {
        self.last().iter().fold(1, |n, &d| n.saturating_mul(d))
    }

    /// Every conv layer's `(input channels, output channels)`, input side first.
    pub fn layer_channels(&self) -> Vec<(usize, usize)> {
        let mut inputs = vec![self.image[0]];
        inputs.extend(&self.channels);
        inputs.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Activations per image in the conv layers (each conv's output and its transpose's),
    /// for memory estimates.
    pub fn activations(&self) -> usize {
        let sizes = self.sizes().unwrap_or_default();
        let per_layer = sizes.iter().skip(1).zip(&self.channels);
        2 * per_layer.map(|([h, w], c)| h * w * c).sum::<usize>()
    }

    /// Values of the largest lowering of one image (`C_in·k²·H_out·W_out`, the `cols` of
    /// the widest layer; its transposed conv lowers the same), for memory estimates: the
    /// ops lower a group of images at a time, and never less than one.
    pub fn lowering_per_image(&self) -> usize {
        let sizes = self.sizes().unwrap_or_default();
        let k2 = self.kernel.saturating_mul(self.kernel);
        self.layer_channels()
            .iter()
            .zip(sizes.iter().skip(1))
            .map(|(&(c_in, _), [h, w])| c_in.saturating_mul(k2).saturating_mul(h * w))
            .max()
            .unwrap_or(0)
    }

    /// "1x28x28 conv 32,64 k4 s2 p1" for names and messages.
    pub fn describe(&self) -> String {
        let [c, h, w] = self.image;
        let channels: Vec<String> = self.channels.iter().map(|c| c.to_string()).collect();
        format!(
            "{c}x{h}x{w} conv {} k{} s{} p{}",
            channels.join(","),
            self.kernel,
            self.stride,
            self.padding
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(h: usize, w: usize, channels: &[usize], k: usize, s: usize, p: usize) -> ConvShape {
        ConvShape {
            image: [1, h, w],
            channels: channels.to_vec(),
            kernel: k,
            stride: s,
            padding: p,
        }
    }

    /// The transposed conv's output size, as PyTorch computes it.
    fn transposed(m: usize, op: usize, s: &ConvShape) -> usize {
        (m - 1) * s.stride + s.kernel + op - 2 * s.padding
    }

    #[test]
    fn mnist_sizes_halve_and_need_no_output_padding() {
        let canonical = shape(28, 28, &[32, 64], 4, 2, 1);
        assert_eq!(canonical.sizes().unwrap(), [[28, 28], [14, 14], [7, 7]]);
        assert_eq!(canonical.output_padding(), [[0, 0], [0, 0]]);
        assert_eq!(canonical.flat(), 64 * 7 * 7);
        // 8×8 with 3×3 kernels: 8 → 4 → 2, and each transpose gives back one pixel less.
        let tiny = shape(8, 8, &[2, 3], 3, 2, 1);
        assert_eq!(tiny.sizes().unwrap(), [[8, 8], [4, 4], [2, 2]]);
        assert_eq!(tiny.output_padding(), [[1, 1], [1, 1]]);
    }

    #[test]
    fn every_size_round_trips_on_each_axis() {
        for (h, w) in [(28, 28), (8, 8), (13, 20), (9, 31), (5, 6)] {
            for (k, s, p) in [(4, 2, 1), (3, 2, 1), (3, 3, 0), (5, 1, 2), (2, 3, 1)] {
                let g = shape(h, w, &[4, 5], k, s, p);
                let Ok(sizes) = g.sizes() else { continue };
                let pads = g.output_padding();
                // Up the decoder: from the last size back to the image, axis by axis.
                let mut m = sizes[sizes.len() - 1];
                for (i, op) in pads.iter().enumerate() {
                    assert!(op[0] < s && op[1] < s, "{op:?} below the stride {s}");
                    m = [transposed(m[0], op[0], &g), transposed(m[1], op[1], &g)];
                    assert_eq!(m, sizes[sizes.len() - 2 - i], "{h}x{w} k{k} s{s} p{p}");
                }
            }
        }
    }

    #[test]
    fn sizes_the_strides_cannot_serve_name_the_flag() {
        let err = shape(3, 3, &[8], 5, 1, 0).sizes().unwrap_err();
        assert_eq!(err.flag, "--kernel");
        assert!(err.problem.contains("3×3 inputs"), "{}", err.problem);
        let err = shape(8, 8, &[4, 4, 4, 4, 4], 3, 2, 0).sizes().unwrap_err();
        assert_eq!(err.flag, "--channels");
        assert!(err.problem.contains("8×8 → 3×3 → 1×1"), "{}", err.problem);
        assert_eq!(
            shape(8, 8, &[], 3, 2, 0).sizes().unwrap_err().flag,
            "--channels"
        );
        assert_eq!(
            shape(8, 8, &[2], 3, 0, 0).sizes().unwrap_err().flag,
            "--stride"
        );
    }
}
