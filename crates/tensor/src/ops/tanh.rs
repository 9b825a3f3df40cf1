//! `tanh`: the hyperbolic tangent.
//!
//! ```text
//! y = tanh x     ∂y/∂x = 1 − tanh² x = 1 − y²   ⇒  dx = dy ⊙ (1 − y²)
//! ```
//! Reads the output in backward.

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise hyperbolic tangent.
    pub fn tanh(self) -> Var<'t, T> {
        self.unary("tanh", T::tanh, TanhBackward)
    }
}

#[derive(Debug)]
struct TanhBackward;

impl<T: Float> Backward<T> for TanhBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |_x, y| T::one() - y * y))]
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
        // y = tanh x at x = 0  ⇒  y = 0, dy/dx = 1 − 0² = 1
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![0.0].into_dyn());
        let y = x.tanh();
        assert_eq!(y.item(), 0.0);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 1.0);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_tanh(x in tensor(-3.0, 3.0)) {
            assert_gradcheck(&[x], |_, v| v[0].tanh())?;
        }
    }
}
