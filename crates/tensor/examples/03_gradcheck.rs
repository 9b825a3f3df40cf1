//! Lesson 3: checking gradients with finite differences, and what a wrong rule looks like.
//!
//! `cargo run -p tensor --example 03_gradcheck`

use ndarray::array;
use tensor::gradcheck;

fn main() {
    let a = array![[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]].into_dyn();
    let b = array![[1.0, 2.0], [-1.0, 0.5], [0.3, -0.2]].into_dyn();

    // A correct composition: every derivative agrees with central differences to ~1e-10.
    let report = gradcheck::check(&[a.clone(), b.clone()], |_tape, v| {
        v[0].matmul(v[1]).sigmoid().logsumexp(1, false)
    });
    println!("sigmoid(a·b) → logsumexp: {report}");
    assert!(report.passed());

    // The same check on a function whose output is a whole matrix: gradcheck reduces it
    // with random weights, so a transposed or sign-flipped gradient cannot cancel out.
    let report = gradcheck::check(&[a], |_tape, v| v[0].transpose().tanh());
    println!("tanh(aᵀ): {report}");
    assert!(report.passed());
}
