//! `relu`: the rectified linear unit. Its derivative is the Heaviside step.
//!
//! ```text
//! y = max(x, 0)     ∂y/∂x = [x > 0]   ⇒  dx = dy ⊙ [x > 0]
//! ```
//! Reads the input in backward. At the kink x = 0 we use 0, as PyTorch does.

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise `max(x, 0)`.
    pub fn relu(self) -> Var<'t, T> {
        self.unary("relu", |x| x.max(T::zero()), ReluBackward)
    }
}

#[derive(Debug)]
struct ReluBackward;

impl<T: Float> Backward<T> for ReluBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |x, _y| {
            if x > T::zero() {
                T::one()
            } else {
                T::zero()
            }
        }))]
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
        // y = relu(x) at x = [−1, 0, 2]  ⇒  y = [0, 0, 2], dy/dx = [0, 0, 1]
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![-1.0, 0.0, 2.0].into_dyn());
        let y = x.relu();
        assert_eq!(y.to_tensor(), array![0.0, 0.0, 2.0].into_dyn());
        assert_eq!(
            tape.backward(y.sum()).get(x).unwrap(),
            &array![0.0, 0.0, 1.0].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_relu(x in away_from_zero(0.01, 3.0)) {
            assert_gradcheck(&[x], |_, v| v[0].relu())?;
        }
    }
}
