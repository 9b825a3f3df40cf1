//! `exp`: the exponential. Its derivative is itself.
//!
//! ```text
//! y = eˣ     ∂y/∂x = eˣ = y   ⇒  dx = dy ⊙ y
//! ```
//! Reads the output in backward (no second `exp`).

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise `eˣ`.
    pub fn exp(self) -> Var<'t, T> {
        self.unary("exp", T::exp, ExpBackward)
    }
}

#[derive(Debug)]
struct ExpBackward;

impl<T: Float> Backward<T> for ExpBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |_x, y| y))]
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
        // y = eˣ at x = 0 and x = 1  ⇒  dy/dx = 1 and e
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![0.0, 1.0].into_dyn());
        let y = x.exp();
        assert_eq!(y.to_tensor(), array![1.0, std::f64::consts::E].into_dyn());
        assert_eq!(
            tape.backward(y.sum()).get(x).unwrap(),
            &array![1.0, std::f64::consts::E].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_exp(x in tensor(-3.0, 3.0)) {
            assert_gradcheck(&[x], |_, v| v[0].exp())?;
        }
    }
}
