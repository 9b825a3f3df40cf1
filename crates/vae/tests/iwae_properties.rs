//! Properties of the IWAE bound (`vae::objective::iwae`), in f64:
//! - its gradient passes a directional check, for random small configurations;
//! - with K = 1 it is the ELBO with a sampled KL term, computed here term by term;
//! - when every sample is the same, all K log-weights are one value c and the bound is c;
//! - averaged over many noise draws, the bound does not get looser as K grows (1, 5, 50).

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use tensor::gradcheck::{self, Config};
use tensor::{Tape, Tensor};
use vae::model::vae::normal_noise;
use vae::objective::iwae::iwae;
use vae::{Activation, ModelConfig, Vae};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(gradcheck::cases_from_env(32))
}

const ACTIVATIONS: [Activation; 4] = [
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Softplus,
    Activation::LeakyRelu,
];

/// Inputs in [0, 1], different per image and pixel.
fn images(batch: usize, input_dim: usize) -> Tensor<f64> {
    Tensor::from_shape_fn(vec![batch, input_dim], |ix| {
        ((ix[0] * 31 + ix[1] * 7) % 11) as f64 / 10.0
    })
}

/// Standard normal noise `[k, batch, latent]`.
fn noise(k: usize, batch: usize, latent: usize, rng: &mut StdRng) -> Tensor<f64> {
    normal_noise(k * batch, latent, rng)
        .mapv(f64::from)
        .into_shape_with_order(vec![k, batch, latent])
        .unwrap()
}

/// The IWAE loss of `model` on `x` with noise `eps`.
fn loss(model: &Vae<f64>, x: &Tensor<f64>, eps: &Tensor<f64>) -> f64 {
    let tape = Tape::no_grad();
    let params = model.bind_copies(&tape);
    iwae(model, &params, tape.constant(x), tape.constant(eps))
        .loss
        .item()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_iwae_bound_passes_gradcheck(
        input_dim in 2usize..9,
        hidden in prop::collection::vec(2usize..6, 0..3),
        latent in 1usize..4,
        activation in 0usize..4,
        k in 1usize..5,
        batch in 1usize..4,
        seed in any::<u64>(),
    ) {
        let config = ModelConfig { input_dim, hidden, latent, activation: ACTIVATIONS[activation], conv: None };
        let mut rng = StdRng::seed_from_u64(seed);
        let model = Vae::<f64>::new(config.clone(), &mut rng);
        let (x, eps) = (images(batch, input_dim), noise(k, batch, latent, &mut rng));
        let check = Config { max_full: 0, directions: 8, ..Config::default() };
        let report = gradcheck::check_with(&model.params, |tape, params| {
            iwae(&model, params, tape.constant(&x), tape.constant(&eps)).loss
        }, &check);
        prop_assert!(report.passed(), "{config:?}, K = {k}: {report}");
    }

    #[test]
    fn with_one_sample_it_is_the_elbo_with_a_sampled_kl(
        latent in 1usize..4,
        batch in 1usize..4,
        seed in any::<u64>(),
    ) {
        let config = ModelConfig { input_dim: 6, hidden: vec![5], latent, activation: Activation::Tanh, conv: None };
        let mut rng = StdRng::seed_from_u64(seed);
        let model = Vae::<f64>::new(config, &mut rng);
        let (x, eps) = (images(batch, 6), noise(1, batch, latent, &mut rng));
        // Term by term, with plain arrays: z, the decoder, log p(x|z) + log p(z) − log q(z|x).
        let tape = Tape::no_grad();
        let params = model.bind_copies(&tape);
        let (mu, logvar) = model.encode(&params, tape.constant(&x));
        let (mu, logvar) = (mu.to_tensor(), logvar.to_tensor());
        let e = eps.clone().into_shape_with_order(vec![batch, latent]).unwrap();
        let z = &mu + &(logvar.mapv(|v| (0.5 * v).exp()) * &e);
        let logits = model.decode(&params, tape.constant(&z)).to_tensor();
        let ln_2pi = (2.0 * std::f64::consts::PI).ln();
        let mut elbo = 0.0;
        for b in 0..batch {
            for j in 0..6 {
                let (l, t) = (logits[[b, j]], x[[b, j]]);
                elbo -= l.max(0.0) - l * t + (-l.abs()).exp().ln_1p(); // BCE with logits
            }
            for j in 0..latent {
                elbo += -0.5 * (z[[b, j]].powi(2) + ln_2pi); // ln p(z)
                elbo -= -0.5 * (e[[b, j]].powi(2) + logvar[[b, j]] + ln_2pi); // ln q(z|x)
            }
        }
        let expected = -elbo / batch as f64;
        let actual = loss(&model, &x, &eps);
        prop_assert!((actual - expected).abs() <= 1e-12 * expected.abs().max(1.0), "{actual} vs {expected}");
    }

    #[test]
    fn equal_log_weights_give_exactly_their_value(
        k in 2usize..8,
        batch in 1usize..4,
        seed in any::<u64>(),
    ) {
        // The same noise for every sample: all K log-weights of an image are one value c,
        // and logsumexp_i c − ln K = c: the bound is the one-sample value, exactly.
        let config = ModelConfig { input_dim: 5, hidden: vec![4], latent: 2, activation: Activation::Softplus, conv: None };
        let mut rng = StdRng::seed_from_u64(seed);
        let model = Vae::<f64>::new(config, &mut rng);
        let x = images(batch, 5);
        let one = noise(1, batch, 2, &mut rng);
        let same = one.broadcast(vec![k, batch, 2]).unwrap().to_owned();
        let tape = Tape::no_grad();
        let params = model.bind_copies(&tape);
        let log_w = iwae(&model, &params, tape.constant(&x), tape.constant(&same)).log_w.to_tensor();
        for b in 0..batch {
            for i in 1..k {
                prop_assert_eq!(log_w[[i, b]], log_w[[0, b]]);
            }
        }
        let (l1, lk) = (loss(&model, &x, &one), loss(&model, &x, &same));
        prop_assert!((l1 - lk).abs() <= 1e-12 * l1.abs(), "K = 1: {l1}, K = {k} of the same: {lk}");
    }
}

#[test]
fn the_bound_does_not_loosen_as_k_grows() {
    // L_1 ≤ L_5 ≤ L_50 in expectation: the loss (−L_K), averaged over many draws of the
    // noise on a fixed model, does not increase with K.
    let config = ModelConfig {
        input_dim: 12,
        hidden: vec![8],
        latent: 3,
        activation: Activation::Tanh,
        conv: None,
    };
    let mut rng = StdRng::seed_from_u64(5);
    let model = Vae::<f64>::new(config, &mut rng);
    let x = images(4, 12);
    let draws = 200;
    let mean_loss = |k: usize, rng: &mut StdRng| {
        (0..draws)
            .map(|_| loss(&model, &x, &noise(k, 4, 3, rng)))
            .sum::<f64>()
            / draws as f64
    };
    let losses: Vec<f64> = [1, 5, 50].iter().map(|&k| mean_loss(k, &mut rng)).collect();
    assert!(
        losses[0] > losses[1] && losses[1] > losses[2],
        "mean losses for K = 1, 5, 50: {losses:?}"
    );
}
