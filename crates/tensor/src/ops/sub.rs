//! `a - b`: elementwise difference, with numpy-style broadcasting.
//!
//! ```text
//! y = a − b
//! ∂y/∂a = 1, ∂y/∂b = −1   ⇒  da = Σ↓ dy,  db = −Σ↓ dy
//! ```
//! Reads nothing in backward but the input shapes.

use std::ops;

use super::broadcast::sum_to_shape;
use super::checks::check_broadcast;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> ops::Sub for Var<'t, T> {
    type Output = Var<'t, T>;

    /// Elementwise `a − b`.
    ///
    /// # Panics
    /// If the shapes do not broadcast together.
    fn sub(self, b: Var<'t, T>) -> Var<'t, T> {
        let y = {
            let (a, bv) = (self.value(), b.value());
            check_broadcast("sub", a.shape(), bv.shape());
            &*a - &*bv
        };
        self.tape.record("sub", y, &[self, b], SubBackward)
    }
}

#[derive(Debug)]
struct SubBackward;

impl<T: Float> Backward<T> for SubBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let db = needs[1].then(|| -sum_to_shape(dy.clone(), inputs[1].shape()));
        let da = needs[0].then(|| sum_to_shape(dy, inputs[0].shape()));
        vec![da, db]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn gradient_signs() {
        // y = a − b  ⇒  dL/da = +1, dL/db = −1
        let tape = Tape::<f64>::new();
        let a = tape.param(&array![3.0].into_dyn());
        let b = tape.param(&array![5.0].into_dyn());
        let y = a - b;
        assert_eq!(y.to_tensor(), array![-2.0].into_dyn());
        let grads = tape.backward(y.sum());
        assert_eq!(grads.get(a).unwrap()[0], 1.0);
        assert_eq!(grads.get(b).unwrap()[0], -1.0);
    }

    #[test]
    fn self_difference_has_zero_gradient() {
        // y = x − x = 0  ⇒  dL/dx = 1 − 1 = 0 (both paths accumulate)
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![1.5, 2.5].into_dyn());
        let grads = tape.backward((x - x).sum());
        assert_eq!(grads.get(x).unwrap(), &array![0.0, 0.0].into_dyn());
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_sub((a, b) in broadcast_pair(-2.0, 2.0)) {
            assert_gradcheck(&[a, b], |_, v| v[0] - v[1])?;
        }
    }
}
