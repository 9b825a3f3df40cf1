//! `x + c` and `c · x` for a constant scalar `c`.
//!
//! ```text
//! y = x + c     ∂y/∂x = 1   ⇒  dx = dy
//! y = c · x     ∂y/∂x = c   ⇒  dx = c · dy
//! ```
//! Both read nothing in backward; the constant lives in the backward struct.

use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// `x + c` elementwise (also `x + c` and `x - c` with the operators).
    pub fn add_scalar(self, c: T) -> Var<'t, T> {
        self.unary("add_scalar", move |x| x + c, AddScalarBackward)
    }

    /// `c · x` elementwise (also `x * c` and `x / c` with the operators).
    pub fn mul_scalar(self, c: T) -> Var<'t, T> {
        self.unary("mul_scalar", move |x| x * c, MulScalarBackward { c })
    }
}

#[derive(Debug)]
struct AddScalarBackward;

impl<T: Float> Backward<T> for AddScalarBackward {
    fn backward(
        &self,
        _inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(dy)]
    }
}

#[derive(Debug)]
struct MulScalarBackward<T> {
    c: T,
}

impl<T: Float> Backward<T> for MulScalarBackward<T> {
    fn backward(
        &self,
        _inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(dy * self.c)]
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
        // y = 3x + 1  ⇒  dy/dx = 3
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![2.0].into_dyn());
        let y = x * 3.0 + 1.0;
        assert_eq!(y.item(), 7.0);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 3.0);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_add_scalar(x in tensor(-3.0, 3.0), c in -5.0..5.0f64) {
            assert_gradcheck(&[x], |_, v| v[0].add_scalar(c))?;
        }

        #[test]
        fn gradcheck_mul_scalar(x in tensor(-3.0, 3.0), c in -5.0..5.0f64) {
            assert_gradcheck(&[x], |_, v| v[0].mul_scalar(c))?;
        }
    }
}
