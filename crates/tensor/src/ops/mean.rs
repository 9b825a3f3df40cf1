//! `mean`: the average of all elements, or along one axis. A composite, no backward code:
//!
//! ```text
//! mean(x) = (1/n) · Σᵢ xᵢ     ⇒  dx = dy / n   (from sum's rule, then mul_scalar's)
//! ```

use super::checks::check_axis;
use crate::{Float, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Mean of all elements, as a scalar.
    pub fn mean(self) -> Var<'t, T> {
        let n = self.value().len();
        self.sum().mul_scalar(T::of(1.0 / n as f64))
    }

    /// Mean along `axis` (see [`sum_axis`](Var::sum_axis) for `keep_dim`).
    pub fn mean_axis(self, axis: usize, keep_dim: bool) -> Var<'t, T> {
        let shape = self.shape();
        check_axis("mean_axis", axis, &shape);
        self.sum_axis(axis, keep_dim)
            .mul_scalar(T::of(1.0 / shape[axis] as f64))
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
        // y = (x₀ + x₁ + x₂ + x₃)/4  ⇒  dy/dxᵢ = 1/4
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[1.0, 2.0], [3.0, 6.0]].into_dyn());
        let y = x.mean();
        assert_eq!(y.item(), 3.0);
        assert_eq!(
            x.mean_axis(1, false).to_tensor(),
            array![1.5, 4.5].into_dyn()
        );
        assert_eq!(
            tape.backward(y).get(x).unwrap(),
            &array![[0.25, 0.25], [0.25, 0.25]].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_mean(x in tensor(-2.0, 2.0)) {
            assert_gradcheck(&[x], |_, v| v[0].mean())?;
        }

        #[test]
        fn gradcheck_mean_axis(x in tensor(-2.0, 2.0), axis in 0usize..3, keep_dim in any::<bool>()) {
            let axis = axis % x.ndim();
            assert_gradcheck(&[x], |_, v| v[0].mean_axis(axis, keep_dim))?;
        }
    }
}
