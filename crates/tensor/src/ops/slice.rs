//! `slice`: the elements `start..end` along one axis.
//!
//! ```text
//! y = x[.., start..end, ..]     ⇒  dx = zeros of x's shape with dy written into start..end
//! ```
//! Reads nothing in backward but the input's shape. The VAE's encoder computes μ and
//! ln σ² with one `[batch, 2·latent]` product and slices it in two (`model.rs`).

use std::ops::Range;

use ndarray::{Axis, Slice};

use super::checks::check_axis;
use crate::speed::parallel::standard_copy;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elements `range` along `axis`.
    ///
    /// # Panics
    /// If the axis or the range is out of bounds.
    pub fn slice(self, axis: usize, range: Range<usize>) -> Var<'t, T> {
        let y = {
            let x = self.value();
            check_axis("slice", axis, x.shape());
            assert!(
                range.start <= range.end && range.end <= x.shape()[axis],
                "slice: range {range:?} out of bounds for axis {axis} of shape {:?}",
                x.shape()
            );
            standard_copy(x.slice_axis(Axis(axis), Slice::from(range.clone())))
        };
        self.tape
            .record("slice", y, &[self], SliceBackward { axis, range })
    }
}

#[derive(Debug)]
struct SliceBackward {
    axis: usize,
    range: Range<usize>,
}

impl<T: Float> Backward<T> for SliceBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let mut dx = Tensor::zeros(inputs[0].raw_dim());
        dx.slice_axis_mut(Axis(self.axis), Slice::from(self.range.clone()))
            .assign(&dy);
        vec![Some(dx)]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn gradient_lands_in_the_slice() {
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn());
        let y = x.slice(1, 1..3);
        assert_eq!(y.to_tensor(), array![[2.0, 3.0], [5.0, 6.0]].into_dyn());
        assert_eq!(
            tape.backward(y.sum()).get(x).unwrap(),
            &array![[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]].into_dyn()
        );
    }

    #[test]
    #[should_panic(expected = "slice: range 2..5 out of bounds for axis 0 of shape [3]")]
    fn out_of_bounds_panics() {
        let tape = Tape::<f64>::new();
        tape.param(&array![1.0, 2.0, 3.0].into_dyn()).slice(0, 2..5);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_slice(x in tensor(-2.0, 2.0), axis in 0usize..3, a in 0usize..5, b in 0usize..5) {
            let axis = axis % x.ndim();
            let len = x.shape()[axis];
            let (start, end) = (a.min(b) % (len + 1), a.max(b).min(len));
            let start = start.min(end);
            assert_gradcheck(&[x], |_, v| v[0].slice(axis, start..end))?;
        }
    }
}
