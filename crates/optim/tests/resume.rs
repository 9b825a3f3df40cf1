//! Saving an optimizer's state after k steps and restoring it into a fresh optimizer
//! continues the run bit for bit.

use ndarray::ArrayD;
use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(tensor::gradcheck::cases_from_env(64))
}

/// A deterministic "gradient" for step `t` that depends on the parameter (as real ones do).
fn gradient(p: &ArrayD<f64>, t: usize, seed: u64) -> ArrayD<f64> {
    p.mapv(|x| (x * 1.7 + t as f64 * 0.31 + (seed % 97) as f64 * 0.01).sin())
}

fn run(
    make: &dyn Fn() -> Box<dyn Optimizer<f64>>,
    total: usize,
    split: Option<usize>,
    seed: u64,
) -> Vec<ArrayD<f64>> {
    let mut params = vec![
        ArrayD::from_shape_fn(vec![3, 4], |ix| (ix[0] as f64 - ix[1] as f64) * 0.1),
        ArrayD::from_shape_fn(vec![5], |ix| ix[0] as f64 * 0.2 - 0.3),
    ];
    let mut opt = make();
    for t in 0..total {
        if Some(t) == split {
            let saved = opt.state();
            opt = make();
            opt.load_state(saved).expect("a saved state loads");
        }
        let grads: Vec<_> = params.iter().map(|p| gradient(p, t, seed)).collect();
        let mut refs: Vec<&mut ArrayD<f64>> = params.iter_mut().collect();
        opt.step(&mut refs, &grads.iter().collect::<Vec<_>>());
    }
    params
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn resumed_runs_are_bit_identical(kind in 0usize..5, k in 0usize..12, extra in 1usize..8, seed in any::<u64>()) {
        let make = move || -> Box<dyn Optimizer<f64>> {
            match kind {
                0 => Box::new(Sgd::new(SgdConfig { lr: 0.05, momentum: 0.9, dampening: 0.1, ..SgdConfig::default() })),
                1 => Box::new(Sgd::new(SgdConfig { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01, ..SgdConfig::default() })),
                2 => Box::new(Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::default() })),
                3 => Box::new(Adam::new(AdamConfig { lr: 0.01, amsgrad: true, weight_decay: 0.1, ..AdamConfig::default() })),
                _ => Box::new(Adam::new(AdamConfig { lr: 0.01, ..AdamConfig::adamw() })),
            }
        };
        let straight = run(&make, k + extra, None, seed);
        let resumed = run(&make, k + extra, Some(k), seed);
        for (a, b) in straight.iter().zip(&resumed) {
            prop_assert!(a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits()), "{a} vs {b}");
        }
    }
}
