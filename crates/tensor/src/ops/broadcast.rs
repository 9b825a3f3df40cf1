//! `broadcast_to`: repeat a tensor along new or size-1 axes, numpy-style; and
//! [`sum_to_shape`], the rule every broadcasting op uses to bring a gradient back.
//!
//! ```text
//! Shapes are aligned at the right; a missing or size-1 dim of x is repeated:
//!   x: [   3, 1]  →  y: [2, 3, 4]      y[i,j,k] = x[j,0]
//!
//! Each x element feeds every y element it was copied to, so its gradient is the sum
//! of theirs:
//!   dx[j,0] = Σ_i Σ_k dy[i,j,k]          (sum over the leading and the size-1 axes)
//! ```
//! Reads nothing in backward: only the input's shape.

use ndarray::{Axis, IxDyn};

use crate::speed::parallel::standard_copy;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Repeats `self` to `shape` (numpy rules: align right, expand missing and size-1 dims).
    ///
    /// # Panics
    /// If `self`'s shape cannot be broadcast to `shape`.
    pub fn broadcast_to(self, shape: &[usize]) -> Var<'t, T> {
        let y = {
            let x = self.value();
            let view = x.broadcast(IxDyn(shape)).unwrap_or_else(|| {
                panic!(
                    "broadcast_to: cannot broadcast {:?} to {:?}",
                    x.shape(),
                    shape
                )
            });
            standard_copy(view)
        };
        self.tape
            .record("broadcast_to", y, &[self], BroadcastBackward)
    }
}

#[derive(Debug)]
struct BroadcastBackward;

impl<T: Float> Backward<T> for BroadcastBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        vec![Some(sum_to_shape(dy, inputs[0].shape()))]
    }
}

/// The shape two shapes broadcast to (numpy rules), or `None` if they are incompatible.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() >= rank {
            s[i + s.len() - rank]
        } else {
            1
        }
    };
    (0..rank)
        .map(|i| match (dim(a, i), dim(b, i)) {
            (x, y) if x == y || y == 1 => Some(x),
            (1, y) => Some(y),
            _ => None,
        })
        .collect()
}

/// Sums `dy` over the axes along which a tensor of `shape` was broadcast, returning a
/// tensor of `shape`. Moves `dy` through untouched when no broadcasting happened.
pub fn sum_to_shape<T: Float>(dy: Tensor<T>, shape: &[usize]) -> Tensor<T> {
    if dy.shape() == shape {
        return dy;
    }
    let mut dx = dy;
    while dx.ndim() > shape.len() {
        dx = dx.sum_axis(Axis(0)); // leading axes that x did not have
    }
    for (axis, &len) in shape.iter().enumerate() {
        if len == 1 && dx.shape()[axis] != 1 {
            dx = dx.sum_axis(Axis(axis)).insert_axis(Axis(axis)); // size-1 axes that were repeated
        }
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn forward_repeats_rows() {
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![1.0, 2.0].into_dyn());
        assert_eq!(
            x.broadcast_to(&[2, 2]).to_tensor(),
            array![[1.0, 2.0], [1.0, 2.0]].into_dyn()
        );
    }

    #[test]
    fn gradient_sums_the_copies() {
        // y = broadcast([a, b]) to 3×2, L = Σ y  ⇒  dL/da = dL/db = 3 (three copies each)
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![1.0, 2.0].into_dyn());
        let grads = tape.backward(x.broadcast_to(&[3, 2]).sum());
        assert_eq!(grads.get(x).unwrap(), &array![3.0, 3.0].into_dyn());
    }

    #[test]
    fn broadcast_shape_follows_numpy() {
        assert_eq!(broadcast_shape(&[2, 3, 4], &[3, 1]), Some(vec![2, 3, 4]));
        assert_eq!(broadcast_shape(&[1], &[5, 1]), Some(vec![5, 1]));
        assert_eq!(broadcast_shape(&[2, 3], &[3, 2]), None);
    }

    #[test]
    #[should_panic(expected = "broadcast_to: cannot broadcast [2] to [3]")]
    fn incompatible_shapes_panic_with_both_shapes() {
        let tape = Tape::<f64>::new();
        tape.param(&array![1.0, 2.0].into_dyn()).broadcast_to(&[3]);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_broadcast_to((big, small) in broadcast_shapes(), seed in any::<u64>()) {
            let (to, from) = if big.iter().product::<usize>() >= small.iter().product::<usize>() { (big, small) } else { (small, big) };
            prop_assume!(broadcast_shape(&from, &to).as_deref() == Some(&to[..]));
            let x = seeded(&from, seed);
            assert_gradcheck(&[x], |_, v| v[0].broadcast_to(&to))?;
        }
    }
}
