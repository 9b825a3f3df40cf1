//! Lesson 6: one VAE training step, every part of it in view.
//!
//! A tiny VAE (6 pixels → 4 hidden → 2 latent, tanh) on three images. We bind the
//! parameters to a tape, run the encoder, the reparameterization and the decoder, form
//! the two terms of the loss (`loss.rs` derives them), print the tape the step recorded,
//! the two terms, and each layer's gradient; then one Adam step lowers the loss on the
//! same images and noise. Everything in f64, so the numbers are exact to print.
//!
//! `cargo run -p vae --example 06_one_vae_step`

use ndarray::array;
use optim::{Adam, AdamConfig, Optimizer};
use rand::SeedableRng;
use tensor::Tape;
use vae::objective::loss::elbo;
use vae::{Activation, ModelConfig, Vae};

fn main() {
    let config = ModelConfig {
        input_dim: 6,
        hidden: vec![4],
        latent: 2,
        activation: Activation::Tanh,
        conv: None,
    };
    let mut model = Vae::<f64>::new(config, &mut rand::rngs::StdRng::seed_from_u64(6));
    // Three images of six pixels in [0, 1], and the noise ε of the reparameterization.
    let x = array![
        [0.0, 1.0, 1.0, 0.0, 0.5, 0.0],
        [1.0, 1.0, 0.0, 0.0, 0.0, 0.25],
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    ]
    .into_dyn();
    let eps = array![[0.3, -1.1], [1.4, 0.2], [-0.6, 0.8]].into_dyn();

    let loss_now = |model: &Vae<f64>| {
        let tape = Tape::<f64>::new();
        let params = model.bind_copies(&tape);
        let out = model.forward(&params, tape.constant(&x), tape.constant(&eps));
        elbo(&out, tape.constant(&x), 1.0).loss.item()
    };

    let tape = Tape::<f64>::new();
    let params = model.bind_copies(&tape);
    let xv = tape.constant(&x);
    let out = model.forward(&params, xv, tape.constant(&eps));
    let terms = elbo(&out, xv, 1.0);
    println!("The tape of one step (params, data, then every op of encoder, sampling, decoder, loss):\n{tape}");
    println!(
        "reconstruction  E_q[−ln p(x|z)] = {:.6} nats per image (one z per image)",
        terms.recon.item()
    );
    println!(
        "KL(q(z|x) ‖ N(0, I))            = {:.6} nats per image (closed form)",
        terms.kl.item()
    );
    println!(
        "loss = recon + KL               = {:.6}\n",
        terms.loss.item()
    );
    assert!((terms.loss.item() - terms.recon.item() - terms.kl.item()).abs() < 1e-12);
    assert!(terms.kl.item() >= 0.0, "a KL divergence is never negative");

    let mut grads = tape.backward(terms.loss);
    let grads: Vec<_> = params.iter().map(|&p| grads.wrt(p)).collect();
    println!("{:<24} {:>8} {:>12}", "parameter", "shape", "|gradient|");
    for (name, g) in model.names().iter().zip(&grads) {
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        println!("{name:<24} {:>8} {norm:>12.6}", format!("{:?}", g.shape()));
    }

    let before = loss_now(&model);
    let mut adam = Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    });
    let mut refs: Vec<_> = model.params.iter_mut().collect();
    adam.step(&mut refs, &grads.iter().collect::<Vec<_>>());
    let after = loss_now(&model);
    println!(
        "\none Adam step (lr 0.01) on the same images and noise: loss {before:.6} → {after:.6}"
    );
    assert!(
        after < before,
        "a step along the negative gradient lowers the loss"
    );
}

#[test]
fn the_lesson_runs() {
    main()
}
