//! `log_sigmoid`: `ln σ(x)`, the log-probability of a Bernoulli logit.
//!
//! ```text
//! y = ln σ(x) = −ln(1 + e⁻ˣ) = −softplus(−x)        (stable through softplus)
//! ∂y/∂x = σ(−x) = 1 − σ(x)   ⇒  dx = dy ⊙ σ(−x)
//! ```
//! Reads the input in backward. `ln(sigmoid(x))` as two ops gives −∞ for x ≲ −104 in
//! f32 (σ underflows to 0); this form gives x.

use super::chain;
use super::sigmoid::sigmoid;
use super::softplus::softplus;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise `ln σ(x)`, computed stably.
    pub fn log_sigmoid(self) -> Var<'t, T> {
        self.unary("log_sigmoid", |x| -softplus(-x), LogSigmoidBackward)
    }
}

#[derive(Debug)]
struct LogSigmoidBackward;

impl<T: Float> Backward<T> for LogSigmoidBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |x, _y| sigmoid(-x)))]
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
        // y = ln σ(0) = −ln 2  ⇒  dy/dx = σ(−0) = ½
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![0.0].into_dyn());
        let y = x.log_sigmoid();
        assert!((y.item() + 2f64.ln()).abs() < 1e-15);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 0.5);
    }

    #[test]
    fn very_negative_inputs_stay_finite() {
        let tape = Tape::<f32>::new();
        let y = tape.constant(&array![-500.0f32].into_dyn()).log_sigmoid();
        assert_eq!(y.item(), -500.0);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_log_sigmoid(x in tensor(-6.0, 6.0)) {
            assert_gradcheck(&[x], |_, v| v[0].log_sigmoid())?;
        }
    }
}
