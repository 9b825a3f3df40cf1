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
