//! `transpose`: reverse the axes (for a matrix, rows become columns).
//!
//! ```text
//! y[j,i] = x[i,j]     ⇒  dx = dyᵀ
//! ```
//! Reads nothing in backward. The value is copied into row-major order so later ops see
//! an ordinary array; matmul and linear never need this op, they read transposes by strides.

use crate::speed::parallel::standard_copy;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// The tensor with its axes reversed (`[m, n]` → `[n, m]`).
    pub fn transpose(self) -> Var<'t, T> {
        let y = standard_copy(self.value().t());
        self.tape.record("transpose", y, &[self], TransposeBackward)
    }
}

#[derive(Debug)]
struct TransposeBackward;

impl<T: Float> Backward<T> for TransposeBackward {
    fn backward(
        &self,
        _inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(standard_copy(dy.t()))]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn swaps_rows_and_columns() {
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[1.0, 2.0, 3.0]].into_dyn());
        let y = x.transpose();
        assert_eq!(y.to_tensor(), array![[1.0], [2.0], [3.0]].into_dyn());
        // weights on y's rows land on x's columns
        let w = tape.constant(&array![[1.0], [10.0], [100.0]].into_dyn());
        let grads = tape.backward((y * w).sum());
        assert_eq!(
            grads.get(x).unwrap(),
            &array![[1.0, 10.0, 100.0]].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_transpose(x in tensor(-2.0, 2.0)) {
            assert_gradcheck(&[x], |_, v| v[0].transpose())?;
        }
    }
}
