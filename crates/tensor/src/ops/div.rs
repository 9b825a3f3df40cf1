//! `a / b`: elementwise quotient, with numpy-style broadcasting.
//!
//! ```text
//! y = a ⊘ b
//! ∂y/∂a = 1/b             ⇒  da = Σ↓ (dy ⊘ b)
//! ∂y/∂b = −a/b² = −y/b    ⇒  db = −Σ↓ (dy ⊙ y ⊘ b)
//! ```
//! Reads the divisor and the output in backward (`y/b` saves recomputing `a/b²`).

use std::ops;

use ndarray::Zip;

use super::broadcast::sum_to_shape;
use super::checks::check_broadcast;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> ops::Div for Var<'t, T> {
    type Output = Var<'t, T>;

    /// Elementwise `a ⊘ b`.
    ///
    /// # Panics
    /// If the shapes do not broadcast together.
    fn div(self, b: Var<'t, T>) -> Var<'t, T> {
        let y = {
            let (a, bv) = (self.value(), b.value());
            check_broadcast("div", a.shape(), bv.shape());
            &*a / &*bv
        };
        self.tape.record("div", y, &[self, b], DivBackward)
    }
}

#[derive(Debug)]
struct DivBackward;

impl<T: Float> Backward<T> for DivBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (a, b) = (inputs[0], inputs[1]);
        let b_full = b.broadcast(y.raw_dim()).expect("b broadcasts to y");
        let db = needs[1].then(|| {
            let mut t = dy.clone();
            Zip::from(&mut t)
                .and(y)
                .and(&b_full)
                .for_each(|d, &y, &b| *d = -*d * y / b);
            sum_to_shape(t, b.shape())
        });
        let da = needs[0].then(|| sum_to_shape(dy / &b_full, a.shape()));
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
        // y = a / b with a = 6, b = 2  ⇒  dy/da = 1/b = 0.5, dy/db = −a/b² = −1.5
        let tape = Tape::<f64>::new();
        let a = tape.param(&array![6.0].into_dyn());
        let b = tape.param(&array![2.0].into_dyn());
        let y = a / b;
        assert_eq!(y.item(), 3.0);
        let grads = tape.backward(y.sum());
        assert_eq!(grads.get(a).unwrap()[0], 0.5);
        assert_eq!(grads.get(b).unwrap()[0], -1.5);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_div((a, b) in broadcast_pair(0.5, 2.0), flip in any::<bool>()) {
            // divisors kept away from 0 (either sign): 1/b is smooth there
            let b = if flip { -b } else { b };
            assert_gradcheck(&[a, b], |_, v| v[0] / v[1])?;
        }
    }
}
