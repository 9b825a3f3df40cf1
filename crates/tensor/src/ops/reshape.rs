//! `reshape`: the same elements, in row-major order, under a new shape.
//!
//! ```text
//! y = x viewed as `shape`     ⇒  dx = dy viewed as x's shape
//! ```
//! Reads nothing in backward but the input's shape.

use ndarray::IxDyn;

use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// The same elements (row-major order) in a new shape with as many elements.
    ///
    /// # Panics
    /// If the element counts differ.
    pub fn reshape(self, shape: &[usize]) -> Var<'t, T> {
        let y = reshaped("reshape", &self.value(), shape);
        self.tape.record("reshape", y, &[self], ReshapeBackward)
    }
}

fn reshaped<T: Float>(op: &str, x: &Tensor<T>, shape: &[usize]) -> Tensor<T> {
    x.to_shape(IxDyn(shape))
        .unwrap_or_else(|_| {
            panic!(
                "{op}: cannot reshape {:?} ({} elements) to {shape:?}",
                x.shape(),
                x.len()
            )
        })
        .into_owned()
}

#[derive(Debug)]
struct ReshapeBackward;

impl<T: Float> Backward<T> for ReshapeBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(reshaped("reshape backward", &dy, inputs[0].shape()))]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn keeps_row_major_order() {
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn());
        assert_eq!(
            x.reshape(&[3, 2]).to_tensor(),
            array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]].into_dyn()
        );
    }

    #[test]
    #[should_panic(expected = "reshape: cannot reshape [2, 3] (6 elements) to [4]")]
    fn wrong_count_panics() {
        let tape = Tape::<f64>::new();
        tape.param(&ndarray::Array2::zeros((2, 3)).into_dyn())
            .reshape(&[4]);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_reshape(x in tensor(-2.0, 2.0)) {
            let flat = [x.len()];
            assert_gradcheck(&[x], |_, v| v[0].reshape(&flat))?;
        }
    }
}
