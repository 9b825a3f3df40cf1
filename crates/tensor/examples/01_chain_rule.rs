//! Lesson 1: the chain rule on a tape.
//!
//! `cargo run -p tensor --example 01_chain_rule`
//!
//! We compute y = tanh(w·x + b) for scalars, print the tape, differentiate, and compare
//! with the derivative worked out by hand.

use ndarray::array;
use tensor::Tape;

fn main() {
    let tape = Tape::<f64>::new();
    let (x0, w0, b0) = (0.5, -1.5, 0.25);
    let x = tape.constant(&array![x0].into_dyn()); // data: no gradient wanted
    let w = tape.param(&array![w0].into_dyn()); // parameters: gradients wanted
    let b = tape.param(&array![b0].into_dyn());

    let y = (w * x + b).tanh();
    println!("The tape, one node per op, in creation order:\n{tape}");

    // backward walks the nodes newest first: tanh, add, mul.
    let grads = tape.backward(y.sum());
    let dw = grads.get(w).unwrap()[0];
    let db = grads.get(b).unwrap()[0];

    // By hand: u = w·x + b, y = tanh(u), dy/du = 1 − tanh²(u), du/dw = x, du/db = 1.
    let u: f64 = w0 * x0 + b0;
    let dy_du = 1.0 - u.tanh().powi(2);
    println!("dy/dw: tape {dw:.12}, by hand {:.12}", dy_du * x0);
    println!("dy/db: tape {db:.12}, by hand {:.12}", dy_du);
    assert!((dw - dy_du * x0).abs() < 1e-15 && (db - dy_du).abs() < 1e-15);
}

#[test]
fn the_lesson_runs() {
    main()
}
