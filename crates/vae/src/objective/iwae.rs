//! The importance-weighted bound (IWAE; Burda, Grosse & Salakhutdinov, "Importance
//! Weighted Autoencoders", ICLR 2016), as a training objective.
//!
//! ## From the log-likelihood to the bound
//!
//! For any distribution q(z|x) that covers the posterior,
//!
//! ```text
//! p(x) = ∫ p(x, z) dz = E_{z~q} [ p(x, z) / q(z|x) ]          (importance sampling)
//!      = E_{z₁..z_K ~ q} [ (1/K) Σᵢ wᵢ ],   wᵢ = p(x, zᵢ) / q(zᵢ|x)
//! ```
//!
//! The average of K weights is an unbiased estimate of p(x) for every K. The logarithm is
//! concave, so by Jensen's inequality the expected log of the estimate is below the log
//! of its expectation:
//!
//! ```text
//! L_K = E [ ln (1/K) Σᵢ wᵢ ] ≤ ln E [ (1/K) Σᵢ wᵢ ] = ln p(x)
//! ```
//!
//! L_1 = E[ln w] is the ELBO. **Why the bound tightens with K:** the K-sample average is
//! the mean of K − 1 fresh sub-averages of K − 1 samples each (drop each sample in turn),
//! so by Jensen again L_K ≥ L_{K−1}; and as K → ∞ the average concentrates on p(x)
//! (law of large numbers), so L_K → ln p(x) when the weights are bounded. The looseness of
//! Jensen's step is the spread of the estimate, which shrinks like 1/K.
//!
//! ## The estimate we minimise
//!
//! With the reparameterization zᵢ = μ + σ ⊙ εᵢ, εᵢ ~ N(0, I), for image b:
//!
//! ```text
//! ln w[i,b] = ln p(x_b|zᵢ) + ln N(zᵢ; 0, I) − ln N(zᵢ; μ_b, diag σ_b²)
//!           = −Σ_pixels BCE(logits(zᵢ), x_b)  −  ½ Σ_j (z_ij² + ln 2π)
//!                                             +  ½ Σ_j (ε_ij² + logvar_bj + ln 2π)
//! loss = mean_b −( logsumexp_i ln w[i,b] − ln K )
//! ```
//!
//! (the ln 2π terms cancel; they are kept so that `log_w` is the true log-weight).
//!
//! ## Why the gradient weights samples by their normalized weight
//!
//! ```text
//! ∂/∂θ logsumexp_i ln wᵢ = Σᵢ w̃ᵢ ∂ ln wᵢ/∂θ,     w̃ᵢ = wᵢ / Σₖ wₖ   (a softmax of ln w)
//! ```
//!
//! The ELBO's gradient averages the K per-sample gradients with equal weights 1/K; the
//! IWAE's weights each by how well its z explains x. Samples that the decoder finds
//! unlikely contribute little, so q is not pushed to cover only what one sample can
//! explain, and it learns a broader posterior with more active units. No code writes
//! the softmax: it is logsumexp's backward (`ops/logsumexp.rs`).
//!
//! ## On the tape
//!
//! The K samples of a batch of B images go through the decoder as one `[K·B, latent]`
//! matrix: one product per layer, not K small ones. Rows are sample-major: row `i·B + b`
//! is sample i of image b.
//!
//! Checked by: the hand-derived case below (K = 1 is the ELBO with the KL sampled);
//! `crates/vae/tests/iwae_golden.rs` (PyTorch's float64 loss, log-weights and gradients,
//! to 1e-9); `crates/vae/tests/iwae_properties.rs` (finite differences, the bound rising
//! with K, and K = 1 against the closed-form ELBO's reconstruction term).

use tensor::{Float, Var};

use crate::model::vae::reparameterize;
use crate::model::vae::Vae;
use crate::objective::loss::recon_per_image;

/// The IWAE loss of a batch and its log-weights, on the tape.
pub struct Iwae<'t, T: Float> {
    /// `mean_b −(logsumexp_i log_w[i,b] − ln K)`: what training minimises, nats per image.
    pub loss: Var<'t, T>,
    /// The log-weights `ln w[i,b]`, `[K, batch]`.
    pub log_w: Var<'t, T>,
    /// Mean over the K·B samples of `−ln p(x|z)`: the ELBO's reconstruction term.
    pub recon: Var<'t, T>,
    /// Mean over the samples of `ln q(z|x) − ln p(z)`: the ELBO's KL term, sampled.
    pub kl: Var<'t, T>,
}

/// The log-weights `ln w[i,b]` `[K, B]` of the images `x [B, D]` under the noise `eps
/// [K, B, L]`, with their `ln p(x|z)` and `ln q(z|x) − ln p(z)` `[K·B]` (sample-major).
/// What the objective below and the evaluation (`eval::iw_nll`) both compute.
pub fn log_weights<'t, T: Float>(
    model: &Vae<T>,
    params: &[Var<'t, T>],
    x: Var<'t, T>,
    eps: Var<'t, T>,
) -> (Var<'t, T>, Var<'t, T>, Var<'t, T>) {
    let (k, b, l) = match *eps.shape() {
        [k, b, l] => (k, b, l),
        ref other => panic!("iwae: eps must be [K, batch, latent], got {other:?}"),
    };
    let d = x.shape()[1];
    let (mu, logvar) = model.encode(params, x);
    // Every image's μ and σ repeated for its K samples: [B, L] → [K, B, L] → [K·B, L].
    let repeat = |v: Var<'t, T>, width: usize| {
        v.reshape(&[1, b, width])
            .broadcast_to(&[k, b, width])
            .reshape(&[k * b, width])
    };
    let eps = eps.reshape(&[k * b, l]);
    let logvar_k = repeat(logvar, l);
    let z = reparameterize(repeat(mu, l), logvar_k, eps);
    let logits = model.decode(params, z);
    let log_px = -recon_per_image(logits, repeat(x, d));
    let half_ln_2pi = T::of(0.5 * (2.0 * std::f64::consts::PI).ln() * l as f64);
    let log_pz = (z * z).sum_axis(1, false).mul_scalar(T::of(-0.5)) - half_ln_2pi;
    let log_qz = (eps * eps + logvar_k)
        .sum_axis(1, false)
        .mul_scalar(T::of(-0.5))
        - half_ln_2pi;
    let log_w = (log_px + log_pz - log_qz).reshape(&[k, b]);
    (log_w, log_px, log_qz - log_pz)
}

/// The IWAE bound of `model` on the batch `x [B, D]` with the noise `eps [K, B, L]`
/// (K importance samples per image).
pub fn iwae<'t, T: Float>(
    model: &Vae<T>,
    params: &[Var<'t, T>],
    x: Var<'t, T>,
    eps: Var<'t, T>,
) -> Iwae<'t, T> {
    let k = eps.shape()[0];
    let (log_w, log_px, kl) = log_weights(model, params, x, eps);
    let bound = log_w.logsumexp(0, false) - T::of((k as f64).ln());
    Iwae {
        loss: -bound.mean(),
        log_w,
        recon: (-log_px).mean(),
        kl: kl.mean(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activation::Activation;
    use crate::model::config::ModelConfig;
    use ndarray::{Array2, Array3, Axis};
    use rand::SeedableRng;
    use tensor::Tape;

    /// With one sample the logsumexp is the log-weight itself, so the IWAE loss is the
    /// ELBO with its KL estimated at the sampled z:
    ///
    /// ```text
    /// −L₁ = Σ_pixels BCE(logits(z), x) + ln q(z|x) − ln p(z)
    ///     = recon + ½ Σ_j (z_j² − ε_j² − logvar_j)          (the ln 2π terms cancel)
    /// ```
    ///
    /// computed here from the forward pass's values with plain arithmetic.
    #[test]
    fn one_sample_is_the_elbo_with_the_kl_sampled() {
        let config = ModelConfig {
            input_dim: 5,
            hidden: vec![4],
            latent: 3,
            activation: Activation::Tanh,
            conv: None,
        };
        let model = Vae::<f64>::new(config, &mut rand::rngs::StdRng::seed_from_u64(7));
        let x = Array2::from_shape_fn((2, 5), |(b, p)| ((b * 5 + p) % 3) as f64 / 2.0);
        let eps = Array3::from_shape_fn((1, 2, 3), |(_, b, j)| 0.4 * j as f64 - 0.3 * b as f64);
        let tape = Tape::<f64>::new();
        let params = model.bind_copies(&tape);
        let xv = tape.constant(&x.clone().into_dyn());
        let loss = iwae(&model, &params, xv, tape.constant(&eps.clone().into_dyn()))
            .loss
            .item();

        let eps0 = eps.index_axis(Axis(0), 0).to_owned();
        let out = model.forward(&params, xv, tape.constant(&eps0.clone().into_dyn()));
        let value = |v: Var<'_, f64>| v.to_tensor().into_dimensionality().unwrap();
        let (z, logvar, logits): (Array2<f64>, Array2<f64>, Array2<f64>) =
            (value(out.z), value(out.logvar), value(out.logits));
        let bce = |l: f64, t: f64| l.max(0.0) - l * t + (-l.abs()).exp().ln_1p();
        let per_image: Vec<f64> = (0..2)
            .map(|b| {
                let recon: f64 = (0..5).map(|p| bce(logits[[b, p]], x[[b, p]])).sum();
                let kl: f64 = (0..3)
                    .map(|j| 0.5 * (z[[b, j]].powi(2) - eps0[[b, j]].powi(2) - logvar[[b, j]]))
                    .sum();
                recon + kl
            })
            .collect();
        let expected = per_image.iter().sum::<f64>() / 2.0;
        assert!(
            (loss - expected).abs() < 1e-12 * expected.abs(),
            "IWAE K = 1: {loss}, the sampled-KL ELBO: {expected}"
        );
    }
}
