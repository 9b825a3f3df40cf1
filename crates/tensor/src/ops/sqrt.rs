//! `sqrt`: the square root, for non-negative inputs.
//!
//! ```text
//! y = √x     ∂y/∂x = 1/(2√x) = 1/(2y)   ⇒  dx = dy ⊘ (2y)
//! ```
//! Reads the output in backward. The derivative is infinite at 0.

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise square root.
    pub fn sqrt(self) -> Var<'t, T> {
        self.unary("sqrt", T::sqrt, SqrtBackward)
    }
}

#[derive(Debug)]
struct SqrtBackward;

impl<T: Float> Backward<T> for SqrtBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let half = T::of(0.5);
        vec![Some(chain(dy, inputs[0], y, |_x, y| half / y))]
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
        // y = √x at x = 9  ⇒  y = 3, dy/dx = 1/(2·3) = 1/6
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![9.0].into_dyn());
        let y = x.sqrt();
        assert_eq!(y.item(), 3.0);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 1.0 / 6.0);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_sqrt(x in tensor(0.1, 5.0)) {
            assert_gradcheck(&[x], |_, v| v[0].sqrt())?;
        }
    }
}
