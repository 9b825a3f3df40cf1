//! `softplus`: a smooth relu, `ln(1 + eˣ)`.
//!
//! ```text
//! y = ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|))     (stable: the exponent is never positive)
//! ∂y/∂x = eˣ / (1 + eˣ) = σ(x)   ⇒  dx = dy ⊙ σ(x)
//! ```
//! Reads the input in backward. The naive form overflows to ∞ for x ≳ 89 in f32.

use super::chain;
use super::sigmoid::sigmoid;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise `ln(1 + eˣ)`, computed stably.
    pub fn softplus(self) -> Var<'t, T> {
        self.unary("softplus", softplus, SoftplusBackward)
    }
}

/// Stable `ln(1 + eˣ)` for one number (libm: exact, propagates NaN).
pub(crate) fn softplus<T: Float>(x: T) -> T {
    x.max(T::zero()) + (-x.abs()).exp().ln_1p()
}

#[derive(Debug)]
struct SoftplusBackward;

impl<T: Float> Backward<T> for SoftplusBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |x, _y| sigmoid(x)))]
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
        // y = ln(1 + e⁰) = ln 2  ⇒  dy/dx = σ(0) = ½
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![0.0].into_dyn());
        let y = x.softplus();
        assert!((y.item() - 2f64.ln()).abs() < 1e-15);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 0.5);
    }

    #[test]
    fn nan_stays_nan() {
        let tape = Tape::<f32>::new();
        assert!(tape
            .constant(&array![f32::NAN].into_dyn())
            .softplus()
            .item()
            .is_nan());
    }

    #[test]
    fn fast_and_exact_agree() {
        use crate::speed::fastmath::softplus_fast;
        // (below −87, e^(−|x|) is under f32's normal range and the fast exp gives 0)
        for i in -4000..5000 {
            let x = i as f32 / 50.0;
            let exact = super::softplus(x as f64);
            for fast in [
                softplus_fast::<f32, false>(x),
                softplus_fast::<f32, true>(x),
            ] {
                let err = (fast as f64 - exact).abs() / exact;
                assert!(err < 4e-7, "{x}: {fast} vs {exact}");
            }
        }
    }

    #[test]
    fn large_inputs_stay_finite() {
        let tape = Tape::<f32>::new();
        let y = tape
            .constant(&array![200.0f32, -200.0].into_dyn())
            .softplus();
        assert_eq!(y.to_tensor(), array![200.0f32, 0.0].into_dyn());
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_softplus(x in tensor(-6.0, 6.0)) {
            assert_gradcheck(&[x], |_, v| v[0].softplus())?;
        }
    }
}
