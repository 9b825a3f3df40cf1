//! `sigmoid`: the logistic function σ.
//!
//! ```text
//! y = σ(x) = 1 / (1 + e⁻ˣ)     ∂y/∂x = σ(x)·(1 − σ(x)) = y(1 − y)   ⇒  dx = dy ⊙ y ⊙ (1 − y)
//! ```
//! Reads the output in backward. Computed as `eˣ/(1 + eˣ)` for negative `x` so that
//! `e⁻ˣ` never overflows (both forms are exact; each is stable on its own side).

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise logistic function `1 / (1 + e⁻ˣ)`.
    pub fn sigmoid(self) -> Var<'t, T> {
        self.unary("sigmoid", sigmoid, SigmoidBackward)
    }
}

/// Numerically stable σ(x) for one number (also used by softplus and log_sigmoid):
/// with `e = e^(−|x|) ≤ 1`, σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) for x < 0.
pub(crate) fn sigmoid<T: Float>(x: T) -> T {
    let e = (-x.abs()).exp();
    let numerator = if x >= T::zero() { T::one() } else { e };
    numerator / (T::one() + e)
}

#[derive(Debug)]
struct SigmoidBackward;

impl<T: Float> Backward<T> for SigmoidBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |_x, y| y * (T::one() - y)))]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn hand_derived_gradient() {
        // y = σ(0) = 1/2  ⇒  dy/dx = ½·(1 − ½) = ¼
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![0.0].into_dyn());
        let y = x.sigmoid();
        assert_eq!(y.item(), 0.5);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 0.25);
    }

    #[test]
    fn extreme_inputs_do_not_overflow() {
        let tape = Tape::<f32>::new();
        let y = tape
            .constant(&array![-1000.0f32, 1000.0].into_dyn())
            .sigmoid();
        assert_eq!(y.to_tensor(), array![0.0f32, 1.0].into_dyn());
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_sigmoid(x in tensor(-6.0, 6.0)) {
            assert_gradcheck(&[x], |_, v| v[0].sigmoid())?;
        }
    }
}
