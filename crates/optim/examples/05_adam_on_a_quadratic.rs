//! Lesson 5: Adam on a quadratic, with its bias correction in view.
//!
//! We minimise f(θ) = ½·(θ₁² + 100·θ₂²) from θ = (1, 1): a valley 100 times steeper along
//! θ₂. Plain gradient descent must take a step small enough for the steep direction and
//! then crawls along the flat one; Adam divides each coordinate's step by the root of its
//! own squared-gradient average, so both move at about `lr` per step.
//!
//! Beside `optim::Adam` we run the update written out in five lines (the formulas of
//! `adam.rs`), check that both give the same θ, and print the first steps with and
//! without the bias correction: m and v start at 0, so without it the first step is
//! 3.2 times too large (m̂/√v̂ = 1 at t = 1, but m/√v = 0.1/√0.001), and the next ones
//! larger still (5.7 times at t = 5) while √v lags behind m. On this gentle quadratic
//! both versions still converge; on a real network those first outsized steps are what
//! the correction prevents.
//!
//! `cargo run -p optim --example 05_adam_on_a_quadratic`

use ndarray::arr1;
use optim::{Adam, AdamConfig, Optimizer};

fn gradient(theta: &[f64; 2]) -> [f64; 2] {
    [theta[0], 100.0 * theta[1]]
}

fn main() {
    let (lr, b1, b2, eps) = (0.01, 0.9, 0.999, 1e-8);
    let mut adam = Adam::new(AdamConfig {
        lr,
        ..AdamConfig::default()
    });
    let mut theta = arr1(&[1.0f64, 1.0]).into_dyn();
    // The same update by hand, and the same without bias correction.
    let (mut mine, mut m, mut v) = ([1.0f64, 1.0], [0.0f64; 2], [0.0f64; 2]);
    let (mut raw, mut m_raw, mut v_raw) = ([1.0f64, 1.0], [0.0f64; 2], [0.0f64; 2]);
    println!("  t   θ₂ (Adam)      step₂ corrected   step₂ uncorrected   1/(1−β₁ᵗ)   1/√(1−β₂ᵗ)");
    for t in 1..=300 {
        let g = gradient(&mine);
        let mut step = [0.0; 2];
        for i in 0..2 {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let (m_hat, v_hat) = (m[i] / (1.0 - b1.powi(t)), v[i] / (1.0 - b2.powi(t)));
            step[i] = lr * m_hat / (v_hat.sqrt() + eps);
            mine[i] -= step[i];
        }
        let g_raw = gradient(&raw);
        let mut step_raw = [0.0; 2];
        for i in 0..2 {
            m_raw[i] = b1 * m_raw[i] + (1.0 - b1) * g_raw[i];
            v_raw[i] = b2 * v_raw[i] + (1.0 - b2) * g_raw[i] * g_raw[i];
            step_raw[i] = lr * m_raw[i] / (v_raw[i].sqrt() + eps);
            raw[i] -= step_raw[i];
        }
        let grad = arr1(&gradient(&[theta[[0]], theta[[1]]])).into_dyn();
        adam.step(&mut [&mut theta], &[&grad]);
        for i in 0..2 {
            assert!(
                (theta[[i]] - mine[i]).abs() < 1e-12,
                "step {t}: optim::Adam {} vs by hand {}",
                theta[[i]],
                mine[i]
            );
        }
        if t <= 5 || t % 50 == 0 {
            println!(
                "{t:>3}   {:>+.6}     {:>+.6}         {:>+.6}           {:>6.3}      {:>6.3}",
                theta[[1]],
                step[1],
                step_raw[1],
                1.0 / (1.0 - b1.powi(t)),
                1.0 / (1.0 - b2.powi(t)).sqrt()
            );
        }
    }
    // Step 1: m̂ = g and v̂ = g², so the step is lr·sign(g) whatever g's size.
    println!(
        "after 300 steps θ = ({:+.4}, {:+.4}); without the correction ({:+.4}, {:+.4})",
        theta[[0]],
        theta[[1]],
        raw[0],
        raw[1]
    );
    assert!(
        theta[[0]].abs() < 0.1 && theta[[1]].abs() < 0.05,
        "Adam converges on both axes"
    );
}

#[test]
fn the_lesson_runs() {
    main()
}
