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
