//! `a + b`: elementwise sum, with numpy-style broadcasting.
//!
//! ```text
//! y = a + b                      (a and b broadcast to y's shape)
//! ∂y/∂a = 1, ∂y/∂b = 1   ⇒  da = Σ↓ dy,  db = Σ↓ dy
//! ```
//! `Σ↓` sums over the axes an input was broadcast along (see `broadcast.rs`).
//! Reads nothing in backward but the input shapes.

use std::ops;

use super::broadcast::sum_to_shape;
use super::checks::check_broadcast;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> ops::Add for Var<'t, T> {
    type Output = Var<'t, T>;

    /// Elementwise `a + b`.
    ///
    /// # Panics
    /// If the shapes do not broadcast together.
    fn add(self, b: Var<'t, T>) -> Var<'t, T> {
        let y = {
            let (a, bv) = (self.value(), b.value());
            check_broadcast("add", a.shape(), bv.shape());
            &*a + &*bv
        };
        self.tape.record("add", y, &[self, b], AddBackward)
    }
}

#[derive(Debug)]
struct AddBackward;

impl<T: Float> Backward<T> for AddBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (a_shape, b_shape) = (inputs[0].shape(), inputs[1].shape());
        match (needs[0], needs[1]) {
            (true, true) => vec![
                Some(sum_to_shape(dy.clone(), a_shape)),
                Some(sum_to_shape(dy, b_shape)),
            ],
            (true, false) => vec![Some(sum_to_shape(dy, a_shape)), None],
            (false, true) => vec![None, Some(sum_to_shape(dy, b_shape))],
            (false, false) => vec![None, None],
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn forward_broadcasts_a_bias_row() {
        let tape = Tape::<f64>::new();
        let a = tape.constant(&array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
        let b = tape.constant(&array![10.0, 20.0].into_dyn());
        assert_eq!(
            (a + b).to_tensor(),
            array![[11.0, 22.0], [13.0, 24.0]].into_dyn()
        );
    }

    #[test]
    fn fan_out_accumulates() {
        // y = x + x = 2x  ⇒  dL/dx = 2 (both uses contribute)
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![1.0, -1.0].into_dyn());
        let grads = tape.backward((x + x).sum());
        assert_eq!(grads.get(x).unwrap(), &array![2.0, 2.0].into_dyn());
    }

    #[test]
    #[should_panic(expected = "add: shapes do not broadcast: [2] and [3]")]
    fn mismatched_shapes_panic() {
        let tape = Tape::<f64>::new();
        let _ = tape.constant(&array![1.0, 2.0].into_dyn())
            + tape.constant(&array![1.0, 2.0, 3.0].into_dyn());
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_add((a, b) in broadcast_pair(-2.0, 2.0)) {
            assert_gradcheck(&[a, b], |_, v| v[0] + v[1])?;
        }
    }
}
