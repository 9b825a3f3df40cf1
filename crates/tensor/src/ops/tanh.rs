//! `tanh`: the hyperbolic tangent.
//!
//! ```text
//! y = tanh x     ∂y/∂x = 1 − tanh² x = 1 − y²   ⇒  dx = dy ⊙ (1 − y²)
//! ```
//! Reads the output in backward.
//!
//! The forward uses [`FastMath::tanh_fast`](crate::speed::fastmath::FastMath::tanh_fast): in `f32` a vectorized approximation within
//! 5e-7 relative (`fastmath.rs`; libm's `tanhf` is a function call per element and was
//! a sixth of a training step of the IWAE paper's tanh network), in `f64` libm's exact
//! `tanh`, so gradient checks see the exact function.

use super::chain;
use crate::speed::fastmath::tanh_in_place;
use crate::speed::parallel::for_each_chunk_mut;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise hyperbolic tangent.
    pub fn tanh(self) -> Var<'t, T> {
        let mut y = self.value().clone();
        match y.as_slice_mut() {
            Some(v) => for_each_chunk_mut(v, tanh_in_place),
            None => y.mapv_inplace(|v| v.tanh_fast::<false>()),
        }
        self.tape.record("tanh", y, &[self], TanhBackward)
    }
}

#[derive(Debug)]
struct TanhBackward;

impl<T: Float> Backward<T> for TanhBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(chain(dy, inputs[0], y, |_x, y| T::one() - y * y))]
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
        // y = tanh x at x = 0  ⇒  y = 0, dy/dx = 1 − 0² = 1
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![0.0].into_dyn());
        let y = x.tanh();
        assert_eq!(y.item(), 0.0);
        assert_eq!(tape.backward(y).get(x).unwrap()[0], 1.0);
    }

    #[test]
    fn f32_forward_is_within_5e_7_of_libm_on_one_thread_and_on_the_pool() {
        for len in [1000usize, 3 * crate::speed::parallel::PARALLEL_MIN_LEN + 5] {
            let x = ndarray::Array1::from_shape_fn(len, |i| (i as f32 * 0.37).sin() * 6.0);
            let tape = Tape::<f32>::new();
            let y = tape.constant(&x.clone().into_dyn()).tanh().to_tensor();
            for (&x, &y) in x.iter().zip(y.iter()) {
                let exact = (x as f64).tanh();
                assert!(
                    ((y as f64 - exact) / exact.abs().max(1e-30)).abs() < 5e-7,
                    "tanh({x}) = {y}"
                );
            }
        }
        let tape = Tape::<f32>::new();
        let nan = tape
            .constant(&array![f32::NAN, 1.0].into_dyn())
            .tanh()
            .to_tensor();
        assert!(nan[0].is_nan(), "a NaN must reach the loss");
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_tanh(x in tensor(-3.0, 3.0)) {
            assert_gradcheck(&[x], |_, v| v[0].tanh())?;
        }
    }
}
