//! `powf`: raise to a constant real power.
//!
//! ```text
//! y = xᵖ     ∂y/∂x = p·xᵖ⁻¹   ⇒  dx = dy ⊙ p·xᵖ⁻¹
//! ```
//! Reads the input in backward (`p·y/x` would divide by zero at x = 0).
//! For non-integer `p` the input must be positive.

use super::chain;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise `xᵖ` for a constant `p`.
    pub fn powf(self, p: T) -> Var<'t, T> {
        self.unary("powf", move |x| x.powf(p), PowfBackward { p })
    }
}

#[derive(Debug)]
struct PowfBackward<T> {
    p: T,
}

impl<T: Float> Backward<T> for PowfBackward<T> {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let p = self.p;
        vec![Some(chain(dy, inputs[0], y, |x, _y| {
            p * x.powf(p - T::one())
        }))]
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
        // y = x³ at x = 2  ⇒  y = 8, dy/dx = 3·2² = 12
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![2.0].into_dyn());
        let y = x.powf(3.0);
        assert_eq!(y.item(), 8.0);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 12.0);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_powf(x in tensor(0.1, 3.0), p in -2.5..3.5f64) {
            assert_gradcheck(&[x], |_, v| v[0].powf(p))?;
        }
    }
}
