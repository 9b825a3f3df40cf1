//! `bce_with_logits`: binary cross-entropy of targets `t ∈ [0, 1]` under Bernoulli
//! logits `x`, fused into one stable op. It is the VAE's reconstruction term.
//!
//! ```text
//! ℓ(x, t) = −[t·ln σ(x) + (1−t)·ln(1−σ(x))]                σ(x) = 1/(1 + e^(−x))
//!
//! ln σ(x)     = −ln(1 + e^(−x))                                   = −softplus(−x)
//! ln(1 − σ(x)) = ln(e^(−x)/(1 + e^(−x))) = −x − ln(1 + e^(−x)) = −ln(1 + e^x) = −softplus(x)
//!
//! ℓ(x, t) = t·softplus(−x) + (1−t)·softplus(x)
//!         = softplus(x) − t·x                  (softplus(−x) = softplus(x) − x)
//!         = max(x, 0) − t·x + ln(1 + e^(−|x|)) (stable: the exponent is never positive)
//! ∂ℓ/∂x = σ(x) − t     ⇒  dx = dy ⊙ (σ(x) − t)
//! ∂ℓ/∂t = −x           ⇒  dt = −dy ⊙ x         (targets are usually data and skip this)
//! ```
//! `bce_with_logits_sum` is the same summed over all elements (PyTorch's
//! `reduction='sum'`): `L = Σ ℓ`, `dx = dy·(σ(x) − t)` with a scalar `dy`.
//!
//! [`reference()`] and [`reference_grad()`] are these two lines for one element, in plain
//! f64: the fast loops are tested against them.
//!
//! Reads both inputs in backward. Why fused: the composite `−(t·ln σ(x) + (1−t)·ln(1−σ(x)))`
//! takes ln 0 = −∞ once σ saturates (|x| ≳ 17 in f32) and would allocate six
//! `[batch, pixels]` arrays; this is one pass forward and one backward, with the
//! vectorizable `exp` and `ln(1 + u)` of [`crate::speed::fastmath`] (exact libm ones in f64),
//! each pass a loop of `loops.rs` run in its AVX2+FMA version where the CPU has one
//! ([`crate::speed::simd`]). A NaN logit still gives a NaN loss, through the `t·x` term.

use super::checks::check_same_shape;
use crate::speed::parallel::{chunked_sum, contiguous, update2, zeros_vec, zip_chunks};
use crate::{Backward, Float, Tensor, Var};

mod loops;

impl<'t, T: Float> Var<'t, T> {
    /// Elementwise binary cross-entropy of `targets` under the logits `self`
    /// (PyTorch's `binary_cross_entropy_with_logits(.., reduction='none')`).
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn bce_with_logits(self, targets: Var<'t, T>) -> Var<'t, T> {
        let loss = {
            let (x, t) = (self.value(), targets.value());
            check_same_shape("bce_with_logits", &x, &t);
            let (xs, ts) = (contiguous(&x), contiguous(&t));
            let mut loss = zeros_vec(xs.len());
            zip_chunks(&mut loss, &xs, &ts, loops::loss);
            Tensor::from_shape_vec(x.raw_dim(), loss).expect("the logits' shape")
        };
        self.tape.record(
            "bce_with_logits",
            loss,
            &[self, targets],
            BceWithLogitsBackward { summed: false },
        )
    }

    /// The binary cross-entropy summed over all elements, a scalar: the same as
    /// `self.bce_with_logits(targets).sum()` (PyTorch's `reduction='sum'`), without the
    /// elementwise loss array forward or the array of ones `sum` sends back. This is the
    /// VAE's reconstruction term; at batch 1024 those two arrays are 3.2 MB each per step.
    ///
    /// The sum is taken in chunks of 16,384 elements whose partial sums
    /// are added in order, so the result does not depend on the number of threads.
    ///
    /// # Panics
    /// If the shapes differ.
    pub fn bce_with_logits_sum(self, targets: Var<'t, T>) -> Var<'t, T> {
        let total = {
            let (x, t) = (self.value(), targets.value());
            check_same_shape("bce_with_logits_sum", &x, &t);
            let (xs, ts) = (contiguous(&x), contiguous(&t));
            T::of(chunked_sum(&xs, &ts, loops::sum))
        };
        self.tape.record(
            "bce_with_logits_sum",
            Tensor::from_elem(vec![], total),
            &[self, targets],
            BceWithLogitsBackward { summed: true },
        )
    }
}

/// Backward of both forms. `summed`: `dy` is a scalar, the same for every element.
#[derive(Debug)]
struct BceWithLogitsBackward {
    summed: bool,
}

impl<T: Float> Backward<T> for BceWithLogitsBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (x, t) = (inputs[0], inputs[1]);
        // The summed form's dy is one number, the same for every element.
        let scale = self.summed.then(|| *dy.iter().next().expect("a scalar"));
        let dt = needs[1].then(|| match scale {
            Some(scale) => x.mapv(|x| -scale * x),
            None => {
                let mut dt = dy.clone();
                update2(&mut dt, x, t, |d, x, _t| -d * x);
                dt
            }
        });
        let dx = needs[0].then(|| {
            // Elementwise: d ← d·(σ(x) − t) in dy's own buffer. Summed: d = dy·(σ(x) − t)
            // into a fresh one (not an array of dy's that is read back).
            let mut dx = match scale {
                Some(_) => Tensor::from_shape_vec(x.raw_dim(), zeros_vec(x.len()))
                    .expect("the logits' shape"),
                None if dy.is_standard_layout() => dy,
                None => dy.as_standard_layout().into_owned(),
            };
            let (xs, ts) = (contiguous(x), contiguous(t));
            let dxs = dx.as_slice_mut().expect("standard layout");
            zip_chunks(dxs, &xs, &ts, |d, x, t| loops::grad(d, x, t, scale));
            dx
        });
        vec![dx, dt]
    }
}

/// ℓ(x, t) for one element, written plainly (the stable form above): the reference the
/// fast loops are tested against.
pub fn reference(x: f64, t: f64) -> f64 {
    x.max(0.0) - t * x + (-x.abs()).exp().ln_1p()
}

/// ∂ℓ/∂x = σ(x) − t for one element.
pub fn reference_grad(x: f64, t: f64) -> f64 {
    1.0 / (1.0 + (-x).exp()) - t
}

#[cfg(test)]
mod tests {
    use super::{reference, reference_grad};
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
        // The reference is the same function, and its derivative the finite difference's.
        let reference_values = ndarray::Zip::from(&x.to_tensor())
            .and(&t.to_tensor())
            .map_collect(|&x, &t| reference(x, t));
        assert_close(&reference_values, &expected, 1e-14);
        for (x, t) in [(-3.0, 0.2), (0.5, 0.9), (2.0, 0.0)] {
            let numeric = (reference(x + 1e-6, t) - reference(x - 1e-6, t)) / 2e-6;
            assert!((reference_grad(x, t) - numeric).abs() < 1e-8);
        }
    }

    #[test]
    #[should_panic(expected = "bce_with_logits: logits [2, 3] and targets [3, 2] differ")]
    fn logits_and_targets_of_different_shapes_panic() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&seeded(&[2, 3], 1));
        let _ = x.bce_with_logits(tape.constant(&seeded(&[3, 2], 2)));
    }

    /// An upstream gradient that is not laid out row-major (a transposed view made
    /// owned) gives the same gradient as its row-major copy.
    #[test]
    fn an_upstream_gradient_in_any_layout_gives_the_same_gradient() {
        let (x64, t64) = (
            seeded(&[3, 4], 8),
            seeded(&[3, 4], 9).mapv(|v| (v + 1.0) / 2.0),
        );
        let dy = seeded(&[4, 3], 10).t().to_owned();
        assert!(!dy.is_standard_layout());
        let grad = |dy: crate::Tensor<f64>| {
            let tape = Tape::<f64>::new();
            let x = tape.param(&x64);
            let loss = x.bce_with_logits(tape.constant(&t64));
            tape.backward_with(loss, dy).get(x).unwrap().clone()
        };
        assert_eq!(grad(dy.clone()), grad(dy.as_standard_layout().into_owned()));
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
            .map_collect(|&x, &t| reference(x, t));
        let dx64 = ndarray::Zip::from(&x64)
            .and(&t64)
            .and(&dy64)
            .map_collect(|&x, &t, &d| d * reference_grad(x, t));
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

    #[test]
    fn the_summed_form_equals_the_sum_of_the_elementwise_form() {
        let x64 = seeded(&[7, 13], 4).mapv(|v| 8.0 * v);
        let t64 = seeded(&[7, 13], 5).mapv(|v| (v + 1.0) / 2.0);
        let tape = Tape::<f64>::new();
        let (x, t) = (tape.param(&x64), tape.param(&t64));
        let (fused, plain) = (x.bce_with_logits_sum(t), x.bce_with_logits(t).sum());
        assert!((fused.item() - plain.item()).abs() < 1e-12 * plain.item());
        let (gf, gp) = (tape.backward(fused * 0.7), tape.backward(plain * 0.7));
        for v in [x, t] {
            assert_close(gf.get(v).unwrap(), gp.get(v).unwrap(), 1e-15);
        }
    }

    /// f32 on an array long enough for the parallel, chunked path: the sum against f64,
    /// its bits independent of the number of threads, and a NaN logit reaching the sum.
    #[test]
    fn the_summed_form_in_f32_is_accurate_and_the_same_on_any_thread_count() {
        let shape = [100, 784]; // 78,400 elements: 5 chunks, the last one partial
        let x64 = seeded(&shape, 6).mapv(|v| 20.0 * v);
        let t64 = seeded(&shape, 7).mapv(|v| (v + 1.0) / 2.0);
        let exact: f64 = ndarray::Zip::from(&x64)
            .and(&t64)
            .fold(0.0, |s, &x, &t| s + reference(x, t));
        let sum_on = |threads: usize, x32: &ndarray::ArrayD<f32>| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
            pool.unwrap().install(|| {
                let tape = Tape::<f32>::new();
                let t = tape.constant(&t64.mapv(|v| v as f32));
                tape.constant(x32).bce_with_logits_sum(t).item()
            })
        };
        let x32 = x64.mapv(|v| v as f32);
        let one = sum_on(1, &x32);
        assert!(
            ((one as f64 - exact) / exact).abs() < 1e-6,
            "{one} vs {exact}"
        );
        assert_eq!(one.to_bits(), sum_on(2, &x32).to_bits());
        assert_eq!(one.to_bits(), sum_on(3, &x32).to_bits());
        let mut with_nan = x32;
        with_nan[[99, 783]] = f32::NAN;
        assert!(sum_on(2, &with_nan).is_nan());
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_bce_with_logits_sum(x in tensor(-5.0, 5.0), seed in any::<u64>()) {
            let t = seeded(x.shape(), seed).mapv(|v| (v + 1.0) / 2.0);
            assert_gradcheck(&[x, t], |_, v| v[0].bce_with_logits_sum(v[1]))?;
        }

        #[test]
        fn gradcheck_bce_with_logits(x in tensor(-5.0, 5.0), seed in any::<u64>()) {
            let t = seeded(x.shape(), seed).mapv(|v| (v + 1.0) / 2.0);
            assert_gradcheck(&[x, t], |_, v| v[0].bce_with_logits(v[1]))?;
        }
    }
}
