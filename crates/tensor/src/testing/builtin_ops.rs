//! Every op of the engine as a [`ProgramOp`], with a domain guard where it needs one: the
//! instruction set of our random compositions. Add your own ops to this list to test
//! them among ours.

use super::programs::ProgramOp;
use crate::ops::broadcast::broadcast_shape;
use crate::Var;

/// `v² + 0.5`: a domain guard that keeps an operand positive (log, sqrt, powf, div).
fn positive(v: Var<'_, f64>) -> Var<'_, f64> {
    v * v + 0.5
}

fn broadcastable(a: Var<'_, f64>, b: Var<'_, f64>) -> bool {
    broadcast_shape(&a.shape(), &b.shape()).is_some()
}

fn matrices_with_equal_columns(a: Var<'_, f64>, b: Var<'_, f64>) -> bool {
    let (sa, sb) = (a.shape(), b.shape());
    sa.len() == 2 && sb.len() == 2 && sa[1] == sb[1]
}

macro_rules! unary {
    ($name:literal, $kink:literal, |$a:ident, $axis:ident| $body:expr) => {
        ProgramOp {
            name: $name,
            binary: false,
            kink_at_zero: $kink,
            apply: |$a, _b, $axis| $body,
        }
    };
}

macro_rules! binary {
    ($name:literal, |$a:ident, $b:ident, $axis:ident| $body:expr) => {
        ProgramOp {
            name: $name,
            binary: true,
            kink_at_zero: false,
            apply: |$a, $b, $axis| $body,
        }
    };
}

/// A 2-D kernel `[c_out, c_in, 2, 2]` = `[1, 1, 2, 2]` and a bias `[1]` made from `b`
/// (its first four values, and its sum), when it has four values.
fn kernel_of(b: Var<'_, f64>) -> Option<(Var<'_, f64>, Var<'_, f64>)> {
    let n: usize = b.shape().iter().product();
    (n >= 4).then(|| {
        let flat = b.reshape(&[n]);
        (
            flat.slice(0, 0..4).reshape(&[1, 1, 2, 2]),
            flat.sum().reshape(&[1]),
        )
    })
}

/// A matrix `[r, c]` as a one-channel image `[1, 1, r, c]`, when it is a matrix.
fn image_of(a: Var<'_, f64>) -> Option<Var<'_, f64>> {
    let s = a.shape();
    (s.len() == 2).then(|| a.reshape(&[1, 1, s[0], s[1]]))
}

/// An image `[1, 1, h, w]` back to a matrix `[h, w]`.
fn matrix_of(y: Var<'_, f64>) -> Var<'_, f64> {
    let s = y.shape();
    y.reshape(&[s[2], s[3]])
}

/// The engine's ops, 33 of them.
pub fn builtin_ops() -> Vec<ProgramOp> {
    vec![
        binary!("add", |a, b, _x| broadcastable(a, b).then(|| a + b)),
        binary!("sub", |a, b, _x| broadcastable(a, b).then(|| a - b)),
        binary!("mul", |a, b, _x| broadcastable(a, b).then(|| a * b)),
        binary!("div", |a, b, _x| broadcastable(a, b)
            .then(|| a / positive(b))),
        binary!("matmul", |a, b, _x| matrices_with_equal_columns(a, b)
            .then(|| a.matmul(b.transpose()))),
        // b is both the weight [out, in] and, summed over its rows, the bias [out].
        binary!("linear", |a, b, _x| matrices_with_equal_columns(a, b)
            .then(|| a.linear(b, b.sum_axis(1, false)))),
        binary!("bce_with_logits", |a, b, _x| (a.shape() == b.shape())
            .then(|| a.bce_with_logits(b.sigmoid()))),
        binary!("bce_with_logits_sum", |a, b, _x| (a.shape() == b.shape())
            .then(|| a.bce_with_logits_sum(b.sigmoid()))),
        binary!("concat", |a, b, axis| {
            let (sa, sb) = (a.shape(), b.shape());
            let fits = axis < sa.len()
                && sa.len() == sb.len()
                && sa
                    .iter()
                    .zip(&sb)
                    .enumerate()
                    .all(|(i, (x, y))| i == axis || x == y);
            fits.then(|| Var::concat(&[a, b, a], axis))
        }),
        // a as an image, convolved by a kernel made of b's values: stride 1 down, 2 across.
        binary!("conv2d", |a, b, _x| {
            let ((w, bias), x) = (kernel_of(b)?, image_of(a)?);
            Some(matrix_of(x.conv2d(w, bias, [1, 2], [1, 1], [1, 1])))
        }),
        binary!("conv_transpose2d", |a, b, _x| {
            let ((w, bias), x) = (kernel_of(b)?, image_of(a)?);
            Some(matrix_of(x.conv_transpose2d(
                w,
                bias,
                [2, 1],
                [1, 0],
                [1, 0],
                [1, 1],
            )))
        }),
        unary!("neg", false, |a, _x| Some(-a)),
        unary!("add_scalar", false, |a, _x| Some(a + 0.75)),
        unary!("mul_scalar", false, |a, _x| Some(a * -1.25)),
        unary!("exp", false, |a, _x| Some(a.exp())),
        unary!("log", false, |a, _x| Some(positive(a).log())),
        unary!("sqrt", false, |a, _x| Some(positive(a).sqrt())),
        unary!("powf", false, |a, _x| Some(positive(a).powf(1.7))),
        unary!("relu", true, |a, _x| Some(a.relu())),
        unary!("leaky_relu", true, |a, _x| Some(a.leaky_relu(0.1))),
        unary!("tanh", false, |a, _x| Some(a.tanh())),
        unary!("sigmoid", false, |a, _x| Some(a.sigmoid())),
        unary!("softplus", false, |a, _x| Some(a.softplus())),
        unary!("log_sigmoid", false, |a, _x| Some(a.log_sigmoid())),
        unary!("sum", false, |a, _x| Some(a.sum())),
        unary!("sum_axis", false, |a, axis| (axis < a.shape().len())
            .then(|| a.sum_axis(axis, true))),
        unary!("mean", false, |a, _x| Some(a.mean())),
        unary!("mean_axis", false, |a, axis| (axis < a.shape().len())
            .then(|| a.mean_axis(axis, axis == 1))),
        unary!("logsumexp", false, |a, axis| (axis < a.shape().len())
            .then(|| a.logsumexp(axis, axis == 0))),
        unary!("transpose", false, |a, _x| Some(a.transpose())),
        unary!("reshape", false, |a, _x| Some(
            a.reshape(&[a.shape().iter().product::<usize>()])
        )),
        unary!("slice", false, |a, axis| {
            let s = a.shape();
            (axis < s.len() && s[axis] > 1).then(|| a.slice(axis, 1..s[axis]))
        }),
        unary!("broadcast_to", false, |a, _x| Some(a.broadcast_to(
            &[2].iter().chain(&a.shape()).copied().collect::<Vec<_>>()
        ))),
    ]
}
