//! Lesson 3: checking gradients with finite differences, and what a wrong rule looks like.
//!
//! `cargo run -p tensor --example 03_gradcheck`

use ndarray::array;
use tensor::{gradcheck, Backward, Tensor, Var};

/// x², recorded with a wrong derivative: dy ⊙ x instead of dy ⊙ 2x (lesson 4 shows how
/// ops are written; here we only need one that is wrong).
#[derive(Debug)]
struct ForgotTheTwo;

impl Backward<f64> for ForgotTheTwo {
    fn backward(
        &self,
        inputs: &[&Tensor<f64>],
        _y: &Tensor<f64>,
        dy: Tensor<f64>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<f64>>> {
        vec![Some(dy * inputs[0])]
    }
}

fn wrong_square<'t>(x: Var<'t, f64>) -> Var<'t, f64> {
    let y = x.value().mapv(|v| v * v);
    x.tape().record("wrong_square", y, &[x], ForgotTheTwo)
}

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
    let report = gradcheck::check(std::slice::from_ref(&a), |_tape, v| v[0].transpose().tanh());
    println!("tanh(aᵀ): {report}");
    assert!(report.passed());

    // What a wrong rule looks like: every derivative is off by a factor of 2, and the
    // report gives the count, the largest errors, and the worst element (input, index)
    // with both values: analytic (the rule) half of numeric (the function).
    let report = gradcheck::check(std::slice::from_ref(&a), |_tape, v| wrong_square(v[0]));
    println!("wrong_square(a): {report}");
    assert!(!report.passed());

    // Buried inside a composition, it is still found: the error reaches every input
    // whose gradient flows through the wrong rule.
    let report = gradcheck::check(&[a, b], |_tape, v| {
        wrong_square(v[0].matmul(v[1]))
            .sigmoid()
            .logsumexp(1, false)
    });
    println!("logsumexp(sigmoid(wrong_square(a·b))): {report}");
    assert!(!report.passed());
}

#[test]
fn the_lesson_runs() {
    main()
}
