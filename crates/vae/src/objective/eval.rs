//! Evaluation: the test ELBO and its terms, the importance-weighted bound, active units.
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

use ndarray::Axis;
use rand::rngs::StdRng;
use tensor::Tape;

use crate::data::batch::Pixels;
use crate::data::dataset::Dataset;
use crate::model::vae::{normal_noise, Vae};
use crate::objective::iwae;
use crate::objective::loss::elbo as elbo_terms;

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
pub fn elbo_scores(
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
pub fn iw_nll(
    model: &Vae<f32>,
    data: &Dataset,
    k: usize,
    pixels: Pixels,
    limit: usize,
    rng: &mut StdRng,
    done_one: &dyn Fn(),
) -> f64 {
    let bounds = iw_bounds(model, data, k, pixels, limit, rng, done_one);
    -bounds.iter().sum::<f64>() / bounds.len().max(1) as f64
}

/// Each image's bound `L_K` (nats; the log-likelihood is at least this) with `k`
/// samples, for the first `limit` images of `data`; `done_one` is called after each.
///
/// The log-weights are [`iwae::log_weights`], the objective's own. Each decoder pass
/// takes about 1000 rows: `1000 / k` images at once for small K, or chunks of 1000 of one
/// image's samples for large K. A chunk's weights are folded into each image's running
/// log-sum-exp (`m = max`, `s = Σ exp(log w − m)`, rescaled when `m` grows), so memory
/// does not grow with K.
pub fn iw_bounds(
    model: &Vae<f32>,
    data: &Dataset,
    k: usize,
    pixels: Pixels,
    limit: usize,
    rng: &mut StdRng,
    done_one: &dyn Fn(),
) -> Vec<f64> {
    const ROWS: usize = 1000;
    let (latent, n) = (model.config.latent, limit.min(data.len()));
    let samples_per_pass = k.clamp(1, ROWS);
    let images_per_pass = (ROWS / samples_per_pass).max(1);
    // The parameters are moved onto each pass's tape and back, not copied.
    let mut model = model.clone();
    let mut tape = Tape::no_grad();
    let mut bounds = Vec::with_capacity(n);
    let indices: Vec<usize> = (0..n).collect();
    for images in indices.chunks(images_per_pass) {
        let b = images.len();
        let x = data.batch(images, pixels, rng).into_dyn();
        let mut running = vec![(f64::NEG_INFINITY, 0.0f64); b];
        let mut done = 0;
        while done < k {
            let m = samples_per_pass.min(k - done);
            tape.reset();
            let params = model.bind(&tape);
            let eps = normal_noise(m * b, latent, rng)
                .into_shape_with_order(vec![m, b, latent])
                .expect("m·b rows");
            let (xv, ev) = (tape.constant(&x), tape.constant_owned(eps));
            let log_w = iwae::log_weights(&model, &params, xv, ev).0.to_tensor();
            model.unbind(&tape, &params);
            // log_w is [m, b]: row i holds sample i of every image of the pass.
            for (j, &w) in log_w.iter().enumerate() {
                let (max, sum) = &mut running[j % b];
                let w = w as f64;
                if w > *max {
                    *sum = *sum * (*max - w).exp() + 1.0;
                    *max = w;
                } else {
                    *sum += (w - *max).exp();
                }
            }
            done += m;
        }
        for (max, sum) in running {
            bounds.push(max + sum.ln() - (k as f64).ln());
            done_one();
        }
    }
    bounds
}

/// Latent units whose posterior mean varies across the data: Cov_x(E_q\[z_j\]) > 0.01
/// (Burda et al.'s criterion). Returns how many of the `latent` units are active.
pub fn active_units(model: &Vae<f32>, data: &Dataset, pixels: Pixels, rng: &mut StdRng) -> usize {
    let indices: Vec<usize> = (0..data.len()).collect();
    let mut means = Vec::new();
    for chunk in indices.chunks(1000) {
        means.push(model.encode_batch(data.batch(chunk, pixels, rng)).0);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activation::Activation;
    use crate::model::config::ModelConfig;
    use rand::SeedableRng;

    /// The evaluation is the objective: iw_nll's estimate equals the IWAE loss computed by
    /// `iwae::iwae` on the same images and noise, whether the K samples fit in one pass
    /// (several images at once) or need several passes (K > 1000, one image).
    #[test]
    fn the_estimate_is_the_iwae_loss_on_the_same_draws() {
        let config = ModelConfig {
            input_dim: 6,
            hidden: vec![5],
            latent: 2,
            activation: Activation::Tanh,
            conv: None,
        };
        let model = Vae::<f32>::new(config, &mut StdRng::seed_from_u64(4));
        let data = Dataset::new(
            crate::data::dataset::Intensities::Bytes(
                (0..30).map(|i| (i * 37 % 256) as u8).collect(),
            ),
            None,
            2,
            3,
        );
        for (k, n) in [(7, 5), (2500, 1)] {
            let estimate = iw_nll(
                &model,
                &data,
                k,
                Pixels::Scaled,
                n,
                &mut StdRng::seed_from_u64(9),
                &|| {},
            );
            let mut rng = StdRng::seed_from_u64(9);
            let indices: Vec<usize> = (0..n).collect();
            let x = data.batch(&indices, Pixels::Scaled, &mut rng).into_dyn();
            let eps = normal_noise(k * n, 2, &mut rng)
                .into_shape_with_order(vec![k, n, 2])
                .unwrap();
            let tape = Tape::no_grad();
            let params = model.bind_copies(&tape);
            let loss = iwae::iwae(&model, &params, tape.constant(&x), tape.constant(&eps)).loss;
            let expected = loss.item() as f64;
            assert!(
                (estimate - expected).abs() < 1e-4 * expected.abs(),
                "K = {k}: iw_nll {estimate} vs the IWAE loss {expected}"
            );
        }
    }
}
