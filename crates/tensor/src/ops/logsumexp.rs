//! `logsumexp`: `ln Σ eˣ` along an axis, computed without overflow.
//!
//! ```text
//! y = ln Σᵢ e^(xᵢ) = m + ln Σᵢ e^(xᵢ − m),   m = maxᵢ xᵢ      (every exponent ≤ 0: no overflow,
//!                                                            and the largest term is 1: no underflow to ln 0)
//! ∂y/∂xᵢ = e^(xᵢ) / Σⱼ e^(xⱼ) = e^(xᵢ − y) = softmax(x)ᵢ   ⇒  dx = dy ⊙ e^(x − y)
//! ```
//! Reads the input and the output in backward (softmax from both, no second reduction).
//! The importance-weighted bound is a logsumexp over samples.

use ndarray::{Axis, Zip};

use super::checks::check_axis;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// `ln Σ eˣ` along `axis` (see [`sum_axis`](Var::sum_axis) for `keep_dim`).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn logsumexp(self, axis: usize, keep_dim: bool) -> Var<'t, T> {
        let y = {
            let x = self.value();
            check_axis("logsumexp", axis, x.shape());
            let y = x.map_axis(Axis(axis), |lane| {
                let m = lane.fold(T::neg_infinity(), |m, &v| m.max(v));
                if m == T::neg_infinity() {
                    return m; // all terms are 0: ln 0
                }
                m + lane.iter().map(|&v| (v - m).exp()).sum::<T>().ln()
            });
            if keep_dim {
                y.insert_axis(Axis(axis))
            } else {
                y
            }
        };
        self.tape.record(
            "logsumexp",
            y,
            &[self],
            LogSumExpBackward { axis, keep_dim },
        )
    }
}

#[derive(Debug)]
struct LogSumExpBackward {
    axis: usize,
    keep_dim: bool,
}

impl<T: Float> Backward<T> for LogSumExpBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let x = inputs[0];
        let (y, dy) = if self.keep_dim {
            (y.view(), dy.view())
        } else {
            (
                y.view().insert_axis(Axis(self.axis)),
                dy.view().insert_axis(Axis(self.axis)),
            )
        };
        let (y, dy) = (
            y.broadcast(x.raw_dim()).expect("y broadcasts"),
            dy.broadcast(x.raw_dim()).expect("dy broadcasts"),
        );
        let mut dx = Tensor::zeros(x.raw_dim());
        Zip::from(&mut dx)
            .and(x)
            .and(&y)
            .and(&dy)
            .for_each(|dx, &x, &y, &dy| *dx = dy * (x - y).exp());
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
        // y = ln(e⁰ + e⁰) = ln 2  ⇒  dy/dx = softmax = [½, ½]
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[0.0, 0.0]].into_dyn());
        let y = x.logsumexp(1, false);
        assert!((y.item() - 2f64.ln()).abs() < 1e-15);
        assert_eq!(
            tape.backward(y.sum()).get(x).unwrap(),
            &array![[0.5, 0.5]].into_dyn()
        );
    }

    #[test]
    fn huge_inputs_do_not_overflow() {
        let tape = Tape::<f32>::new();
        let y = tape
            .constant(&array![[1000.0f32, 1000.0]].into_dyn())
            .logsumexp(1, false);
        assert!((y.item() - (1000.0 + 2f32.ln())).abs() < 1e-3);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_logsumexp(x in tensor(-4.0, 4.0), axis in 0usize..3, keep_dim in any::<bool>()) {
            let axis = axis % x.ndim();
            assert_gradcheck(&[x], |_, v| v[0].logsumexp(axis, keep_dim))?;
        }
    }
}
