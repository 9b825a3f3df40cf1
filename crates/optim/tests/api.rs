//! The optimizers' public surface: their documented defaults, their accessors, their
//! messages, and the argument checks of `step` (mismatches are programming errors and
//! panic, naming what differs).

use ndarray::ArrayD;
use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig, StateError};

fn zeros(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::zeros(shape)
}

#[test]
fn adamw_defaults_are_pytorchs() {
    // torch.optim.AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2.
    let c = AdamConfig::adamw();
    assert_eq!(
        (c.lr, c.betas, c.eps, c.weight_decay, c.amsgrad),
        (1e-3, (0.9, 0.999), 1e-8, 1e-2, false)
    );
    assert_ne!(
        c,
        AdamConfig::default(),
        "AdamW differs from Adam by its decay"
    );
    assert_eq!(AdamConfig::default().weight_decay, 0.0);
}

#[test]
fn the_accessors_return_the_configuration() {
    let adam = Adam::<f64>::new(AdamConfig {
        lr: 0.25,
        ..AdamConfig::default()
    });
    assert_eq!(adam.config().lr, 0.25);
    let sgd = Sgd::<f64>::new(SgdConfig {
        lr: 0.5,
        momentum: 0.75,
        ..SgdConfig::default()
    });
    assert_eq!((sgd.config().lr, sgd.config().momentum), (0.5, 0.75));
}

#[test]
fn a_state_error_says_it_is_the_optimizers() {
    assert_eq!(
        StateError("'m.3' is missing".into()).to_string(),
        "optimizer state: 'm.3' is missing"
    );
}

#[test]
#[should_panic(expected = "Adam: 1 parameters but 2 gradients")]
fn more_gradients_than_parameters_panic() {
    let (mut p, g) = (zeros(&[2]), zeros(&[2]));
    Adam::new(AdamConfig::default()).step(&mut [&mut p], &[&g, &g]);
}

#[test]
#[should_panic(expected = "parameter 0 has shape [2], its gradient [3]")]
fn a_gradient_of_another_shape_panics() {
    let (mut p, g) = (zeros(&[2]), zeros(&[3]));
    Sgd::new(SgdConfig::default()).step(&mut [&mut p], &[&g]);
}

#[test]
#[should_panic(expected = "state holds 1 parameters, this step passes 2")]
fn a_changed_parameter_count_panics() {
    let mut adam = Adam::new(AdamConfig::default());
    let (mut a, mut b, g) = (zeros(&[2]), zeros(&[2]), zeros(&[2]));
    adam.step(&mut [&mut a], &[&g]);
    adam.step(&mut [&mut a, &mut b], &[&g, &g]);
}

#[test]
fn the_learning_rate_and_step_count_are_what_the_trait_says() {
    let mut adam = Adam::<f64>::new(AdamConfig::default());
    assert_eq!((adam.lr(), adam.steps()), (1e-3, 0));
    adam.set_lr(0.5);
    assert_eq!(adam.lr(), 0.5);
    // Adam's first step moves each coordinate by lr·sign(g): the new lr is the one used.
    let (mut p, g) = (zeros(&[2]), ndarray::arr1(&[3.0, -7.0]).into_dyn());
    adam.step(&mut [&mut p], &[&g]);
    adam.step(&mut [&mut p], &[&g]);
    assert_eq!(adam.steps(), 2);
    assert!(
        (p[[0]] + 1.0).abs() < 1e-6 && (p[[1]] - 1.0).abs() < 1e-6,
        "{p}"
    );
}

#[test]
fn damaged_adam_states_are_refused() {
    use optim::State;
    let t = |name: &str, n: usize| (name.to_string(), zeros(&[n]));
    let load = |step: u64, tensors: Vec<(String, ArrayD<f64>)>| {
        Adam::<f64>::new(AdamConfig::default()).load_state(State { step, tensors })
    };
    assert!(load(0, vec![]).is_ok(), "a fresh optimizer's state");
    assert!(load(2, vec![t("m.0", 2), t("v.0", 2)]).is_ok());
    let err = load(2, vec![t("m.0", 2), t("m.1", 2), t("v.0", 2)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("2 first moments but 1 second moments"),
        "{err}"
    );
    let err = load(2, vec![t("m.0", 2), t("v.0", 3)])
        .unwrap_err()
        .to_string();
    assert!(err.contains("or their shapes differ"), "{err}");
    let err = load(3, vec![]).unwrap_err().to_string();
    assert!(
        err.contains("step is 3 but the moments are missing"),
        "{err}"
    );
}

#[test]
fn clipping_scales_by_max_over_norm_plus_a_millionth_as_pytorch() {
    let mut g = ndarray::arr1(&[3.0f64, 4.0]).into_dyn();
    let norm = optim::clip_grad_norm(&mut [&mut g], 1.0);
    assert_eq!(norm, 5.0);
    let coef: f64 = 1.0 / (5.0 + 1e-6);
    assert!(
        (g[[0]] - 3.0 * coef).abs() < 1e-15 && (g[[1]] - 4.0 * coef).abs() < 1e-15,
        "{g}"
    );
    // Below the limit nothing changes.
    let mut small = ndarray::arr1(&[0.3f64, 0.4]).into_dyn();
    optim::clip_grad_norm(&mut [&mut small], 1.0);
    assert_eq!(small, ndarray::arr1(&[0.3, 0.4]).into_dyn());
}

#[test]
fn sgd_keeps_its_learning_rate_step_count_and_checks_its_state() {
    use optim::State;
    let mut sgd = Sgd::<f64>::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    });
    assert_eq!((sgd.lr(), sgd.steps()), (0.1, 0));
    sgd.set_lr(0.5);
    assert_eq!(sgd.lr(), 0.5);
    let (mut p, g) = (zeros(&[1]), ndarray::arr1(&[2.0]).into_dyn());
    sgd.step(&mut [&mut p], &[&g]);
    assert_eq!(
        (sgd.steps(), p[[0]]),
        (1, -1.0),
        "the first step is lr·g with the new lr"
    );
    let load = |momentum: f64, step: u64, tensors: Vec<(String, ArrayD<f64>)>| {
        Sgd::<f64>::new(SgdConfig {
            momentum,
            ..SgdConfig::default()
        })
        .load_state(State { step, tensors })
    };
    let err = load(0.9, 4, vec![]).unwrap_err().to_string();
    assert!(err.contains("momentum buffers are missing"), "{err}");
    assert!(
        load(0.0, 4, vec![]).is_ok(),
        "plain SGD has no buffers to miss"
    );
    assert!(load(0.9, 0, vec![]).is_ok(), "a fresh state");
    assert!(load(0.9, 4, vec![("momentum.0".into(), zeros(&[1]))]).is_ok());
}
