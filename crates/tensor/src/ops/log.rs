//! `log`: the natural logarithm, for positive inputs.
//!
//! ```text
//! y = ln x     ∂y/∂x = 1/x   ⇒  dx = dy ⊘ x
//! ```
//! Reads the input in backward. `ln 0 = −∞` and `ln(x<0) = NaN`, as in IEEE arithmetic.

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise natural logarithm.
    pub fn log(self) -> Var<'t, T> {
        self.unary("log", T::ln, LogBackward)
    }
}

#[derive(Debug)]
struct LogBackward;

impl<T: Float> Backward<T> for LogBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |x, _y| x.recip()))]
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
        // y = ln x at x = 4  ⇒  dy/dx = 1/4
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![4.0].into_dyn());
        let y = x.log();
        assert_eq!(y.item(), 4.0f64.ln());
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 0.25);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_log(x in tensor(0.1, 5.0)) {
            assert_gradcheck(&[x], |_, v| v[0].log())?;
        }
    }
}
