//! The model's layers on the tape, by name: the encoder and decoder as the math reads.
//!
//! The parameters live in one flat list (what the optimizer, the checkpoints and the tape
//! bind see), in the order of [`ModelConfig::param_shapes`]. [`Layers::on`] names them:
//! each `Linear` is a weight `[out, in]` and a bias `[out]`, as PyTorch's `nn.Linear`.

use tensor::{Float, Var};

use crate::model::config::ModelConfig;

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

/// `x → h → (μ, logvar)`.
pub struct Encoder<'t, T: Float> {
    /// The hidden layers, input first.
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
    /// The output layer: one Bernoulli logit per pixel.
    pub out: Linear<'t, T>,
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
        assert_eq!(
            params.len(),
            4 * depth + 6,
            "one weight and one bias per layer"
        );
        let mut layers = params.chunks(2).map(|pair| Linear {
            weight: pair[0],
            bias: pair[1],
        });
        let mut next = || layers.next().expect("counted above");
        let encoder = Encoder {
            hidden: (0..depth).map(|_| next()).collect(),
            mu: next(),
            logvar: next(),
        };
        let decoder = Decoder {
            hidden: (0..depth).map(|_| next()).collect(),
            out: next(),
        };
        Layers { encoder, decoder }
    }
}
