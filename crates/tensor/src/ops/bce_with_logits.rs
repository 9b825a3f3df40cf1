//! `bce_with_logits`: binary cross-entropy of targets `t ∈ [0, 1]` under Bernoulli
//! logits `x`, fused into one stable op. It is the VAE's reconstruction term.
//!
//! ```text
//! ℓ(x, t) = −[t·ln σ(x) + (1−t)·ln(1−σ(x))]
//!         = softplus(x) − t·x                  (ln σ(x) = −softplus(−x), softplus(−x) = softplus(x) − x)
//!         = max(x, 0) − t·x + ln(1 + e^(−|x|)) (stable: the exponent is never positive)
//! ∂ℓ/∂x = σ(x) − t     ⇒  dx = dy ⊙ (σ(x) − t)
//! ∂ℓ/∂t = −x           ⇒  dt = −dy ⊙ x         (targets are usually data and skip this)
//! ```
//! Reads both inputs in backward. Why fused: the composite `−(t·ln σ(x) + (1−t)·ln(1−σ(x)))`
//! takes ln 0 = −∞ once σ saturates (|x| ≳ 17 in f32) and would allocate six
//! `[batch, pixels]` arrays; this is one pass forward and one backward, with the
//! vectorizable `exp` and `ln` of [`crate::fastmath`] (exact libm ones in f64). A NaN
//! logit still gives a NaN loss, through the `t·x` term.

use super::sigmoid::sigmoid_fast;
use super::softplus::softplus_fast;
use super::{map2, update2};
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise binary cross-entropy of `targets` under the logits `self`
    /// (PyTorch's `binary_cross_entropy_with_logits(.., reduction='none')`).
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn bce_with_logits(self, targets: Var<'t, T>) -> Var<'t, T> {
        let loss = {
            let (x, t) = (self.value(), targets.value());
            assert_eq!(
                x.shape(),
                t.shape(),
                "bce_with_logits: logits {:?} and targets {:?} differ",
                x.shape(),
                t.shape()
            );
            map2(&x, &t, |x, t| softplus_fast(x) - t * x)
        };
        self.tape.push(
            "bce_with_logits",
            loss,
            &[self.id, targets.id],
            BceWithLogitsBackward,
        )
    }
}

#[derive(Debug)]
struct BceWithLogitsBackward;

impl<T: Float> Backward<T> for BceWithLogitsBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (x, t) = (inputs[0], inputs[1]);
        let dt = needs[1].then(|| {
            let mut dt = dy.clone();
            update2(&mut dt, x, t, |d, x, _t| -d * x);
            dt
        });
        let dx = needs[0].then(|| {
            let mut dx = dy;
            update2(&mut dx, x, t, |d, x, t| d * (sigmoid_fast(x) - t));
            dx
        });
        vec![dx, dt]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn hand_derived_values_and_gradient() {
        // x = 0: ℓ = ln 2 for any t; dℓ/dx = σ(0) − t = ½ − t
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![0.0, 0.0].into_dyn());
        let t = tape.constant(&array![0.0, 1.0].into_dyn());
        let loss = x.bce_with_logits(t);
        assert_close(
            &loss.to_tensor(),
            &array![2f64.ln(), 2f64.ln()].into_dyn(),
            1e-15,
        );
        assert_eq!(
            tape.backward(loss.sum()).get(x).unwrap(),
            &array![0.5, -0.5].into_dyn()
        );
    }

    #[test]
    fn matches_the_textbook_formula() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&array![-3.0, 0.5, 2.0].into_dyn());
        let t = tape.constant(&array![0.2, 0.9, 0.0].into_dyn());
        let p = x.to_tensor().mapv(|x| 1.0 / (1.0 + (-x).exp()));
        let expected = ndarray::Zip::from(&p)
            .and(&t.to_tensor())
            .map_collect(|&p, &t| -(t * p.ln() + (1.0 - t) * (1.0 - p).ln()));
        assert_close(&x.bce_with_logits(t).to_tensor(), &expected, 1e-14);
    }

    #[test]
    fn a_nan_logit_gives_a_nan_loss() {
        let tape = Tape::<f32>::new();
        let x = tape.constant(&array![f32::NAN, 0.0].into_dyn());
        for target in [0.0f32, 1.0] {
            let t = tape.constant(&array![target, 0.5].into_dyn());
            assert!(x.bce_with_logits(t).sum().item().is_nan());
        }
    }

    #[test]
    fn saturated_logits_stay_finite() {
        let tape = Tape::<f32>::new();
        let x = tape.constant(&array![-100.0f32, 100.0].into_dyn());
        let t = tape.constant(&array![1.0f32, 0.0].into_dyn());
        assert_eq!(
            x.bce_with_logits(t).to_tensor(),
            array![100.0f32, 100.0].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_bce_with_logits(x in tensor(-5.0, 5.0), seed in any::<u64>()) {
            let t = seeded(x.shape(), seed).mapv(|v| (v + 1.0) / 2.0);
            assert_gradcheck(&[x, t], |_, v| v[0].bce_with_logits(v[1]))?;
        }
    }
}
