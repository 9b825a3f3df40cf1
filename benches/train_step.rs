//! One full training step: forward, backward and Adam, reported as samples per second.
//! The canonical VAE (784-400-20, ReLU) at batch 128 and 1024, and the IWAE paper's
//! network (784-200-200-50, tanh) at its batch of 20 — as the ELBO and as the IWAE bound
//! with K = 5 — where per-step overhead, not arithmetic, sets the pace; and the canonical
//! convolutional VAE (channels 32,64, kernel 4, stride 2, padding 1, latent 20, no dense
//! layer) at batch 128, the model PyTorch is compared with in BENCHMARKS.md.
//!
//! `cargo bench --bench train_step`. The batch is real MNIST (the first images of the
//! bundled training set), the noise is seeded; the step is exactly what `vae train` runs.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use vae::data::batch::Pixels;
use vae::data::idx_folder::load_folder;
use vae::model::vae::normal_noise;
use vae::objective::loss::Objective;
use vae::train::trainer::Trainer;
use vae::{Activation, ModelConfig, Vae};

fn bench_train_step(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist");
    let (train, _) = load_folder(&dir).expect("the bundled MNIST loads");
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .expect("a thread pool");
    let mut group = c.benchmark_group("train_step");
    let burda = ModelConfig {
        input_dim: 784,
        hidden: vec![200, 200],
        latent: 50,
        activation: Activation::Tanh,
        conv: None,
    };
    let cases = [
        (
            "784-400-20",
            ModelConfig::default(),
            128usize,
            Objective::Elbo,
            1usize,
        ),
        (
            "784-400-20",
            ModelConfig::default(),
            1024,
            Objective::Elbo,
            1,
        ),
        ("784-200-200-50-tanh", burda.clone(), 20, Objective::Elbo, 1),
        ("784-200-200-50-tanh-iwae5", burda, 20, Objective::Iwae, 5),
        (
            "conv-32-64-k4-s2-20",
            ModelConfig::canonical_conv(),
            128,
            Objective::Elbo,
            1,
        ),
    ];
    for (name, config, batch, objective, k) in cases {
        let latent = config.latent;
        let model = Vae::<f32>::new(config, &mut rng);
        let mut trainer = Trainer::new(model, 1e-3);
        trainer.objective = objective;
        let indices: Vec<usize> = (0..batch).collect();
        let x = train.batch(&indices, Pixels::Scaled, &mut rng).into_dyn();
        let eps = normal_noise(k * batch, latent, &mut rng);
        let eps = match objective {
            Objective::Elbo => eps.into_dyn(),
            Objective::Iwae => eps.into_shape_with_order(vec![k, batch, latent]).unwrap(),
        };
        group.throughput(Throughput::Elements(batch as u64));
        group.sample_size(if batch > 512 { 20 } else { 50 });
        group.bench_function(BenchmarkId::new(name, batch), |b| {
            // Timed from inside the pool, as `vae train` runs (see vae::cli). The step
            // takes its batch by value; the copy handed to it is made outside the timing
            // (producing batches is the data loader's job, not the step's).
            b.iter_custom(|iters| {
                pool.install(|| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (x, eps) = (x.clone(), eps.clone());
                        let start = Instant::now();
                        trainer.step(x, eps, 1.0);
                        total += start.elapsed();
                    }
                    total
                })
            })
        });
    }
    group.finish();
}

/// The allocator of the `vae` binary (see src/main.rs), so the figures are its figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench_train_step(&mut c);
    c.final_summary();
}
