//! `concat`: join tensors along an existing axis.
//!
//! ```text
//! y = [x₀ ; x₁ ; …]  along `axis`     ⇒  dxᵢ = the piece of dy at xᵢ's position
//! ```
//! Reads nothing in backward but the inputs' lengths along the axis.

use ndarray::{Axis, Slice};

use super::checks::check_axis;
use crate::speed::parallel::standard_copy;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Concatenates `parts` (at least one, all on one tape) along `axis`.
    ///
    /// # Panics
    /// If `parts` is empty, or the shapes differ off `axis`.
    pub fn concat(parts: &[Var<'t, T>], axis: usize) -> Var<'t, T> {
        let first = *parts.first().expect("concat: needs at least one tensor");
        let y = {
            let values: Vec<_> = parts.iter().map(|p| p.value()).collect();
            check_axis("concat", axis, values[0].shape());
            let views: Vec<_> = values.iter().map(|v| v.view()).collect();
            ndarray::concatenate(Axis(axis), &views).unwrap_or_else(|_| {
                let shapes: Vec<_> = values.iter().map(|v| v.shape().to_vec()).collect();
                panic!("concat: shapes differ off axis {axis}: {shapes:?}")
            })
        };
        first
            .tape
            .record("concat", y, parts, ConcatBackward { axis })
    }
}

#[derive(Debug)]
struct ConcatBackward {
    axis: usize,
}

impl<T: Float> Backward<T> for ConcatBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let mut start = 0;
        inputs
            .iter()
            .zip(needs)
            .map(|(x, &need)| {
                let end = start + x.shape()[self.axis];
                let piece = need.then(|| {
                    standard_copy(dy.slice_axis(Axis(self.axis), Slice::from(start..end)))
                });
                start = end;
                piece
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::{Tape, Var};
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn pieces_get_their_part_of_the_gradient() {
        let tape = Tape::<f64>::new();
        let a = tape.param(&array![[1.0], [2.0]].into_dyn());
        let b = tape.param(&array![[3.0, 4.0], [5.0, 6.0]].into_dyn());
        let y = Var::concat(&[a, b], 1);
        assert_eq!(
            y.to_tensor(),
            array![[1.0, 3.0, 4.0], [2.0, 5.0, 6.0]].into_dyn()
        );
        let w = tape.constant(&array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn());
        let grads = tape.backward((y * w).sum());
        assert_eq!(grads.get(a).unwrap(), &array![[1.0], [4.0]].into_dyn());
        assert_eq!(
            grads.get(b).unwrap(),
            &array![[2.0, 3.0], [5.0, 6.0]].into_dyn()
        );
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_concat(shape in shape(), extra in 1usize..4, axis in 0usize..3, seed in any::<u64>()) {
            let axis = axis % shape.len();
            let mut other = shape.clone();
            other[axis] = extra;
            let (a, b) = (seeded(&shape, seed), seeded(&other, seed ^ 7));
            assert_gradcheck(&[a, b.clone(), b], |_, v| Var::concat(&[v[0], v[1], v[2]], axis))?;
        }
    }
}
