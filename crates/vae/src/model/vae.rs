//! The model: an encoder `x → (μ, log σ²)` and a decoder `z → logits`, an MLP or
//! convolutional.
//!
//! ```text
//! encoder:  h = act(x·W₁ᵀ + b₁) → … → μ = h·W_μᵀ + b_μ,  logvar = h·W_σᵀ + b_σ
//! sample:   z = μ + exp(½·logvar) ⊙ ε,  ε ~ N(0, I)      (ε is an input: layers.rs)
//! decoder:  h = act(z·V₁ᵀ + c₁) → … → logits = h·V_outᵀ + c_out
//! ```
//! The convolutional model puts conv layers in front of the encoder's dense layers and
//! their transposes behind the decoder's (see [`crate::model::conv_shape`]):
//!
//! ```text
//! encoder:  x [B, C, H, W] → act(conv2d(·)) → … → flatten → dense layers → μ, logvar
//! decoder:  z → dense layers → act(project(·)) → unflatten [B, C_last, H_last, W_last]
//!             → act(conv_transpose2d(·)) → … → conv_transpose2d(·) = logits [B, C, H, W]
//! ```
//! Images travel flat (`[B, C·H·W]`, channel-major, as `torch.flatten`) everywhere else,
//! so the objectives, the training loop and the tools serve both models alike.
//!
//! Layers are stored as PyTorch's `nn.Linear`, `nn.Conv2d` and `nn.ConvTranspose2d` store
//! them and named as PyTorch's state dict would name them, so checkpoints load there.

use ndarray::Array2;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use tensor::{Float, Tape, Tensor, Var};

use crate::model::config::ModelConfig;
use crate::model::init::{self, Init};
use crate::model::layers::{Layers, Linear};

/// A VAE's parameters, in the order of [`ModelConfig::param_shapes`].
#[derive(Clone, Debug)]
pub struct Vae<T: Float = f32> {
    /// The architecture.
    pub config: ModelConfig,
    /// Parameters by position; names come from the config.
    pub params: Vec<Tensor<T>>,
}

/// The forward pass's values on a tape.
pub struct Output<'t, T: Float> {
    /// Mean of q(z|x), `[batch, latent]`.
    pub mu: Var<'t, T>,
    /// Log-variance of q(z|x), `[batch, latent]`.
    pub logvar: Var<'t, T>,
    /// The sampled code, `[batch, latent]`.
    pub z: Var<'t, T>,
    /// Bernoulli logits of p(x|z), `[batch, input_dim]`.
    pub logits: Var<'t, T>,
}

impl<T: Float> Vae<T> {
    /// A model initialised like PyTorch's `nn.Linear`: weights and biases uniform in
    /// ±1/√fan_in.
    pub fn new<R: Rng>(config: ModelConfig, rng: &mut R) -> Self {
        Self::with_init(config, Init::Pytorch, rng)
    }

    /// A model initialised by `init` (see [`crate::model::init`]).
    pub fn with_init<R: Rng>(config: ModelConfig, init: Init, rng: &mut R) -> Self {
        let mut weight = vec![];
        let params = config
            .param_shapes()
            .into_iter()
            .map(|(_, shape)| {
                if shape.len() >= 2 {
                    weight = shape.clone(); // a bias shares the fans of the weight before it
                }
                init::draw(init, &shape, &weight, rng)
            })
            .collect();
        Vae { config, params }
    }

    /// Sets the decoder's output bias to the logits of the pixel means `means` (one per
    /// input pixel, in [0, 1]; clipped to [0.001, 0.999]). The conv model's last
    /// transposed conv has one bias per channel: it gets the logit of the channel's mean.
    pub fn set_output_bias_to_means(&mut self, means: &[f64]) {
        let bias = self.params.last_mut().expect("the decoder's output bias");
        assert_eq!(self.config.input_dim, means.len(), "one mean per pixel");
        let per_channel: Vec<f64> = means
            .chunks(means.len() / bias.len())
            .map(|plane| plane.iter().sum::<f64>() / plane.len() as f64)
            .collect();
        *bias = init::logits_of_means(&per_channel);
    }

    /// Parameter names, in order.
    pub fn names(&self) -> Vec<String> {
        self.config
            .param_shapes()
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    /// Binds the parameters to `tape` by moving them in (no copy); hand them back with
    /// [`unbind`](Vae::unbind) once the tape is done with them.
    pub fn bind<'t>(&mut self, tape: &'t Tape<T>) -> Vec<Var<'t, T>> {
        self.params
            .iter_mut()
            .map(|p| tape.param_owned(std::mem::take(p)))
            .collect()
    }

    /// Moves the parameters back from the tape.
    pub fn unbind(&mut self, tape: &Tape<T>, vars: &[Var<'_, T>]) {
        for (p, &v) in self.params.iter_mut().zip(vars) {
            *p = tape.take_value(v);
        }
    }

    /// Binds copies of the parameters (for evaluation, where the model stays borrowed).
    pub fn bind_copies<'t>(&self, tape: &'t Tape<T>) -> Vec<Var<'t, T>> {
        self.params.iter().map(|p| tape.param(p)).collect()
    }

    /// The encoder: `x [batch, input_dim]` → `(mu, logvar)`.
    pub fn encode<'t>(&self, params: &[Var<'t, T>], x: Var<'t, T>) -> (Var<'t, T>, Var<'t, T>) {
        let encoder = Layers::on(&self.config, params).encoder;
        let act = self.config.activation;
        let x = match &self.config.conv {
            None => x,
            Some(shape) => {
                let batch = x.shape()[0];
                let image = [batch, shape.image[0], shape.image[1], shape.image[2]];
                let h = encoder
                    .convs
                    .iter()
                    .fold(x.reshape(&image), |h, conv| act.apply(conv.apply(h, shape)));
                h.reshape(&[batch, shape.flat()])
            }
        };
        let h = encoder
            .hidden
            .iter()
            .fold(x, |h, layer| act.apply(layer.apply(h)));
        // Both heads in one product, [W_mu; W_logvar]: the output's two halves are mu and
        // logvar. The same numbers as two products, but one well-shaped matmul (2·latent
        // columns) instead of two narrow ones, and one gradient for h instead of two
        // to add up.
        let heads = Linear::stacked(&encoder.mu, &encoder.logvar).apply(h);
        let latent = self.config.latent;
        (
            heads.slice(1, 0..latent),
            heads.slice(1, latent..2 * latent),
        )
    }

    /// The decoder: `z [batch, latent]` → logits `[batch, input_dim]`.
    pub fn decode<'t>(&self, params: &[Var<'t, T>], z: Var<'t, T>) -> Var<'t, T> {
        let decoder = Layers::on(&self.config, params).decoder;
        let act = self.config.activation;
        let h = decoder
            .hidden
            .iter()
            .fold(z, |h, layer| act.apply(layer.apply(h)));
        let Some(shape) = &self.config.conv else {
            return decoder.out.apply(h);
        };
        let batch = h.shape()[0];
        let [c, height, width] = shape.last();
        let mut h = act
            .apply(decoder.out.apply(h))
            .reshape(&[batch, c, height, width]);
        let last = decoder.deconvs.len() - 1;
        for (i, (deconv, pad)) in decoder
            .deconvs
            .iter()
            .zip(shape.output_padding())
            .enumerate()
        {
            h = deconv.apply_transposed(h, shape, pad);
            if i < last {
                h = act.apply(h);
            }
        }
        h.reshape(&[batch, self.config.input_dim])
    }

    /// The encoder alone on a batch of images, with no gradients recorded: `(mu, logvar)`,
    /// each `[batch, latent]` (for codes, pictures and scores).
    pub fn encode_batch(&self, x: Array2<T>) -> (Array2<T>, Array2<T>) {
        let tape = Tape::no_grad();
        let params = self.bind_copies(&tape);
        let (mu, logvar) = self.encode(&params, tape.constant_owned(x.into_dyn()));
        (matrix(mu), matrix(logvar))
    }

    /// The decoder alone on codes `z [batch, latent]`, with no gradients recorded: each
    /// pixel's probability `sigmoid(logits)`, `[batch, input_dim]`.
    pub fn decode_probabilities(&self, z: Array2<T>) -> Array2<T> {
        let tape = Tape::no_grad();
        let params = self.bind_copies(&tape);
        matrix(
            self.decode(&params, tape.constant_owned(z.into_dyn()))
                .sigmoid(),
        )
    }

    /// Encoder, reparameterization `z = mu + exp(logvar/2) ⊙ eps`, decoder.
    pub fn forward<'t>(
        &self,
        params: &[Var<'t, T>],
        x: Var<'t, T>,
        eps: Var<'t, T>,
    ) -> Output<'t, T> {
        let (mu, logvar) = self.encode(params, x);
        let z = reparameterize(mu, logvar, eps);
        let logits = self.decode(params, z);
        Output {
            mu,
            logvar,
            z,
            logits,
        }
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

/// A 2-D value read off the tape.
fn matrix<T: Float>(v: Var<'_, T>) -> Array2<T> {
    v.to_tensor().into_dimensionality().expect("2-D")
}

/// Standard normal noise ε of shape `[rows, cols]`, for the reparameterization.
pub fn normal_noise<R: Rng>(rows: usize, cols: usize, rng: &mut R) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(rng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn canonical_model_has_pytorchs_parameter_count() {
        assert_eq!(ModelConfig::default().param_count(), 652_824);
        let names: Vec<String> = ModelConfig::default()
            .param_shapes()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names[0], "encoder.hidden.0.weight");
        assert_eq!(names.last().unwrap(), "decoder.out.bias");
    }

    #[test]
    fn init_is_uniform_within_one_over_sqrt_fan_in() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let model = Vae::<f64>::new(ModelConfig::default(), &mut rng);
        let (w, b) = (&model.params[0], &model.params[1]); // fan_in 784
        let bound = 1.0 / 28.0;
        assert!(w.iter().chain(b.iter()).all(|v| v.abs() < bound));
        assert!(
            w.iter().any(|v| v.abs() > 0.9 * bound),
            "the whole range is used"
        );
        let head = &model.params[3]; // encoder.mu.bias: fan_in 400
        assert!(head.iter().all(|v| v.abs() < 0.05) && head.iter().any(|v| v.abs() > 0.04));
    }
}
