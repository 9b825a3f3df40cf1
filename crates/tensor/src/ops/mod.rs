//! The ops: one file each, with the math, the forward, the backward and the tests.
//!
//! | op | forward | backward (dy = ∂L/∂y) | reads |
//! | --- | --- | --- | --- |
//! | `a + b` | y = a + b (broadcast) | da = Σ↓ dy, db = Σ↓ dy | nothing |
//! | `a - b` | y = a − b (broadcast) | da = Σ↓ dy, db = −Σ↓ dy | nothing |
//! | `a * b` | y = a ⊙ b (broadcast) | da = Σ↓ dy ⊙ b, db = Σ↓ dy ⊙ a | inputs |
//! | `a / b` | y = a ⊘ b (broadcast) | da = Σ↓ dy ⊘ b, db = −Σ↓ dy ⊙ y ⊘ b | inputs, output |
//! | `-x` | y = −x | dx = −dy | nothing |
//! | [`add_scalar`](Var::add_scalar) | y = x + c | dx = dy | nothing |
//! | [`mul_scalar`](Var::mul_scalar) | y = c·x | dx = c·dy | nothing |
//! | [`broadcast_to`](Var::broadcast_to) | y = x expanded | dx = Σ over expanded axes | nothing |
//! | [`matmul`](Var::matmul) | C = A·B | dA = dC·Bᵀ, dB = Aᵀ·dC | inputs |
//! | [`linear`](Var::linear) | y = x·Wᵀ + b (fused) | dx = dy·W, dW = dyᵀ·x, db = Σᵢ dy | inputs |
//! | [`transpose`](Var::transpose) | y = xᵀ | dx = dyᵀ | nothing |
//! | [`reshape`](Var::reshape) | y = x, new shape | dx = dy, old shape | nothing |
//! | [`sum`](Var::sum), [`sum_axis`](Var::sum_axis) | y = Σ x | dx = dy broadcast back | nothing |
//! | [`mean`](Var::mean), [`mean_axis`](Var::mean_axis) | composite: sum · 1/n | (from sum, mul_scalar) | — |
//! | [`exp`](Var::exp) | y = eˣ | dx = dy ⊙ y | output |
//! | [`log`](Var::log) | y = ln x | dx = dy ⊘ x | input |
//! | [`sqrt`](Var::sqrt) | y = √x | dx = dy ⊘ 2y | output |
//! | [`powf`](Var::powf) | y = xᵖ | dx = dy ⊙ p·xᵖ⁻¹ | input |
//! | [`relu`](Var::relu) | y = max(x, 0) | dx = dy ⊙ \[x > 0\] | input |
//! | [`leaky_relu`](Var::leaky_relu) | y = x or αx | dx = dy ⊙ (1 or α) | input |
//! | [`tanh`](Var::tanh) | y = tanh x | dx = dy ⊙ (1 − y²) | output |
//! | [`sigmoid`](Var::sigmoid) | y = 1/(1+e⁻ˣ) | dx = dy ⊙ y(1 − y) | output |
//! | [`softplus`](Var::softplus) | y = ln(1 + eˣ) | dx = dy ⊙ σ(x) | input |
//! | [`log_sigmoid`](Var::log_sigmoid) | y = ln σ(x) | dx = dy ⊙ σ(−x) | input |
//! | [`logsumexp`](Var::logsumexp) | y = ln Σ eˣ along an axis | dx = dy ⊙ softmax(x) | input, output |
//! | [`bce_with_logits`](Var::bce_with_logits) | ℓ = softplus(x) − t·x (fused) | dx = dy ⊙ (σ(x) − t), dt = −dy ⊙ x | inputs |
//! | [`bce_with_logits_sum`](Var::bce_with_logits_sum) | L = Σ ℓ (fused) | dx = dy·(σ(x) − t), dt = −dy·x | inputs |
//! | [`slice`](Var::slice) | y = x[.., a..b, ..] | dx = dy placed in zeros | nothing |
//! | [`concat`](Var::concat) | y = [x₀ ; x₁ ; …] | dxᵢ = dy's i-th piece | nothing |
//! | [`conv2d`](Var::conv2d) | y_b = W · im2col(x_b) + b | dx_b = col2im(Wᵀ·dy_b), dW = Σ_b dy_b · im2col(x_b)ᵀ, db = Σ dy | inputs |
//! | [`conv_transpose2d`](Var::conv_transpose2d) | y_b = col2im(Wᵀ · x_b) + b | dx_b = W · im2col(dy_b), dW = Σ_b x_b · im2col(dy_b)ᵀ, db = Σ dy | inputs |
//!
//! "Σ↓" is [`sum_to_shape`](broadcast::sum_to_shape): a gradient is summed over the axes
//! its input was broadcast along, so it comes back to the input's shape.
//!
//! ## Notation
//! - `x`, `y`: input and output of a unary op; `a`, `b`: inputs of a binary op.
//! - `dy` is ∂L/∂y and always has `y`'s shape; likewise `dx`, `da`, `db`.
//! - Shapes are written `[rows, cols]`.

use std::ops;

use crate::speed::parallel::{map, update2};
use crate::{Backward, Float, Tensor, Var};

mod add;
pub mod bce_with_logits;
pub mod broadcast;
mod checks;
mod concat;
mod conv2d;
mod conv_transpose2d;
mod div;
mod exp;
mod im2col;
mod leaky_relu;
mod linear;
mod log;
mod log_sigmoid;
mod logsumexp;
mod lowered;
mod matmul;
mod mean;
mod mul;
mod neg;
mod powf;
mod relu;
mod reshape;
mod scalar;
mod sigmoid;
mod slice;
mod softplus;
mod sqrt;
mod sub;
mod sum;
mod tanh;
mod transpose;

pub use lowered::{GROUP_VALUES, WAVE};

impl<'t, T: Float> Var<'t, T> {
    /// Records an elementwise op `y = f(x)`: the shared forward of exp, tanh, relu, ...
    pub(crate) fn unary<B: Backward<T> + 'static>(
        self,
        name: &'static str,
        f: impl Fn(T) -> T + Sync + Send,
        backward: B,
    ) -> Var<'t, T> {
        let y = map(&self.value(), f);
        self.tape.record(name, y, &[self], backward)
    }
}

/// The shared backward of elementwise ops: `dx = dy ⊙ f'(x, y)`, computed in place in
/// `dy`'s buffer (one pass, no allocation). `df` gets `(x, y)` and returns ∂y/∂x.
pub(crate) fn chain<T: Float>(
    mut dy: Tensor<T>,
    x: &Tensor<T>,
    y: &Tensor<T>,
    df: impl Fn(T, T) -> T + Sync + Send,
) -> Tensor<T> {
    update2(&mut dy, x, y, |d, x, y| d * df(x, y));
    dy
}

// Scalar operator sugar: `x * 0.5`, `x - 1.0`. The Var-Var operators (`a + b`, `a * b`,
// `-x`, ...) are implemented in their op's own file.

impl<'t, T: Float> ops::Add<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    fn add(self, c: T) -> Self::Output {
        self.add_scalar(c)
    }
}

impl<'t, T: Float> ops::Sub<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    fn sub(self, c: T) -> Self::Output {
        self.add_scalar(-c)
    }
}

impl<'t, T: Float> ops::Mul<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    fn mul(self, c: T) -> Self::Output {
        self.mul_scalar(c)
    }
}

impl<'t, T: Float> ops::Div<T> for Var<'t, T> {
    type Output = Var<'t, T>;
    fn div(self, c: T) -> Self::Output {
        self.mul_scalar(T::one() / c)
    }
}

#[cfg(test)]
mod tests {
    use crate::Tape;

    #[test]
    fn scalar_operators_mean_what_they_say() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&ndarray::arr1(&[3.0, -6.0]).into_dyn());
        let values = |v: crate::Var<'_, f64>| v.to_tensor().into_raw_vec_and_offset().0;
        assert_eq!(values(x + 1.0), vec![4.0, -5.0]);
        assert_eq!(values(x - 1.0), vec![2.0, -7.0]);
        assert_eq!(values(x * 2.0), vec![6.0, -12.0]);
        assert_eq!(values(x / 4.0), vec![0.75, -1.5]);
    }
}
