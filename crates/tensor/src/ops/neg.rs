//! `-x`: negation.
//!
//! ```text
//! y = −x     ∂y/∂x = −1   ⇒  dx = −dy
//! ```
//! Reads nothing in backward.

use std::ops;

use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> ops::Neg for Var<'t, T> {
    type Output = Var<'t, T>;

    /// Elementwise `−x`.
    fn neg(self) -> Var<'t, T> {
        let y = -self.to_tensor();
        self.tape.record("neg", y, &[self], NegBackward)
    }
}

#[derive(Debug)]
struct NegBackward;

impl<T: Float> Backward<T> for NegBackward {
    fn backward(
        &self,
        _inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(-dy)]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn value_and_gradient() {
        // y = −x  ⇒  dL/dx = −1
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![2.0, -3.0].into_dyn());
        let y = -x;
        assert_eq!(y.to_tensor(), array![-2.0, 3.0].into_dyn());
        assert_eq!(
            tape.backward(y.sum()).get(x).unwrap(),
            &array![-1.0, -1.0].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_neg(x in tensor(-3.0, 3.0)) {
            assert_gradcheck(&[x], |_, v| -v[0])?;
        }
    }
}
