//! The model's layers on the tape, by name: the encoder and decoder as the math reads.
//!
//! The parameters live in one flat list (what the optimizer, the checkpoints and the tape
//! bind see), in the order of [`ModelConfig::param_shapes`]. [`Layers::on`] names them:
//! each `Linear` is a weight `[out, in]` and a bias `[out]`, as PyTorch's `nn.Linear`.

use tensor::{Float, Var};

use crate::activation::Activation;

/// The architecture: what a checkpoint's metadata records.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// Pixels per image (784 for MNIST).
    pub input_dim: usize,
    /// Encoder hidden sizes; the decoder uses them in reverse.
    pub hidden: Vec<usize>,
    /// Size of z.
    pub latent: usize,
    /// Hidden-layer nonlinearity.
    pub activation: Activation,
}

impl Default for ModelConfig {
    /// The canonical PyTorch example: 784-400-20, ReLU.
    fn default() -> Self {
        ModelConfig {
            input_dim: 784,
            hidden: vec![400],
            latent: 20,
            activation: Activation::Relu,
        }
    }
}

impl ModelConfig {
    /// Every parameter's name and shape, in the model's fixed order.
    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut shapes = Vec::new();
        let mut layer = |name: String, inp: usize, out: usize| {
            shapes.push((format!("{name}.weight"), vec![out, inp]));
            shapes.push((format!("{name}.bias"), vec![out]));
        };
        let mut inp = self.input_dim;
        for (i, &h) in self.hidden.iter().enumerate() {
            layer(format!("encoder.hidden.{i}"), inp, h);
            inp = h;
        }
        layer("encoder.mu".into(), inp, self.latent);
        layer("encoder.logvar".into(), inp, self.latent);
        let mut inp = self.latent;
        for (i, &h) in self.hidden.iter().rev().enumerate() {
            layer(format!("decoder.hidden.{i}"), inp, h);
            inp = h;
        }
        layer("decoder.out".into(), inp, self.input_dim);
        shapes
    }

    /// Number of scalar parameters (652,824 for 784-400-20).
    ///
    /// # Panics
    /// If the count overflows `usize` (see [`checked_param_count`](Self::checked_param_count)).
    pub fn param_count(&self) -> usize {
        self.checked_param_count()
            .expect("the parameter count overflows usize")
    }

    /// Number of scalar parameters, or `None` when it does not fit in a `usize`
    /// (sizes from flags and files are checked with this before anything is allocated).
    pub fn checked_param_count(&self) -> Option<usize> {
        self.param_shapes()
            .iter()
            .try_fold(0usize, |total, (_, s)| {
                total.checked_add(s.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?)
            })
    }
}

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

/// The reparameterization: `z = μ + exp(½·logvar) ⊙ ε`. The randomness is the input ε, so
/// z is a differentiable function of μ and logvar: ∂z/∂μ = 1, ∂z/∂logvar = ½ (z − μ).
pub fn reparameterize<'t, T: Float>(
    mu: Var<'t, T>,
    logvar: Var<'t, T>,
    eps: Var<'t, T>,
) -> Var<'t, T> {
    mu + logvar.mul_scalar(T::of(0.5)).exp() * eps
}
