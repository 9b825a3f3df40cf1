//! The model's layers on the tape, by name: the encoder and decoder as the math reads.
//!
//! The parameters live in one flat list (what the optimizer, the checkpoints and the tape
//! bind see), in the order of [`ModelConfig::param_shapes`]. [`Layers::on`] names them:
//! each `Linear` is a weight `[out, in]` and a bias `[out]`, as PyTorch's `nn.Linear`;
//! each `Conv` a weight `[C_out, C_in, k, k]` (`[C_in, C_out, k, k]` for a transposed
//! one) and a bias, as `nn.Conv2d` and `nn.ConvTranspose2d`.

use tensor::{Float, Var};

use crate::model::config::ModelConfig;
use crate::model::conv_shape::ConvShape;

/// A fully connected layer on the tape: `y = x·Wᵀ + b`.
#[derive(Clone, Copy)]
pub struct Linear<'t, T: Float> {
    /// `W`, `[out, in]`.
    pub weight: Var<'t, T>,
    /// `b`, `[out]`.
    pub bias: Var<'t, T>,
}

impl<'t, T: Float> Linear<'t, T> {
    /// `x·Wᵀ + b` (one fused op: `ops/linear.rs`).
    pub fn apply(&self, x: Var<'t, T>) -> Var<'t, T> {
        x.linear(self.weight, self.bias)
    }

    /// Two layers reading the same input as one: `[W_a; W_b]`, `[b_a; b_b]`. The output's
    /// first columns are `a`'s, the rest `b`'s.
    pub fn stacked(a: &Self, b: &Self) -> Self {
        Linear {
            weight: Var::concat(&[a.weight, b.weight], 0),
            bias: Var::concat(&[a.bias, b.bias], 0),
        }
    }
}

/// A convolution (or transposed convolution) layer on the tape.
#[derive(Clone, Copy)]
pub struct Conv<'t, T: Float> {
    /// The kernel.
    pub weight: Var<'t, T>,
    /// One bias per output channel.
    pub bias: Var<'t, T>,
}

impl<'t, T: Float> Conv<'t, T> {
    /// `conv2d(x, W) + b` with the shape's stride and padding (`ops/conv2d.rs`).
    pub fn apply(&self, x: Var<'t, T>, shape: &ConvShape) -> Var<'t, T> {
        let (s, p) = (shape.stride, shape.padding);
        x.conv2d(self.weight, self.bias, [s, s], [p, p], [1, 1])
    }

    /// `conv_transpose2d(x, W) + b` with the shape's stride and padding and the given
    /// output padding (`ops/conv_transpose2d.rs`).
    pub fn apply_transposed(
        &self,
        x: Var<'t, T>,
        shape: &ConvShape,
        output_padding: [usize; 2],
    ) -> Var<'t, T> {
        let (s, p) = (shape.stride, shape.padding);
        x.conv_transpose2d(
            self.weight,
            self.bias,
            [s, s],
            [p, p],
            output_padding,
            [1, 1],
        )
    }
}

/// `x → h → (μ, logvar)`.
pub struct Encoder<'t, T: Float> {
    /// The conv layers, input first (none for the MLP).
    pub convs: Vec<Conv<'t, T>>,
    /// The hidden (dense) layers, input first.
    pub hidden: Vec<Linear<'t, T>>,
    /// The head of μ.
    pub mu: Linear<'t, T>,
    /// The head of log σ².
    pub logvar: Linear<'t, T>,
}

/// `z → h → logits`.
pub struct Decoder<'t, T: Float> {
    /// The hidden layers, z first (the encoder's sizes in reverse).
    pub hidden: Vec<Linear<'t, T>>,
    /// The last dense layer: one Bernoulli logit per pixel (the MLP), or the projection
    /// to the last conv layer's C×H×W (the conv model).
    pub out: Linear<'t, T>,
    /// The transposed convs, the last conv's first (none for the MLP).
    pub deconvs: Vec<Conv<'t, T>>,
}

/// The encoder and the decoder.
pub struct Layers<'t, T: Float> {
    /// `x → (μ, logvar)`.
    pub encoder: Encoder<'t, T>,
    /// `z → logits`.
    pub decoder: Decoder<'t, T>,
}

impl<'t, T: Float> Layers<'t, T> {
    /// Names the bound parameters `params` of a model of `config`.
    ///
    /// # Panics
    /// If `params` is not one weight and one bias per layer of `config`.
    pub fn on(config: &ModelConfig, params: &[Var<'t, T>]) -> Self {
        let depth = config.hidden.len();
        let n_convs = config.conv.as_ref().map_or(0, |c| c.channels.len());
        assert_eq!(
            params.len(),
            4 * (depth + n_convs) + 6,
            "one weight and one bias per layer"
        );
        // [convs | dense encoder, heads, dense decoder, out | transposed convs]
        let (convs, rest) = params.split_at(2 * n_convs);
        let (dense, deconvs) = rest.split_at(rest.len() - 2 * n_convs);
        let conv_layers = |ps: &[Var<'t, T>]| {
            ps.chunks(2)
                .map(|pair| Conv {
                    weight: pair[0],
                    bias: pair[1],
                })
                .collect()
        };
        let mut dense = dense.chunks(2).map(|pair| Linear {
            weight: pair[0],
            bias: pair[1],
        });
        let mut next = || dense.next().expect("counted above");
        let encoder = Encoder {
            convs: conv_layers(convs),
            hidden: (0..depth).map(|_| next()).collect(),
            mu: next(),
            logvar: next(),
        };
        let decoder = Decoder {
            hidden: (0..depth).map(|_| next()).collect(),
            out: next(),
            deconvs: conv_layers(deconvs),
        };
        Layers { encoder, decoder }
    }
}
