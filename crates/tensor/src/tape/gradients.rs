//! What [`Tape::backward`](super::Tape::backward) returns: the gradient of every leaf.

use super::{Float, Tensor, Var};

/// The result of [`Tape::backward`](super::Tape::backward): the gradient of every leaf that required one.
pub struct Gradients<T: Float = f32> {
    pub(super) grads: Vec<Option<Tensor<T>>>,
}

impl<T: Float> Gradients<T> {
    /// The gradient with respect to `var`, if it has one (it is a parameter on a path to
    /// the loss).
    pub fn get(&self, var: Var<'_, T>) -> Option<&Tensor<T>> {
        self.grads.get(var.id).and_then(Option::as_ref)
    }

    /// Moves the gradient with respect to `var` out.
    pub fn take(&mut self, var: Var<'_, T>) -> Option<Tensor<T>> {
        self.grads.get_mut(var.id).and_then(Option::take)
    }

    /// The gradient with respect to `var`, or zeros of its shape when the loss does not
    /// depend on it (a parameter that is bound but unused still gets a gradient).
    pub fn wrt(&mut self, var: Var<'_, T>) -> Tensor<T> {
        self.take(var)
            .unwrap_or_else(|| Tensor::zeros(var.value().raw_dim()))
    }
}
