//! `linear`: a fully connected layer, `y = x·Wᵀ + b`, fused into one op.
//!
//! ```text
//! y[i,o] = Σ_p x[i,p] · W[o,p] + b[o]        x: [batch,in]  W: [out,in]  b: [out]
//! dx = dy · W          [batch,out]·[out,in] = [batch,in] ✓
//! dW = dyᵀ · x         [out,batch]·[batch,in] = [out,in] ✓
//! db = Σ_i dy[i,·]     [out] ✓
//! ```
//! W is stored `[out, in]` like PyTorch's `nn.Linear`, and read as `Wᵀ` through strides.
//! Why fused: as `x.matmul(w.transpose()) + b` the composite would copy W into a
//! transposed array and allocate a second `[batch, out]` array for the sum. Here the
//! bias is written into the output first and the product is accumulated onto it by the
//! kernel (`C ← x·Wᵀ + 1·C`): one output, no copies. Reads x and W in backward. The
//! bias rows and the bias gradient's column sums run on the pool for large batches
//! ([`crate::speed::parallel`]).

use super::checks::as_matrix;
use crate::speed::gemm::{gemm, matmul};
use crate::speed::parallel::{column_sums, contiguous, repeat_rows};
use crate::{Backward, Float, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// `self · wᵀ + b` for `self: [batch, in]`, `w: [out, in]`, `b: [out]`.
    ///
    /// # Panics
    /// If the shapes do not fit together (message names all three).
    pub fn linear(self, w: Var<'t, T>, b: Var<'t, T>) -> Var<'t, T> {
        let y = {
            let (x, wv, bv) = (self.value(), w.value(), b.value());
            let (x2, w2) = (as_matrix("linear", &x), as_matrix("linear", &wv));
            assert!(
                x2.ncols() == w2.ncols() && bv.shape() == [w2.nrows()],
                "linear: shapes do not fit: x {:?}, w {:?}, b {:?} (want x [batch, in], w [out, \
                    in], b [out])",
                x.shape(),
                wv.shape(),
                bv.shape()
            );
            // The output starts as copies of the bias row, and the product is added on.
            let mut y = repeat_rows(&contiguous(&bv), x2.nrows());
            gemm(T::one(), x2, w2.t(), T::one(), y.view_mut());
            y.into_dyn()
        };
        self.tape.record("linear", y, &[self, w, b], LinearBackward)
    }
}

#[derive(Debug)]
struct LinearBackward;

impl<T: Float> Backward<T> for LinearBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        _y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>> {
        let (x, w) = (
            as_matrix("linear", inputs[0]),
            as_matrix("linear", inputs[1]),
        );
        let dy2 = as_matrix("linear", &dy);
        let dx = needs[0].then(|| matmul(dy2, w).into_dyn());
        let dw = needs[1].then(|| matmul(dy2.t(), x).into_dyn());
        let db = needs[2].then(|| column_sums(dy2).into_dyn());
        vec![dx, dw, db]
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Tape;
    use ndarray::array;
    use proptest::prelude::*;

    #[test]
    fn equals_the_unfused_composite() {
        let tape = Tape::<f64>::new();
        let x = tape.param(&array![[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]].into_dyn());
        let w = tape.param(&array![[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]].into_dyn());
        let b = tape.param(&array![0.01, -0.02].into_dyn());
        let fused = x.linear(w, b);
        let composite = x.matmul(w.transpose()) + b;
        assert_close(&fused.to_tensor(), &composite.to_tensor(), 1e-15);
    }

    /// Big enough for the parallel bias rows and column sums (300×150 outputs, three
    /// blocks of rows, the last one partial): the same values and gradients as the
    /// composite, and the bias gradient's bits the same on 1 and 3 threads.
    #[test]
    fn large_batches_equal_the_composite_on_any_thread_count() {
        let (xv, wv, bv) = (
            seeded(&[300, 120], 1),
            seeded(&[150, 120], 2),
            seeded(&[150], 3),
        );
        let dy = seeded(&[300, 150], 4);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
            pool.unwrap().install(|| {
                let tape = Tape::<f64>::new();
                let (x, w, b) = (tape.param(&xv), tape.param(&wv), tape.param(&bv));
                let (fused, composite) = (x.linear(w, b), x.matmul(w.transpose()) + b);
                assert_close(&fused.to_tensor(), &composite.to_tensor(), 1e-13);
                let (gf, gc) = (
                    tape.backward_with(fused, dy.clone()),
                    tape.backward_with(composite, dy.clone()),
                );
                for v in [x, w, b] {
                    assert_close(gf.get(v).unwrap(), gc.get(v).unwrap(), 1e-12);
                }
                gf.get(b).unwrap().clone()
            })
        };
        assert_eq!(run(1), run(3));
    }

    #[test]
    fn hand_derived_bias_gradient() {
        // y = x·Wᵀ + b, L = Σ y  ⇒  db[o] = batch size (each bias is added once per row)
        let tape = Tape::<f64>::new();
        let x = tape.constant(&ndarray::Array2::ones((5, 3)).into_dyn());
        let w = tape.param(&ndarray::Array2::zeros((2, 3)).into_dyn());
        let b = tape.param(&array![0.0, 0.0].into_dyn());
        let grads = tape.backward(x.linear(w, b).sum());
        assert_eq!(grads.get(b).unwrap(), &array![5.0, 5.0].into_dyn());
        assert_eq!(
            grads.get(w).unwrap(),
            &(ndarray::Array2::<f64>::ones((2, 3)) * 5.0).into_dyn()
        );
    }

    #[test]
    #[should_panic(expected = "linear: shapes do not fit")]
    fn mismatched_shapes_panic() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&ndarray::Array2::zeros((2, 3)).into_dyn());
        let w = tape.constant(&ndarray::Array2::zeros((4, 2)).into_dyn());
        let b = tape.constant(&ndarray::Array1::zeros(4).into_dyn());
        x.linear(w, b);
    }

    proptest! {
        #![proptest_config(config())]
        #[test]
        fn gradcheck_linear(batch in 1usize..5, inp in 1usize..5, out in 1usize..5, seed in any::<u64>()) {
            let x = seeded(&[batch, inp], seed);
            let w = seeded(&[out, inp], seed ^ 1);
            let b = seeded(&[out], seed ^ 2);
            assert_gradcheck(&[x, w, b], |_, v| v[0].linear(v[1], v[2]))?;
        }
    }
}
