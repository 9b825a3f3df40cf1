use optim::{Adam, AdamConfig, Optimizer};
use rand::SeedableRng;
use std::time::Instant;
use tensor::Tape;
use vae::train::normal_noise;
use vae::{ModelConfig, Vae};

fn main() {
    let batch: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1024);
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut model = Vae::<f32>::new(ModelConfig::default(), &mut rng);
    let x = ndarray::Array2::<f32>::from_shape_fn((batch, 784), |(i, j)| {
        ((i * 7 + j) % 255) as f32 / 255.0
    })
    .into_dyn();
    let eps = normal_noise(batch, 20, &mut rng).into_dyn();
    let mut adam = Adam::new(AdamConfig::default());
    let mut tape = Tape::new();
    let (mut tf, mut tb, mut ta) = (0.0, 0.0, 0.0);
    let n = 50;
    for it in 0..n + 5 {
        tape.reset();
        let t0 = Instant::now();
        let params = model.bind(&tape);
        let xv = tape.constant_owned(x.clone());
        let out = model.forward(&params, xv, tape.constant_owned(eps.clone()));
        let terms = vae::loss::elbo(&out, xv, 1.0);
        let _ = terms.loss.item();
        let t1 = Instant::now();
        let mut grads = tape.backward(terms.loss);
        let g: Vec<_> = params.iter().map(|&p| grads.wrt(p)).collect();
        model.unbind(&tape, &params);
        let t2 = Instant::now();
        let mut refs: Vec<_> = model.params.iter_mut().collect();
        adam.step(&mut refs, &g.iter().collect::<Vec<_>>());
        let t3 = Instant::now();
        if it >= 5 {
            tf += (t1 - t0).as_secs_f64();
            tb += (t2 - t1).as_secs_f64();
            ta += (t3 - t2).as_secs_f64();
        }
        if it == 0 {
            eprintln!("{tape}");
        }
    }
    let k = 1e3 / n as f64;
    println!(
        "batch {batch}: forward {:.2} ms, backward {:.2} ms, adam {:.2} ms, total {:.2} ms",
        tf * k,
        tb * k,
        ta * k,
        (tf + tb + ta) * k
    );
}
