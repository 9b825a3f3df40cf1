//! Where one training step's time goes: forward, backward and Adam, timed separately,
//! and the step's graph as the tape records it.
//!
//! `cargo run --release -p tools --bin step_breakdown -- 128` (the batch size; 128 by default);
//! `-- 128 conv` for the canonical conv model (channels 32,64, kernel 4, stride 2,
//! padding 1, latent 20, no dense layer).

use std::time::Instant;

use optim::{Adam, AdamConfig, Optimizer};
use rand::SeedableRng;
use tensor::{Tape, Tensor};
use vae::model::vae::normal_noise;
use vae::objective::loss::elbo;
use vae::{ModelConfig, Vae};

/// The allocator of the `vae` binary (see src/main.rs), so the figures are its figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let batch: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(128);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let config = match std::env::args().nth(2).as_deref() {
        Some("conv") => ModelConfig::canonical_conv(),
        _ => ModelConfig::default(),
    };
    println!("model {}", config.name());
    let mut model = Vae::<f32>::new(config, &mut rng);
    let x: Tensor<f32> = Tensor::from_shape_fn(vec![batch, 784], |ix| {
        ((ix[0] * 7 + ix[1]) % 255) as f32 / 255.0
    });
    let eps = normal_noise(batch, 20, &mut rng).into_dyn();
    let mut adam = Adam::new(AdamConfig::default());
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .expect("a thread pool");
    pool.install(|| {
        let mut tape = Tape::new();
        let (mut forward, mut backward, mut update) = (0.0, 0.0, 0.0);
        let steps = 50;
        for step in 0..steps + 5 {
            tape.reset();
            let t0 = Instant::now();
            let params = model.bind(&tape);
            let xv = tape.constant_owned(x.clone());
            let out = model.forward(&params, xv, tape.constant_owned(eps.clone()));
            let loss = elbo(&out, xv, 1.0).loss;
            let t1 = Instant::now();
            let mut grads = tape.backward(loss);
            let grads: Vec<Tensor<f32>> = params.iter().map(|&p| grads.wrt(p)).collect();
            if step == 0 {
                println!("the graph of one step (batch {batch}):\n{tape}");
            }
            model.unbind(&tape, &params);
            let t2 = Instant::now();
            let mut refs: Vec<&mut Tensor<f32>> = model.params.iter_mut().collect();
            adam.step(&mut refs, &grads.iter().collect::<Vec<_>>());
            let t3 = Instant::now();
            if step >= 5 {
                forward += (t1 - t0).as_secs_f64();
                backward += (t2 - t1).as_secs_f64();
                update += (t3 - t2).as_secs_f64();
            }
        }
        let ms = |s: f64| s * 1e3 / steps as f64;
        let total = forward + backward + update;
        println!(
            "batch {batch}: forward {:.2} ms, backward {:.2} ms, Adam {:.2} ms; {:.0} samples/s",
            ms(forward),
            ms(backward),
            ms(update),
            batch as f64 * steps as f64 / total
        );
    });
}
