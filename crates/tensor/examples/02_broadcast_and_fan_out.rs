//! Lesson 2: broadcasting sums gradients back; a value used twice gets both contributions.
//!
//! `cargo run -p tensor --example 02_broadcast_and_fan_out`

use ndarray::array;
use tensor::Tape;

fn main() {
    let tape = Tape::<f64>::new();
    let x = tape.constant(&array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn()); // [2, 3]
    let b = tape.param(&array![0.1, 0.2, 0.3].into_dyn()); // [3], broadcast over the 2 rows

    // y = x + b: b is copied to each row, so each element of b feeds 2 outputs and its
    // gradient is the sum of theirs (the column sums of dy).
    let y = x + b;
    // z = y ⊙ y: y is used twice, so dz/dy = y + y = 2y (both uses accumulate).
    let loss = (y * y).sum();
    let grads = tape.backward(loss);
    let db = grads.get(b).unwrap();
    println!("{tape}");
    println!("dL/db = {db}   (Σ over rows of 2·(x + b))");
    let expected = array![2.0 * (1.1 + 4.1), 2.0 * (2.2 + 5.2), 2.0 * (3.3 + 6.3)].into_dyn();
    assert!((db - &expected).iter().all(|e| e.abs() < 1e-12));
}

#[test]
fn the_lesson_runs() {
    main()
}
