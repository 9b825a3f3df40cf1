//! `sum`: add up all elements, or along one axis.
//!
//! ```text
//! y = Σᵢ xᵢ                ∂y/∂xᵢ = 1   ⇒  dx = dy broadcast to x's shape
//! y[j] = Σᵢ x[i,j] (axis 0)              ⇒  dx[i,j] = dy[j]
//! ```
//! Reads nothing in backward but the input's shape.

use ndarray::Axis;

use super::checks::check_axis;
use crate::speed::parallel::standard_copy;

use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Sum of all elements, as a 0-dimensional tensor (a scalar).
    pub fn sum(self) -> Var<'t, T> {
        let y = Tensor::from_elem(vec![], self.value().sum());
        self.tape.record("sum", y, &[self], SumBackward)
    }

    /// Sum along `axis`; with `keep_dim` the axis stays, with length 1 (so the result
    /// broadcasts against the input).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn sum_axis(self, axis: usize, keep_dim: bool) -> Var<'t, T> {
        let y = {
            let x = self.value();
            check_axis("sum_axis", axis, x.shape());
            let y = x.sum_axis(Axis(axis));
            if keep_dim {
                y.insert_axis(Axis(axis))
            } else {
                y
            }
        };
        self.tape
            .record("sum_axis", y, &[self], SumAxisBackward { axis, keep_dim })
    }
}

#[derive(Debug)]
struct SumBackward;

impl<T: Float> Backward<T> for SumBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let dy = *dy.iter().next().expect("a scalar");
        vec![Some(Tensor::from_elem(inputs[0].raw_dim(), dy))]
    }
}

#[derive(Debug)]
struct SumAxisBackward {
    axis: usize,
    keep_dim: bool,
}

impl<T: Float> Backward<T> for SumAxisBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let dy = if self.keep_dim {
            dy
        } else {
            dy.insert_axis(Axis(self.axis))
        };
        let dx = standard_copy(
            dy.broadcast(inputs[0].raw_dim())
                .expect("dy broadcasts back along the summed axis"),
        );
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
    fn hand_derived_gradient() {
        // y = Σ_i x[i,j] (axis 0), L = y₀ + 2·y₁  ⇒  dx = [[1, 2], [1, 2]]
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
        let y = x.sum_axis(0, false);
        assert_eq!(y.to_tensor(), array![4.0, 6.0].into_dyn());
        assert_eq!(x.sum().item(), 10.0);
        let w = tape.constant(&array![1.0, 2.0].into_dyn());
        let grads = tape.backward((y * w).sum());
        assert_eq!(
            grads.get(x).unwrap(),
            &array![[1.0, 2.0], [1.0, 2.0]].into_dyn()
        );
    }

    #[test]
    fn keep_dim_keeps_a_unit_axis() {
        let tape = Tape::<f64>::new();
        let x = tape.param(&ndarray::Array2::ones((2, 3)).into_dyn());
        assert_eq!(x.sum_axis(1, true).shape(), vec![2, 1]);
    }

    #[test]
    #[should_panic(expected = "sum_axis: axis 2 out of range for shape [2, 3]")]
    fn bad_axis_panics() {
        let tape = Tape::<f64>::new();
        tape.param(&ndarray::Array2::ones((2, 3)).into_dyn())
            .sum_axis(2, false);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_sum(x in tensor(-2.0, 2.0)) {
            assert_gradcheck(&[x], |_, v| v[0].sum())?;
        }

        #[test]
        fn gradcheck_sum_axis(x in tensor(-2.0, 2.0), axis in 0usize..3, keep_dim in any::<bool>()) {
            let axis = axis % x.ndim();
            assert_gradcheck(&[x], |_, v| v[0].sum_axis(axis, keep_dim))?;
        }
    }
}
