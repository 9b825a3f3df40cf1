//! The loss: the negative evidence lower bound (ELBO), in nats per image.
//!
//! **The bound.** We want ln p(x) = ln ∫ p(x|z) p(z) dz, which has no closed form. For
//! any distribution q(z|x) (the encoder's), multiply and divide by it inside the
//! integral, and use Jensen's inequality (ln is concave, so ln E\[w\] ≥ E\[ln w\]):
//!
//! ```text
//! ln p(x) = ln E_q[ p(x|z) p(z) / q(z|x) ]
//!         ≥ E_q[ ln p(x|z) + ln p(z) − ln q(z|x) ]                      (Jensen)
//!         = E_q[ ln p(x|z) ] − KL(q(z|x) ‖ p(z))            =: ELBO(x)
//! ```
//!
//! The gap is exactly KL(q(z|x) ‖ p(z|x)) ≥ 0: the bound is tight when the encoder's q
//! is the true posterior, so maximising the ELBO over the decoder and the encoder both
//! fits the data and makes q a good posterior. [`crate::objective::iwae`] tightens the same
//! inequality by averaging K weights inside the logarithm.
//!
//! **The KL term, in closed form.** For q = N(μ, σ²) and p = N(0, 1) in one dimension,
//!
//! ```text
//! KL = E_q[ln q(z) − ln p(z)]
//!    = E_q[ −½ ln 2πσ² − (z−μ)²/2σ²  +  ½ ln 2π + z²/2 ]
//!    = −½ ln σ² − ½ + ½ (σ² + μ²)          (E_q[(z−μ)²] = σ², E_q[z²] = σ² + μ²)
//!    = ½ (σ² + μ² − 1 − ln σ²)
//! ```
//!
//! and with a diagonal covariance the dimensions add. In the network's terms:
//!
//! ```text
//! −ELBO(x) = E_q[−ln p(x|z)] + KL(q(z|x) ‖ N(0, I)),    q = N(μ, diag(exp(logvar)))
//!
//! reconstruction: −ln p(x|z) = Σ_pixels BCEwithlogits(logits, x)     (Bernoulli decoder,
//!                 one z sample per image: an unbiased estimate of the expectation)
//! KL, closed form: ½ Σ_j (exp(logvar_j) + μ_j² − 1 − logvar_j)
//!   ∂KL/∂μ = μ,   ∂KL/∂logvar = ½ (exp(logvar) − 1)
//! z = μ + exp(½ logvar) ⊙ ε,  ε ~ N(0, I)    (reparameterization: the randomness is an input,
//!   ∂z/∂μ = 1,  ∂z/∂logvar = ½ (z − μ)       so gradients flow through μ and logvar)
//!
//! loss = mean over the batch of [recon + β · KL]
//! ```
//! With β = 1 this is the VAE of Kingma & Welling ("Auto-Encoding Variational Bayes",
//! ICLR 2014); β ≠ 1 is the β-VAE of Higgins et al. (ICLR 2017).
//!
//! Checked by: the hand-derived values below (the KL at the prior, its gradient at
//! logvar = ln 2); `crates/vae/tests/vae_golden.rs` (PyTorch's float64 loss, terms and
//! every parameter gradient, to 1e-9); `crates/vae/tests/elbo_gradcheck.rs` (finite
//! differences through the whole model, over random configurations).

use serde::{Deserialize, Serialize};
use tensor::{Float, Var};

use crate::model::vae::Output;

/// What training minimises (`--objective`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// The negative ELBO with the closed-form KL (this file).
    #[default]
    Elbo,
    /// The negative importance-weighted bound with `--k` samples ([`crate::objective::iwae`]).
    Iwae,
}

/// The loss and its two terms, each a scalar on the tape (batch means, nats per image).
pub struct Elbo<'t, T: Float> {
    /// `recon + beta · kl`: what training minimises.
    pub loss: Var<'t, T>,
    /// Mean reconstruction term, `−ln p(x|z)`.
    pub recon: Var<'t, T>,
    /// Mean KL term.
    pub kl: Var<'t, T>,
}

/// Per-image reconstruction term `Σ_pixels BCE(logits, x)`, `[batch]`.
pub fn recon_per_image<'t, T: Float>(logits: Var<'t, T>, x: Var<'t, T>) -> Var<'t, T> {
    logits.bce_with_logits(x).sum_axis(1, false)
}

/// Per-image KL term `½ Σ_j (exp(logvar) + μ² − 1 − logvar)`, `[batch]`.
pub fn kl_per_image<'t, T: Float>(mu: Var<'t, T>, logvar: Var<'t, T>) -> Var<'t, T> {
    let terms = logvar.exp() + mu * mu - logvar - T::one();
    terms.sum_axis(1, false).mul_scalar(T::of(0.5))
}

/// The negative ELBO of a forward pass on the batch `x`, with KL weight `beta`.
pub fn elbo<'t, T: Float>(out: &Output<'t, T>, x: Var<'t, T>, beta: T) -> Elbo<'t, T> {
    let batch = T::of(x.shape()[0] as f64);
    let recon = out.logits.bce_with_logits_sum(x) / batch;
    let kl = kl_per_image(out.mu, out.logvar).sum() / batch;
    let loss = recon + kl * beta;
    Elbo { loss, recon, kl }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use tensor::Tape;

    #[test]
    fn the_kl_of_the_prior_against_itself_is_zero() {
        // μ = 0, logvar = 0: q = N(0, 1) = p, so KL = ½ (1 + 0 − 1 − 0) = 0 per dimension.
        let tape = Tape::<f64>::new();
        let mu = tape.param(&array![[0.0, 0.0, 0.0]].into_dyn());
        let logvar = tape.param(&array![[0.0, 0.0, 0.0]].into_dyn());
        let kl = kl_per_image(mu, logvar);
        assert_eq!(kl.to_tensor(), array![0.0].into_dyn());
        // …and it is a minimum: both gradients vanish (∂KL/∂μ = μ, ∂KL/∂logvar = ½(e⁰ − 1)).
        let grads = tape.backward(kl.sum());
        assert_eq!(grads.get(mu).unwrap(), &array![[0.0, 0.0, 0.0]].into_dyn());
        assert_eq!(
            grads.get(logvar).unwrap(),
            &array![[0.0, 0.0, 0.0]].into_dyn()
        );
    }

    #[test]
    fn the_kl_and_its_gradient_by_hand_at_logvar_ln_2() {
        // σ² = 2, μ = 0.3: KL = ½ (2 + 0.09 − 1 − ln 2); ∂KL/∂logvar = ½ (2 − 1) = ½,
        // ∂KL/∂μ = μ = 0.3.
        let ln2 = std::f64::consts::LN_2;
        let tape = Tape::<f64>::new();
        let mu = tape.param(&array![[0.3]].into_dyn());
        let logvar = tape.param(&array![[ln2]].into_dyn());
        let kl = kl_per_image(mu, logvar);
        let expected = 0.5 * (2.0 + 0.09 - 1.0 - ln2);
        assert!((kl.item() - expected).abs() < 1e-15, "{}", kl.item());
        let grads = tape.backward(kl.sum());
        let d_logvar = grads.get(logvar).unwrap()[[0, 0]];
        let d_mu = grads.get(mu).unwrap()[[0, 0]];
        assert!((d_logvar - 0.5).abs() < 1e-15, "∂KL/∂logvar = {d_logvar}");
        assert!((d_mu - 0.3).abs() < 1e-15, "∂KL/∂μ = {d_mu}");
    }
}
