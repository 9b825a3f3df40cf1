//! `a * b`: elementwise (Hadamard) product, with numpy-style broadcasting.
//!
//! ```text
//! y = a ⊙ b
//! ∂y/∂a = b, ∂y/∂b = a   ⇒  da = Σ↓ (dy ⊙ b),  db = Σ↓ (dy ⊙ a)
//! ```
//! Reads both inputs in backward.

use std::ops;

use super::broadcast::sum_to_shape;
use super::checks::check_broadcast;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> ops::Mul for Var<'t, T> {
    type Output = Var<'t, T>;

    /// Elementwise `a ⊙ b`.
    ///
    /// # Panics
    /// If the shapes do not broadcast together.
    fn mul(self, b: Var<'t, T>) -> Var<'t, T> {
        let y = {
            let (a, bv) = (self.value(), b.value());
            check_broadcast("mul", a.shape(), bv.shape());
            &*a * &*bv
        };
        self.tape.record("mul", y, &[self, b], MulBackward)
    }
}

#[derive(Debug)]
struct MulBackward;

impl<T: Float> Backward<T> for MulBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (a, b) = (inputs[0], inputs[1]);
        let da = needs[0].then(|| sum_to_shape(&dy * b, a.shape()));
        let db = needs[1].then(|| sum_to_shape(&dy * a, b.shape()));
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
    fn hand_derived_gradient() {
        // y = a ⊙ b with a = [2, 3], b = [5, 7]  ⇒  dL/da = b = [5, 7], dL/db = a = [2, 3]
        let tape = Tape::<f64>::new();
        let a = tape.param(&array![2.0, 3.0].into_dyn());
        let b = tape.param(&array![5.0, 7.0].into_dyn());
        let y = a * b;
        assert_eq!(y.to_tensor(), array![10.0, 21.0].into_dyn());
        let grads = tape.backward(y.sum());
        assert_eq!(grads.get(a).unwrap(), &array![5.0, 7.0].into_dyn());
        assert_eq!(grads.get(b).unwrap(), &array![2.0, 3.0].into_dyn());
    }

    #[test]
    fn square_by_fan_out() {
        // y = x ⊙ x  ⇒  dL/dx = x + x = 2x: micrograd's classic accumulation bug, tested
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![3.0, -1.0].into_dyn());
        let grads = tape.backward((x * x).sum());
        assert_eq!(grads.get(x).unwrap(), &array![6.0, -2.0].into_dyn());
    }

    #[test]
    fn constants_record_no_backward() {
        let tape = Tape::<f64>::new();
        let a = tape.constant(&array![1.0].into_dyn());
        let b = tape.param(&array![2.0].into_dyn());
        let mut grads = tape.backward((a * b).sum());
        assert!(grads.get(a).is_none(), "a constant gets no gradient");
        assert_eq!(grads.wrt(b), array![1.0].into_dyn());
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_mul((a, b) in broadcast_pair(-2.0, 2.0)) {
            assert_gradcheck(&[a, b], |_, v| v[0] * v[1])?;
        }
    }
}
