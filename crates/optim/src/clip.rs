//! Gradient clipping, as PyTorch's `clip_grad_norm_` and `clip_grad_value_`.
//!
//! ```text
//! by global norm:  n = √(Σ_tensors Σ_elements g²);  if n > max:  g ← g · max/(n + 1e-6)
//! by value:        g ← clamp(g, −c, c)
//! ```
//! The global norm treats all gradients as one long vector, so clipping keeps the
//! update's direction and only shortens it.

use crate::{Float, Tensor};

/// Rescales `grads` so their global L2 norm is at most `max_norm`; returns the norm
/// before clipping.
pub fn clip_grad_norm<T: Float>(grads: &mut [&mut Tensor<T>], max_norm: f64) -> f64 {
    let total = grads
        .iter()
        .map(|g| g.iter().map(|&e| e.as_f64() * e.as_f64()).sum::<f64>())
        .sum::<f64>()
        .sqrt();
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        let coef = T::of(coef);
        grads.iter_mut().for_each(|g| g.mapv_inplace(|e| e * coef));
    }
    total
}

/// Clamps every gradient element into `[−clip, clip]`.
pub fn clip_grad_value<T: Float>(grads: &mut [&mut Tensor<T>], clip: f64) {
    let clip = T::of(clip);
    grads
        .iter_mut()
        .for_each(|g| g.mapv_inplace(|e| e.max(-clip).min(clip)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn norm_clipping_rescales_all_tensors_together() {
        // (3, 4) has norm 5; clipped to 1 ⇒ (0.6, 0.8) up to the 1e-6 guard
        let (mut a, mut b) = (array![3.0f64].into_dyn(), array![4.0f64].into_dyn());
        let norm = clip_grad_norm(&mut [&mut a, &mut b], 1.0);
        assert_eq!(norm, 5.0);
        assert!((a[0] - 0.6).abs() < 1e-6 && (b[0] - 0.8).abs() < 1e-6);
    }

    #[test]
    fn small_gradients_are_left_alone() {
        let mut a = array![0.3f64, 0.4].into_dyn();
        clip_grad_norm(&mut [&mut a], 1.0);
        assert_eq!(a, array![0.3, 0.4].into_dyn());
    }

    #[test]
    fn value_clipping_clamps() {
        let mut a = array![-5.0f64, 0.5, 7.0].into_dyn();
        clip_grad_value(&mut [&mut a], 1.0);
        assert_eq!(a, array![-1.0, 0.5, 1.0].into_dyn());
    }
}
