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
//! vectorizable `exp` and `ln(1 + u)` of [`crate::fastmath`] (exact libm ones in f64),
//! each pass a [`Kernel`] run in its AVX2+FMA version where the CPU has one
//! ([`crate::simd`]). A NaN logit still gives a NaN loss, through the `t·x` term.

use super::sigmoid::sigmoid_fast;
use super::softplus::softplus_fast;
use super::{contiguous, update2, zip_chunks};
use crate::simd::{dispatch, Kernel};
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
            let (xs, ts) = (contiguous(&x), contiguous(&t));
            let mut loss = vec![T::zero(); xs.len()];
            zip_chunks(&mut loss, &xs, &ts, |loss, x, t| {
                dispatch(LossKernel { x, t, loss })
            });
            Tensor::from_shape_vec(x.raw_dim(), loss).expect("the logits' shape")
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
            let mut dx = if dy.is_standard_layout() {
                dy
            } else {
                dy.as_standard_layout().into_owned()
            };
            let (xs, ts) = (contiguous(x), contiguous(t));
            let dxs = dx.as_slice_mut().expect("standard layout");
            zip_chunks(dxs, &xs, &ts, |d, x, t| dispatch(GradKernel { d, x, t }));
            dx
        });
        vec![dx, dt]
    }
}

/// The forward loop: `loss = softplus(x) − t·x` over equally long slices.
struct LossKernel<'a, T> {
    x: &'a [T],
    t: &'a [T],
    loss: &'a mut [T],
}

impl<T: Float> Kernel for LossKernel<'_, T> {
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        for ((loss, &x), &t) in self.loss.iter_mut().zip(self.x).zip(self.t) {
            *loss = softplus_fast::<T, FMA>(x) - t * x;
        }
    }
}

/// The backward loop for the logits: `d ← d·(σ(x) − t)`, in place.
struct GradKernel<'a, T> {
    d: &'a mut [T],
    x: &'a [T],
    t: &'a [T],
}

impl<T: Float> Kernel for GradKernel<'_, T> {
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        for ((d, &x), &t) in self.d.iter_mut().zip(self.x).zip(self.t) {
            *d *= sigmoid_fast::<T, FMA>(x) - t;
        }
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

    /// The f32 loops (chunked over threads, fast math, AVX2+FMA where the CPU has it)
    /// against the f64 formula, on an array big enough to run in parallel, with the
    /// logits once row-major and once transposed in memory (the copying path).
    #[test]
    fn f32_fast_path_matches_f64_on_large_arrays() {
        let shape = [96, 784];
        let x64 = seeded(&shape, 1).mapv(|v| 30.0 * v); // logits in [−30, 30)
        let t64 = seeded(&shape, 2).mapv(|v| (v + 1.0) / 2.0);
        let dy64 = seeded(&shape, 3);
        let loss64 = ndarray::Zip::from(&x64)
            .and(&t64)
            .map_collect(|&x, &t| x.max(0.0) + (-x.abs()).exp().ln_1p() - t * x);
        let dx64 = ndarray::Zip::from(&x64)
            .and(&t64)
            .and(&dy64)
            .map_collect(|&x, &t, &d| d * (1.0 / (1.0 + (-x).exp()) - t));
        let x32 = x64.mapv(|v| v as f32);
        let x32_transposed_in_memory = x32.t().as_standard_layout().t().to_owned();
        assert!(x32_transposed_in_memory.as_slice().is_none());
        for x32 in [x32.clone(), x32_transposed_in_memory] {
            let tape = Tape::<f32>::new();
            let x = tape.param(&x32);
            let t = tape.constant(&t64.mapv(|v| v as f32));
            let loss = x.bce_with_logits(t);
            let grads = tape.backward_with(loss, dy64.mapv(|v| v as f32));
            // relative to the value, plus f32 rounding of `softplus(x) − t·x` near 30
            let close = |a: f32, e: f64| (a as f64 - e).abs() <= 1e-6 * e.abs() + 4e-6;
            for (i, (&a, &e)) in loss.to_tensor().iter().zip(&loss64).enumerate() {
                assert!(close(a, e), "loss {i}: {a} vs {e}");
            }
            for (i, (&a, &e)) in grads.get(x).unwrap().iter().zip(&dx64).enumerate() {
                assert!(close(a, e), "dx {i}: {a} vs {e}");
            }
        }
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
