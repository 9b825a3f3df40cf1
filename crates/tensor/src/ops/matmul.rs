//! `matmul`: the matrix product of two 2-D tensors, on our parallel kernel ([`crate::speed::gemm`]).
//!
//! ```text
//! C[i,j] = Σ_p A[i,p] · B[p,j]                A: [m,k]  B: [k,n]  C: [m,n]
//! ∂L/∂A[i,p] = Σ_j dC[i,j] · B[p,j]   ⇒  dA = dC · Bᵀ     [m,n]·[n,k] = [m,k] ✓
//! ∂L/∂B[p,j] = Σ_i A[i,p] · dC[i,j]   ⇒  dB = Aᵀ · dC     [k,m]·[m,n] = [k,n] ✓
//! ```
//! Reads both inputs in backward. `Bᵀ` and `Aᵀ` are views with swapped strides: the
//! kernel reads them in place, nothing is copied. An input that needs no gradient (the
//! images fed to the first layer) skips its whole product.

use super::checks::as_matrix;

use crate::speed::gemm::matmul as product;
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// Matrix product `self · b` of `[m, k]` and `[k, n]` tensors.
    ///
    /// # Panics
    /// If either input is not 2-D or the inner dimensions differ.
    pub fn matmul(self, b: Var<'t, T>) -> Var<'t, T> {
        let c = {
            let (a, bv) = (self.value(), b.value());
            let (a2, b2) = (as_matrix("matmul", &a), as_matrix("matmul", &bv));
            assert_eq!(
                a2.ncols(),
                b2.nrows(),
                "matmul: inner dims differ: {:?} · {:?}",
                a.shape(),
                bv.shape()
            );
            product(a2, b2).into_dyn()
        };
        self.tape.record("matmul", c, &[self, b], MatMulBackward)
    }
}

#[derive(Debug)]
struct MatMulBackward;

impl<T: Float> Backward<T> for MatMulBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dc: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (a, b) = (
            as_matrix("matmul", inputs[0]),
            as_matrix("matmul", inputs[1]),
        );
        let dc = as_matrix("matmul", &dc);
        let da = needs[0].then(|| product(dc, b.t()).into_dyn());
        let db = needs[1].then(|| product(a.t(), dc).into_dyn());
        vec![da, db]
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
        // C = A·B, L = Σ C  ⇒  dA = 1·Bᵀ (row sums of B), dB = Aᵀ·1 (column sums of A)
        let tape = Tape::<f64>::new();
        let a = tape.param(&array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
        let b = tape.param(&array![[5.0, 6.0], [7.0, 8.0]].into_dyn());
        let c = a.matmul(b);
        assert_eq!(c.to_tensor(), array![[19.0, 22.0], [43.0, 50.0]].into_dyn());
        let grads = tape.backward(c.sum());
        assert_eq!(
            grads.get(a).unwrap(),
            &array![[11.0, 15.0], [11.0, 15.0]].into_dyn()
        );
        assert_eq!(
            grads.get(b).unwrap(),
            &array![[4.0, 4.0], [6.0, 6.0]].into_dyn()
        );
    }

    #[test]
    #[should_panic(expected = "matmul: inner dims differ: [2, 3] · [2, 3]")]
    fn inner_dims_must_agree() {
        let tape = Tape::<f64>::new();
        let a = tape.constant(&ndarray::Array2::zeros((2, 3)).into_dyn());
        a.matmul(a);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_matmul(m in 1usize..6, k in 1usize..6, n in 1usize..6, seed in any::<u64>()) {
            let a = crate::testing::seeded(&[m, k], seed);
            let b = crate::testing::seeded(&[k, n], seed.wrapping_add(1));
            assert_gradcheck(&[a, b], |_, v| v[0].matmul(v[1]))?;
        }
    }
}
