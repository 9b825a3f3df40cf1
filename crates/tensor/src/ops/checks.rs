//! The shape checks the ops share. A shape that does not fit is a programming error:
//! each panics with the op's name and the shapes involved.

use ndarray::{ArrayView2, Ix2};

use super::broadcast::broadcast_shape;
use crate::{Float, Tensor};

/// Panics with the op name and both shapes if they do not broadcast together.
pub(crate) fn check_broadcast(op: &str, a: &[usize], b: &[usize]) {
    if broadcast_shape(a, b).is_none() {
        panic!("{op}: shapes do not broadcast: {a:?} and {b:?}");
    }
}

/// Panics with the op name if `axis` does not exist in `shape`.
pub(crate) fn check_axis(op: &str, axis: usize, shape: &[usize]) {
    assert!(
        axis < shape.len(),
        "{op}: axis {axis} out of range for shape {shape:?}"
    );
}

/// A 2-D view of a tensor, or a panic naming the op and the shape.
pub(crate) fn as_matrix<'a, T: Float>(op: &str, x: &'a Tensor<T>) -> ArrayView2<'a, T> {
    x.view()
        .into_dimensionality::<Ix2>()
        .unwrap_or_else(|_| panic!("{op}: expected a 2-D tensor, got shape {:?}", x.shape()))
}

/// Panics with the op name and both shapes if the logits and targets differ in shape.
pub(crate) fn check_same_shape<T: Float>(op: &str, x: &Tensor<T>, t: &Tensor<T>) {
    assert_eq!(
        x.shape(),
        t.shape(),
        "{op}: logits {:?} and targets {:?} differ",
        x.shape(),
        t.shape()
    );
}
