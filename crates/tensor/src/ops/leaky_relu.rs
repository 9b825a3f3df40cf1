//! `leaky_relu`: like relu, but with slope `α` (PyTorch's default 0.01) below zero.
//!
//! ```text
//! y = x if x > 0 else α·x     ∂y/∂x = 1 if x > 0 else α   ⇒  dx = dy ⊙ (1 or α)
//! ```
//! Reads the input in backward.

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise `x` for `x > 0`, `slope·x` otherwise.
    pub fn leaky_relu(self, slope: T) -> Var<'t, T> {
        self.unary(
            "leaky_relu",
            move |x| if x > T::zero() { x } else { slope * x },
            LeakyReluBackward { slope },
        )
    }
}

#[derive(Debug)]
struct LeakyReluBackward<T> {
    slope: T,
}

impl<T: Float> Backward<T> for LeakyReluBackward<T> {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let slope = self.slope;
        vec![Some(chain(dy, inputs[0], y, |x, _y| {
            if x > T::zero() {
                T::one()
            } else {
                slope
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
        // α = 0.1, x = [−2, 3]  ⇒  y = [−0.2, 3], dy/dx = [0.1, 1]
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![-2.0, 3.0].into_dyn());
        let y = x.leaky_relu(0.1);
        assert_eq!(y.to_tensor(), array![-0.2, 3.0].into_dyn());
        assert_eq!(
            tape.backward(y.sum()).get(x).unwrap(),
            &array![0.1, 1.0].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_leaky_relu(x in away_from_zero(0.01, 3.0), slope in 0.0..0.5f64) {
            assert_gradcheck(&[x], |_, v| v[0].leaky_relu(slope))?;
        }
    }
}
