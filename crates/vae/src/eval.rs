//! Evaluation: the test ELBO and its terms, the importance-weighted bound, active units,
//! and the pictures (samples and reconstructions).
//!
//! The importance-weighted bound (Burda, Grosse & Salakhutdinov, "Importance Weighted
//! Autoencoders", ICLR 2016) tightens the ELBO with K samples zₖ ~ q(z|x):
//!
//! ```text
//! ln p(x) ≥ L_K = ln (1/K) Σₖ p(x|zₖ) p(zₖ) / q(zₖ|x)
//!              = logsumexp_k [ln p(x|zₖ) + ln p(zₖ) − ln q(zₖ|x)] − ln K
//! ln p(x|z) = −Σ_pixels BCE(logits, x)
//! ln p(z)   = −½ Σ_j (z_j² + ln 2π)
//! ln q(z|x) = −½ Σ_j (ε_j² + logvar_j + ln 2π)      (z = μ + σ ε)
//! ```
//! L_1 is the ELBO; L_K rises towards ln p(x) as K grows, and K = 5000 is the standard
//! estimate of the test log-likelihood; we report NLL = −L_K.

use std::path::Path;

use ndarray::{Array2, Axis};
use rand::rngs::StdRng;
use tensor::Tape;

use crate::data::{Dataset, Pixels};
use crate::images::write_grid;
use crate::layers::reparameterize;
use crate::loss::{elbo as elbo_terms, recon_per_image};
use crate::model::{normal_noise, Vae};
use crate::Result;

/// Mean loss and its terms over a dataset (nats per image).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    /// recon + β·KL
    pub loss: f64,
    /// Reconstruction term.
    pub recon: f64,
    /// KL term.
    pub kl: f64,
}

/// The negative ELBO over `data` (z sampled, as the ELBO is defined), in batches.
pub fn elbo(
    model: &Vae<f32>,
    data: &Dataset,
    beta: f64,
    pixels: Pixels,
    batch: usize,
    rng: &mut StdRng,
) -> Scores {
    let (mut recon, mut kl) = (0.0f64, 0.0f64);
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(batch.max(1)) {
        let tape = Tape::no_grad();
        let params = model.bind_copies(&tape);
        let x = tape.constant_owned(data.batch(chunk, pixels, rng).into_dyn());
        let eps =
            tape.constant_owned(normal_noise(chunk.len(), model.config.latent, rng).into_dyn());
        let out = model.forward(&params, x, eps);
        let terms = elbo_terms(&out, x, beta as f32);
        recon += terms.recon.item() as f64 * chunk.len() as f64;
        kl += terms.kl.item() as f64 * chunk.len() as f64;
    }
    let n = data.len().max(1) as f64;
    Scores {
        loss: (recon + beta * kl) / n,
        recon: recon / n,
        kl: kl / n,
    }
}

/// The importance-weighted NLL estimate `−L_K` (nats per image) with `k` samples per
/// image, over the first `limit` images of `data`; `done_one` is called after each image
/// (for a progress bar: K = 5000 over the test set takes minutes).
///
/// The K log-weights of an image are drawn in chunks of at most 1000 and folded into a
/// running log-sum-exp (`m = max`, `s = Σ exp(log w − m)`, rescaled when `m` grows), so
/// memory does not grow with K.
pub fn iw_nll(
    model: &Vae<f32>,
    data: &Dataset,
    k: usize,
    pixels: Pixels,
    limit: usize,
    rng: &mut StdRng,
    done_one: &dyn Fn(),
) -> f64 {
    let latent = model.config.latent;
    let half_ln_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln() as f32;
    let chunk = k.clamp(1, 1000);
    let n = limit.min(data.len());
    let mut total = 0.0f64;
    for i in 0..n {
        let x_row = data.batch(&[i], pixels, rng);
        let (mu, logvar) = encode(model, x_row.clone());
        let (mu, logvar) = (mu.into_dyn(), logvar.into_dyn());
        let (mut max, mut sum) = (f64::NEG_INFINITY, 0.0f64);
        let mut done = 0;
        while done < k {
            let m = chunk.min(k - done);
            let tape = Tape::no_grad();
            let params = model.bind_copies(&tape);
            let eps = tape.constant_owned(normal_noise(m, latent, rng).into_dyn());
            let mu_v = tape.constant(&mu);
            let logvar_v = tape.constant(&logvar);
            let z = reparameterize(mu_v, logvar_v, eps);
            let logits = model.decode(&params, z);
            let x = tape.constant_owned(
                x_row
                    .broadcast((m, x_row.ncols()))
                    .expect("one row")
                    .to_owned()
                    .into_dyn(),
            );
            let log_px = -recon_per_image(logits, x);
            let log_pz = (z * z).sum_axis(1, false).mul_scalar(-0.5) - half_ln_2pi * latent as f32;
            let log_qz = ((eps * eps).sum_axis(1, false) + logvar_v.sum()).mul_scalar(-0.5)
                - half_ln_2pi * latent as f32;
            for &w in (log_px + log_pz - log_qz).value().iter() {
                let w = w as f64;
                if w > max {
                    sum = sum * (max - w).exp() + 1.0;
                    max = w;
                } else {
                    sum += (w - max).exp();
                }
            }
            done += m;
        }
        total += max + sum.ln() - (k as f64).ln();
        done_one();
    }
    -total / n.max(1) as f64
}

/// Latent units whose posterior mean varies across the data: Cov_x(E_q\[z_j\]) > 0.01
/// (Burda et al.'s criterion). Returns how many of the `latent` units are active.
pub fn active_units(model: &Vae<f32>, data: &Dataset, pixels: Pixels, rng: &mut StdRng) -> usize {
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut means = Vec::new();
    for chunk in indices.chunks(1000) {
        means.push(encode(model, data.batch(chunk, pixels, rng)).0);
    }
    if means.is_empty() {
        return 0;
    }
    let views: Vec<_> = means.iter().map(|m| m.view()).collect();
    let all = ndarray::concatenate(Axis(0), &views).expect("same width");
    all.var_axis(Axis(0), 0.0)
        .iter()
        .filter(|&&v| v > 0.01)
        .count()
}

/// The encoder alone, without recording derivatives: `(mu, logvar)` for images `x`.
pub fn encode(model: &Vae<f32>, x: Array2<f32>) -> (Array2<f32>, Array2<f32>) {
    let tape = Tape::no_grad();
    let params = model.bind_copies(&tape);
    let (mu, logvar) = model.encode(&params, tape.constant_owned(x.into_dyn()));
    let matrix = |v: tensor::Var<'_, f32>| v.to_tensor().into_dimensionality().expect("2-D");
    (matrix(mu), matrix(logvar))
}

/// Probabilities of pixels (`sigmoid(logits)`) for codes `z`.
pub fn decode_probabilities(model: &Vae<f32>, z: Array2<f32>) -> Array2<f32> {
    let tape = Tape::no_grad();
    let params = model.bind_copies(&tape);
    let probs = model
        .decode(&params, tape.constant_owned(z.into_dyn()))
        .sigmoid();
    probs.to_tensor().into_dimensionality().expect("2-D")
}

/// An 8×8 grid of new digits decoded from z ~ N(0, I).
pub fn write_samples(
    model: &Vae<f32>,
    shape: (usize, usize),
    path: &Path,
    rng: &mut StdRng,
) -> Result<()> {
    let z = normal_noise(64, model.config.latent, rng);
    write_grid(path, decode_probabilities(model, z).view(), shape, 8, 2)
}

/// Sixteen test images (two rows) over their reconstructions (decoded from z = μ).
pub fn write_reconstructions(
    model: &Vae<f32>,
    data: &Dataset,
    path: &Path,
    rng: &mut StdRng,
) -> Result<()> {
    let n = data.len().min(16);
    let indices: Vec<usize> = (0..n).collect();
    let x = data.batch(&indices, Pixels::Scaled, rng);
    let (mu, _) = encode(model, x.clone());
    let recon = decode_probabilities(model, mu);
    let both = ndarray::concatenate(Axis(0), &[x.view(), recon.view()]).expect("same width");
    write_grid(path, both.view(), (data.rows, data.cols), 8, 2)
}

/// The run folder's pictures: samples.png and reconstructions.png.
pub fn write_pictures(
    model: &Vae<f32>,
    test: &Dataset,
    dir: &Path,
    rng: &mut StdRng,
) -> Result<()> {
    write_samples(model, (test.rows, test.cols), &dir.join("samples.png"), rng)?;
    write_reconstructions(model, test, &dir.join("reconstructions.png"), rng)
}
