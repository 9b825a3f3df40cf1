//! The tape itself: accumulation over shared sub-expressions, constants and no-grad
//! mode, reuse after reset, printing, and the scalar-loss contract.

use ndarray::array;
use tensor::{Tape, Tensor};

#[test]
fn a_value_used_three_ways_gets_all_three_contributions() {
    // y = x·x + 3x + exp(x) at x = 0  ⇒  dy/dx = 2x + 3 + eˣ = 4
    let tape = Tape::<f64>::new();
    let x = tape.param(&array![0.0].into_dyn());
    let y = x * x + x * 3.0 + x.exp();
    assert_eq!(tape.backward(y.sum()).get(x).unwrap()[0], 4.0);
}

#[test]
fn deep_chain_matches_the_chain_rule() {
    // y = tanh(tanh(x)) ⇒ dy/dx = (1 − tanh²(tanh x)) · (1 − tanh² x)
    let tape = Tape::<f64>::new();
    let x0 = 0.7f64;
    let x = tape.param(&array![x0].into_dyn());
    let y = x.tanh().tanh();
    let expected = (1.0 - x0.tanh().tanh().powi(2)) * (1.0 - x0.tanh().powi(2));
    assert!((tape.backward(y.sum()).get(x).unwrap()[0] - expected).abs() < 1e-15);
}

#[test]
fn constants_and_unused_params_get_no_gradient_entry() {
    let tape = Tape::<f64>::new();
    let data = tape.constant(&array![1.0, 2.0].into_dyn());
    let w = tape.param(&array![3.0, 4.0].into_dyn());
    let unused = tape.param(&array![5.0].into_dyn());
    let mut grads = tape.backward((data * w).sum());
    assert!(grads.get(data).is_none());
    assert!(grads.get(unused).is_none());
    assert_eq!(
        grads.wrt(unused),
        array![0.0].into_dyn(),
        "wrt() gives zeros for an unused parameter"
    );
    assert_eq!(grads.wrt(w), array![1.0, 2.0].into_dyn());
}

#[test]
fn no_grad_tapes_record_no_backward() {
    let tape = Tape::<f64>::no_grad();
    let w = tape.param(&array![1.0].into_dyn());
    let y = (w * w).sum();
    assert_eq!(y.item(), 1.0);
    assert!(tape.backward(y).get(w).is_none());
    assert!(!format!("{tape}").contains("requires grad"));
}

#[test]
fn reset_reuses_the_tape() {
    let mut tape = Tape::<f32>::new();
    for step in 0..3 {
        tape.reset();
        let x = tape.param(&array![step as f32].into_dyn());
        let grads = tape.backward((x * x).sum());
        assert_eq!(grads.get(x).unwrap()[0], 2.0 * step as f32);
        assert_eq!(tape.len(), 3);
    }
}

#[test]
fn params_moved_in_come_back_out() {
    let tape = Tape::<f32>::new();
    let w = tape.param_owned(array![1.5f32, 2.5].into_dyn());
    let _ = tape.backward((w * w).sum());
    assert_eq!(tape.take_value(w), array![1.5f32, 2.5].into_dyn());
}

#[test]
fn printing_shows_ops_inputs_and_shapes() {
    let tape = Tape::<f32>::new();
    let x = tape.constant(&Tensor::zeros(vec![4, 3]));
    let w = tape.param(&Tensor::zeros(vec![3, 2]));
    let _ = x.matmul(w).relu().sum();
    let printed = tape.to_string();
    assert!(printed.contains("%2 = matmul(%0, %1)"), "{printed}");
    assert!(printed.contains("[4, 2]"), "{printed}");
    assert!(printed.contains("%4 = sum(%3)"), "{printed}");
}

#[test]
#[should_panic(expected = "backward: the loss must be a scalar, it has 2 elements")]
fn backward_needs_a_scalar() {
    let tape = Tape::<f64>::new();
    let x = tape.param(&array![1.0, 2.0].into_dyn());
    tape.backward(x.exp());
}

#[test]
fn backward_with_a_seed_is_a_vector_jacobian_product() {
    // y = 2x, seeded with v  ⇒  dx = 2v
    let tape = Tape::<f64>::new();
    let x = tape.param(&array![1.0, 2.0].into_dyn());
    let grads = tape.backward_with(x * 2.0, array![3.0, -1.0].into_dyn());
    assert_eq!(grads.get(x).unwrap(), &array![6.0, -2.0].into_dyn());
}

#[test]
#[should_panic(expected = "add: input 1 (%0) belongs to another tape")]
fn operands_on_two_tapes_are_refused() {
    let (first, second) = (Tape::<f64>::new(), Tape::<f64>::new());
    let a = first.param(&ndarray::arr1(&[1.0]).into_dyn());
    let b = second.param(&ndarray::arr1(&[2.0]).into_dyn());
    // Before the check, this recorded %0 of the first tape (a itself) as b: a + a.
    let _ = a + b;
}
