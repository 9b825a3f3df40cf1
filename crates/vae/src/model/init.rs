//! How a new model's parameters start.
//!
//! | `--init` | weights | biases |
//! |---|---|---|
//! | `pytorch` (default) | uniform ±1/√fan_in | uniform ±1/√fan_in (PyTorch's `nn.Linear`) |
//! | `glorot` | uniform ±√(6/(fan_in + fan_out)) (Glorot & Bengio, 2010) | 0 |
//!
//! Glorot's bound keeps the variance of activations and of gradients roughly constant
//! from layer to layer (Var w = 2/(fan_in + fan_out), the uniform's variance being
//! bound²/3). It is what Burda et al. used for the IWAE paper's MNIST models.
//!
//! `--output-bias data-mean` then sets the decoder's output bias to the logit of each
//! pixel's mean over the training set (clipped to [0.001, 0.999]), so that the untrained
//! decoder already predicts the average image: the first epochs learn shapes, not the
//! background. The IWAE paper's code does the same.

use rand::Rng;
use serde::{Deserialize, Serialize};
use tensor::{Float, Tensor};

/// The initialisation scheme (`--init`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// PyTorch's `nn.Linear`: weights and biases uniform in ±1/√fan_in.
    #[default]
    Pytorch,
    /// Glorot (Xavier) uniform weights, zero biases.
    Glorot,
}

/// Where the decoder's output bias starts (`--output-bias`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum OutputBias {
    /// As the `--init` scheme says.
    #[default]
    Init,
    /// The logit of each pixel's mean over the training set.
    DataMean,
}

/// A weight (`[fan_out, fan_in]`, or a conv kernel `[C_out, C_in, kh, kw]`) or a bias
/// (`[fan_out]`), drawn as `init` says. `weight` is the weight's shape (the bias's layer
/// weight for a bias). As in PyTorch, a kernel's fans count its window:
/// `fan_in = C_in·kh·kw`, `fan_out = C_out·kh·kw` (for a transposed conv, whose weight is
/// `[C_in, C_out, kh, kw]`, PyTorch reads the same two dimensions, so the same rule holds).
pub fn draw<T: Float, R: Rng>(
    init: Init,
    shape: &[usize],
    weight: &[usize],
    rng: &mut R,
) -> Tensor<T> {
    let window: usize = weight.iter().skip(2).product();
    let (fan_out, fan_in) = (weight[0] * window, weight[1] * window);
    let bound = match (init, shape.len()) {
        (Init::Pytorch, _) => 1.0 / (fan_in as f64).sqrt(),
        (Init::Glorot, 1) => return Tensor::zeros(shape.to_vec()),
        (Init::Glorot, _) => (6.0 / (fan_in + fan_out) as f64).sqrt(),
    };
    Tensor::from_shape_fn(shape.to_vec(), |_| T::of(rng.gen_range(-bound..bound)))
}

/// The logits of pixel means (each in [0, 1]), clipped to [0.001, 0.999].
pub fn logits_of_means<T: Float>(means: &[f64]) -> Tensor<T> {
    let logit = |p: f64| {
        let p = p.clamp(0.001, 0.999);
        T::of((p / (1.0 - p)).ln())
    };
    Tensor::from_shape_vec(vec![means.len()], means.iter().map(|&p| logit(p)).collect())
        .expect("one value per pixel")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn glorot_uses_its_bound_and_zero_biases() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let w: Tensor<f64> = draw(Init::Glorot, &[200, 784], &[200, 784], &mut rng);
        let bound = (6.0f64 / 984.0).sqrt();
        assert!(w.iter().all(|v| v.abs() < bound) && w.iter().any(|v| v.abs() > 0.99 * bound));
        let b: Tensor<f64> = draw(Init::Glorot, &[200], &[200, 784], &mut rng);
        assert!(b.iter().all(|&v| v == 0.0));
        let p: Tensor<f64> = draw(Init::Pytorch, &[200], &[200, 784], &mut rng);
        assert!(p.iter().all(|v| v.abs() < 1.0 / 28.0) && p.iter().any(|&v| v != 0.0));
        // A 4×4 kernel from 2 to 3 channels: fan_in 2·16 = 32, fan_out 3·16 = 48.
        let k: Tensor<f64> = draw(Init::Pytorch, &[3, 2, 4, 4], &[3, 2, 4, 4], &mut rng);
        let bound = 1.0 / 32f64.sqrt();
        assert!(k.iter().all(|v| v.abs() < bound) && k.iter().any(|v| v.abs() > 0.95 * bound));
        let g: Tensor<f64> = draw(Init::Glorot, &[3, 2, 4, 4], &[3, 2, 4, 4], &mut rng);
        let bound = (6.0f64 / 80.0).sqrt();
        assert!(g.iter().all(|v| v.abs() < bound) && g.iter().any(|v| v.abs() > 0.95 * bound));
    }

    #[test]
    fn data_mean_logits_are_clipped() {
        let b: Tensor<f64> = logits_of_means(&[0.0, 0.5, 1.0, 0.75]);
        let expected = [
            (0.001f64 / 0.999).ln(),
            0.0,
            (0.999f64 / 0.001).ln(),
            3f64.ln(),
        ];
        for (v, e) in b.iter().zip(expected) {
            assert!((v - e).abs() < 1e-12, "{v} vs {e}");
        }
    }
}
