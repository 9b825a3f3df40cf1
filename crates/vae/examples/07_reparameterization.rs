//! Lesson 7: the reparameterization trick, and why it is the one VAEs use.
//!
//! Training needs ∇_μ E_{z ~ N(μ, σ²)}[f(z)]: the gradient of an expectation over a
//! distribution that depends on the parameters. Two unbiased estimators, from samples:
//!
//! ```text
//! score function (REINFORCE):  ∇_μ E[f] = E[ f(z) · ∂ ln N(z; μ, σ²)/∂μ ] = E[ f(z) · (z − μ)/σ² ]
//! reparameterization:          z = μ + σ·ε, ε ~ N(0, 1)   ⇒   ∇_μ E[f] = E[ f'(μ + σε) ]
//! ```
//!
//! The second moves the randomness into an input ε, so the gradient flows through z to μ
//! and σ by the chain rule: on our tape, z = μ + σ·ε is three ops and `backward` does it.
//! Both estimators are right on average; this lesson measures their spread for
//! f(z) = (z − 2)² at μ = 0.5, σ = 1 (true ∇_μ = 2(μ − 2) = −3, ∇_σ = 2σ = 2).
//!
//! `cargo run -p vae --example 07_reparameterization`

use ndarray::arr1;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use tensor::Tape;

fn mean_and_variance(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (
        mean,
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0),
    )
}

fn main() {
    let (mu, sigma, n) = (0.5f64, 1.0f64, 20_000);
    let f = |z: f64| (z - 2.0) * (z - 2.0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let eps: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();

    // Reparameterized, by the tape: z = μ + σ·ε, loss f(z); backward gives ∂f/∂μ, ∂f/∂σ.
    let (mut d_mu, mut d_sigma) = (Vec::new(), Vec::new());
    for &e in &eps {
        let tape = Tape::<f64>::new();
        let m = tape.param(&arr1(&[mu]).into_dyn());
        let s = tape.param(&arr1(&[sigma]).into_dyn());
        let z = m + s * tape.constant(&arr1(&[e]).into_dyn());
        let loss = ((z - 2.0) * (z - 2.0)).sum();
        let mut grads = tape.backward(loss);
        d_mu.push(grads.wrt(m)[[0]]);
        d_sigma.push(grads.wrt(s)[[0]]);
    }
    // Score function: f(z) times the derivative of ln N(z; μ, σ²).
    let score_mu: Vec<f64> = eps
        .iter()
        .map(|&e| {
            let z = mu + sigma * e;
            f(z) * (z - mu) / (sigma * sigma)
        })
        .collect();
    let score_sigma: Vec<f64> = eps
        .iter()
        .map(|&e| {
            let z = mu + sigma * e;
            f(z) * ((z - mu).powi(2) / sigma.powi(3) - 1.0 / sigma)
        })
        .collect();

    println!("{n} samples, f(z) = (z − 2)², μ = {mu}, σ = {sigma}");
    println!(
        "{:<34} {:>9} {:>10} {:>14}",
        "estimator", "mean", "variance", "std. error"
    );
    let mut rows = Vec::new();
    for (name, v, truth) in [
        ("∂/∂μ reparameterized (the tape)", &d_mu, 2.0 * (mu - 2.0)),
        ("∂/∂μ score function", &score_mu, 2.0 * (mu - 2.0)),
        ("∂/∂σ reparameterized (the tape)", &d_sigma, 2.0 * sigma),
        ("∂/∂σ score function", &score_sigma, 2.0 * sigma),
    ] {
        let (m, var) = mean_and_variance(v);
        let se = (var / n as f64).sqrt();
        println!("{name:<34} {m:>9.4} {var:>10.3} {se:>14.4}   (true {truth})");
        assert!(
            (m - truth).abs() < 5.0 * se,
            "{name} is unbiased: {m} vs {truth}"
        );
        rows.push(var);
    }
    println!("\nthe score function needs {:.0}× (∂μ) and {:.0}× (∂σ) as many samples for the same accuracy", rows[1] / rows[0], rows[3] / rows[2]);
    assert!(
        rows[1] > 3.0 * rows[0] && rows[3] > 3.0 * rows[2],
        "reparameterization has the lower variance here"
    );
}

#[test]
fn the_lesson_runs() {
    main()
}
