//! Lesson 4: your own op, checked like ours.
//!
//! An op is three things: its value, its derivative (a [`Backward`] rule), and one call
//! to [`Tape::record`] that puts both on the tape. Nothing else in the engine needs to
//! know about it: `backward` calls its rule, skips the gradients nobody needs, and adds
//! up gradients that reach a value along several paths, as for the built-in ops.
//!
//! Two correct ops, `x³` and the fused `a·b + c`, pass the gradient check alone and
//! inside a composition with built-in ops; a wrong one (`x³` whose rule forgets a
//! factor x) is rejected, and the check's report says where and by how much.
//!
//! `cargo run -p tensor --example 04_your_own_op`

use ndarray::array;
use tensor::{gradcheck, Backward, Tape, Tensor, Var};

/// y = x³.  dy/dx = 3x²  ⇒  dx = dy ⊙ 3x².
#[derive(Debug)]
struct CubeBackward;

impl Backward<f64> for CubeBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<f64>],
        _y: &Tensor<f64>,
        dy: Tensor<f64>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<f64>>> {
        vec![Some(dy * inputs[0].mapv(|x| 3.0 * x * x))]
    }
}

fn cube<'t>(x: Var<'t, f64>) -> Var<'t, f64> {
    // Compute the value first, and drop the borrow of x's value before recording.
    let y = x.value().mapv(|v| v * v * v);
    x.tape().record("cube", y, &[x], CubeBackward)
}

/// y = a ⊙ b + c (same shapes).  da = dy ⊙ b, db = dy ⊙ a, dc = dy.
#[derive(Debug)]
struct MulAddBackward;

impl Backward<f64> for MulAddBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<f64>],
        _y: &Tensor<f64>,
        dy: Tensor<f64>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<f64>>> {
        let (a, b) = (inputs[0], inputs[1]);
        // `needs[i]` is false when nobody wants input i's gradient: skip the work.
        vec![
            needs[0].then(|| &dy * b),
            needs[1].then(|| &dy * a),
            needs[2].then(|| dy.clone()),
        ]
    }
}

fn mul_add<'t>(a: Var<'t, f64>, b: Var<'t, f64>, c: Var<'t, f64>) -> Var<'t, f64> {
    assert_eq!(a.shape(), b.shape(), "mul_add: a and b differ in shape");
    assert_eq!(a.shape(), c.shape(), "mul_add: a and c differ in shape");
    let y = &*a.value() * &*b.value() + &*c.value();
    a.tape().record("mul_add", y, &[a, b, c], MulAddBackward)
}

/// The same x³ with a wrong rule: 3x instead of 3x².
#[derive(Debug)]
struct WrongCubeBackward;

impl Backward<f64> for WrongCubeBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<f64>],
        _y: &Tensor<f64>,
        dy: Tensor<f64>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<f64>>> {
        vec![Some(dy * inputs[0].mapv(|x| 3.0 * x))]
    }
}

fn wrong_cube<'t>(x: Var<'t, f64>) -> Var<'t, f64> {
    let y = x.value().mapv(|v| v * v * v);
    x.tape().record("wrong_cube", y, &[x], WrongCubeBackward)
}

fn main() {
    let x = array![[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]].into_dyn();
    let w = array![[1.0, -0.5], [0.25, 2.0], [-1.5, 0.75]].into_dyn();

    let report = gradcheck::check(std::slice::from_ref(&x), |_tape, v| cube(v[0]));
    println!("cube(x):                      {report}");
    assert!(report.passed());

    let report = gradcheck::check(
        &[x.clone(), x.mapv(|v| v * 0.5 - 0.1), x.mapv(f64::cos)],
        |_tape, v| mul_add(v[0], v[1], v[2]),
    );
    println!("mul_add(a, b, c):             {report}");
    assert!(report.passed());

    // With built-in ops around it, fan-out included (x feeds cube and tanh).
    let report = gradcheck::check(&[x.clone(), w], |_tape, v| {
        let h = cube(v[0]).matmul(v[1]).tanh();
        let g = v[0].tanh().matmul(v[1]);
        mul_add(h, g, h).logsumexp(1, false)
    });
    println!("logsumexp(mul_add(..)):       {report}");
    assert!(report.passed());

    // The graph records our ops by name, beside the built-in ones.
    let tape = Tape::<f64>::new();
    let a = tape.param(&x);
    let loss = mul_add(cube(a), a, a).sum();
    println!("\nthe tape:\n{tape}");
    let grad = tape.backward(loss).wrt(a);
    println!("d loss / d a = 3a²·a + a³ + 1 = 4a³ + 1:\n{grad}");

    // A wrong rule: the check finds it, says how many derivatives disagree, and where.
    let report = gradcheck::check(&[x], |_tape, v| wrong_cube(v[0]));
    println!("\nwrong_cube(x):                {report}");
    assert!(!report.passed(), "a wrong rule must fail the check");
}

#[test]
fn the_lesson_runs() {
    main()
}
