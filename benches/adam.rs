//! One Adam step over the canonical VAE's 652,824 f32 parameters, in its 10 tensors, and
//! over the IWAE paper's network (784-200-200-50: 14 tensors, many of them small), whose
//! step at batch 20 is short enough for Adam to be a quarter of it.
//!
//! `cargo bench --bench adam`. One fused pass reads the parameter, gradient and both
//! moments and writes three of them back, with a square root and two divisions per
//! element (PyTorch's order of operations, kept for identical results).

use std::time::Instant;

use criterion::{Criterion, Throughput};
use optim::{Adam, AdamConfig, Optimizer};
use tensor::Tensor;
use vae::ModelConfig;

fn bench_adam(c: &mut Criterion) {
    let burda = ModelConfig {
        hidden: vec![200, 200],
        latent: 50,
        ..ModelConfig::default()
    };
    let mut group = c.benchmark_group("adam");
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .expect("a thread pool");
    for (config, expected) in [(ModelConfig::default(), 652_824), (burda, 425_284)] {
        let shapes = config.param_shapes();
        let mut params: Vec<Tensor<f32>> = shapes
            .iter()
            .map(|(_, s)| Tensor::from_shape_fn(s.clone(), |ix| (ix[0] % 7) as f32 * 0.01))
            .collect();
        let grads: Vec<Tensor<f32>> = params.iter().map(|p| p.mapv(|v| v * 0.5 - 0.01)).collect();
        let count: usize = params.iter().map(|p| p.len()).sum();
        assert_eq!(count, expected);
        let mut adam = Adam::new(AdamConfig::default());
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function(format!("{count}-params-in-{}", params.len()), |b| {
            // Timed from inside the pool, as `vae train` runs.
            b.iter_custom(|iters| {
                pool.install(|| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let mut refs: Vec<&mut Tensor<f32>> = params.iter_mut().collect();
                        adam.step(&mut refs, &grads.iter().collect::<Vec<_>>());
                    }
                    start.elapsed()
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
    bench_adam(&mut c);
    c.final_summary();
}
