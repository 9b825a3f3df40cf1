//! The three loops of [`bce_with_logits`](super): forward, summed forward and backward,
//! each a [`Kernel`] that [`dispatch`] runs in its AVX2+FMA version where the CPU has
//! one. The tests check both versions against f64 on any CPU.
//!
//! The one file under `ops/` that calls the speed path's [`dispatch`] itself: these loops
//! are the op's own math (softplus and σ over a slice), written for vectorization, and
//! belong beside its derivation; `bce_with_logits.rs` calls [`loss`], [`sum`] and
//! [`grad`] on slices and never sees the dispatch.

use crate::speed::fastmath::{sigmoid_fast, softplus_fast};
use crate::speed::simd::{dispatch, Kernel};
use crate::Float;

/// `loss = softplus(x) − t·x` over equally long slices.
pub(super) fn loss<T: Float>(loss: &mut [T], x: &[T], t: &[T]) {
    dispatch(LossKernel { x, t, loss });
}

/// `Σ softplus(x) − t·x` over equally long slices, in f64.
pub(super) fn sum<T: Float>(x: &[T], t: &[T]) -> f64 {
    let mut sum = 0.0;
    dispatch(SumKernel {
        x,
        t,
        sum: &mut sum,
    });
    sum
}

/// `d ← d·(σ(x) − t)`, or `d = scale·(σ(x) − t)` with a `scale`, over equally long slices.
pub(super) fn grad<T: Float>(d: &mut [T], x: &[T], t: &[T], scale: Option<T>) {
    dispatch(GradKernel { d, x, t, scale });
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

/// The forward loop of the summed form: `sum = Σ softplus(x) − t·x`, accumulated in 8
/// lanes (which LLVM keeps in one SIMD register: a single running sum could not be
/// vectorized, since that would reorder the additions) and added up in f64 at the end.
struct SumKernel<'a, T> {
    x: &'a [T],
    t: &'a [T],
    sum: &'a mut f64,
}

impl<T: Float> Kernel for SumKernel<'_, T> {
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let loss = |x: T, t: T| softplus_fast::<T, FMA>(x) - t * x;
        let mut lanes = [T::zero(); 8];
        let (x8, t8) = (self.x.chunks_exact(8), self.t.chunks_exact(8));
        let tail: f64 = (x8.remainder().iter().zip(t8.remainder()))
            .map(|(&x, &t)| loss(x, t).as_f64())
            .sum();
        for (x, t) in x8.zip(t8) {
            for i in 0..8 {
                lanes[i] += loss(x[i], t[i]);
            }
        }
        *self.sum = lanes.iter().map(|l| l.as_f64()).sum::<f64>() + tail;
    }
}

/// The backward loop for the logits: `d ← d·(σ(x) − t)` in place, or with a `scale`
/// (the summed form's scalar dy), `d = scale·(σ(x) − t)`.
struct GradKernel<'a, T> {
    d: &'a mut [T],
    x: &'a [T],
    t: &'a [T],
    scale: Option<T>,
}

impl<T: Float> Kernel for GradKernel<'_, T> {
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        let pairs = self.x.iter().zip(self.t);
        match self.scale {
            None => {
                for (d, (&x, &t)) in self.d.iter_mut().zip(pairs) {
                    *d *= sigmoid_fast::<T, FMA>(x) - t;
                }
            }
            Some(scale) => {
                for (d, (&x, &t)) in self.d.iter_mut().zip(pairs) {
                    *d = scale * (sigmoid_fast::<T, FMA>(x) - t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both versions of the three loops against f64, whichever one this CPU dispatches to.
    #[test]
    fn portable_and_fma_versions_agree_with_f64() {
        let n = 1003; // not a multiple of 8: the sum's tail is exercised too
        let x: Vec<f32> = (0..n).map(|i| (i as f32 - 500.0) / 16.0).collect();
        let t: Vec<f32> = (0..n).map(|i| (i % 7) as f32 / 6.0).collect();
        let loss64 = |x: f32, t: f32| {
            let (x, t) = (x as f64, t as f64);
            x.max(0.0) + (-x.abs()).exp().ln_1p() - t * x
        };
        let grad64 = |x: f32, t: f32| 1.0 / (1.0 + (-(x as f64)).exp()) - t as f64;
        let close = |a: f32, e: f64| (a as f64 - e).abs() <= 1e-6 * e.abs() + 1e-6;
        let exact_sum: f64 = x.iter().zip(&t).map(|(&x, &t)| loss64(x, t)).sum();
        for fma in [false, true] {
            let (x, t) = (&x[..], &t[..]);
            let (mut loss, mut d, mut scaled, mut sum) =
                (vec![0.0; n], vec![2.0; n], vec![0.0; n], 0.0);
            let (l, s) = (
                LossKernel {
                    x,
                    t,
                    loss: &mut loss,
                },
                SumKernel {
                    x,
                    t,
                    sum: &mut sum,
                },
            );
            let g = GradKernel {
                d: &mut d,
                x,
                t,
                scale: None,
            };
            let h = GradKernel {
                d: &mut scaled,
                x,
                t,
                scale: Some(0.5),
            };
            if fma {
                l.run::<true>();
                s.run::<true>();
                g.run::<true>();
                h.run::<true>();
            } else {
                l.run::<false>();
                s.run::<false>();
                g.run::<false>();
                h.run::<false>();
            }
            for i in 0..n {
                assert!(close(loss[i], loss64(x[i], t[i])), "fma {fma}: loss {i}");
                assert!(close(d[i], 2.0 * grad64(x[i], t[i])), "fma {fma}: d {i}");
                assert!(close(scaled[i], 0.5 * grad64(x[i], t[i])), "fma {fma}: {i}");
            }
            assert!(
                (sum - exact_sum).abs() < 1e-6 * exact_sum,
                "fma {fma}: {sum}"
            );
        }
    }
}
