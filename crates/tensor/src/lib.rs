//! # tensor: tensors, reverse-mode autodiff on a tape, a parallel matmul kernel
//!
//! A [`Tensor`] is plain data (an ndarray array). A [`Var`] is a value recorded on a
//! [`Tape`]: every op on `Var`s computes its result *and* appends a node that knows the
//! op's derivative. [`Tape::backward`] then walks the nodes once, newest first, applying
//! the chain rule, and returns the [`Gradients`] of the parameters.
//!
//! ```
//! use tensor::{Tape, Tensor};
//! use ndarray::array;
//!
//! let tape = Tape::<f64>::new();
//! let x = tape.param(&array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
//! let w = tape.param(&array![[0.5], [-1.0]].into_dyn());
//! // L = Σ tanh(x·w)
//! let loss = x.matmul(w).tanh().sum();
//! let grads = tape.backward(loss);
//! assert_eq!(grads.get(w).unwrap().shape(), &[2, 1]);
//! println!("{tape}"); // the graph, one node per line
//! ```
//!
//! ## Reading order
//! 1. [`float`]: the element trait (`f32` for training, `f64` for gradient checks).
//! 2. [`tape`]: `Tape`, `Var`, the `Backward` trait and the 30-line backward sweep.
//! 3. [`ops`]: one file per op, each with its math, forward, backward and tests. Start
//!    with `ops/exp.rs`, then `ops/mul.rs` (two inputs), `ops/broadcast.rs`,
//!    `ops/matmul.rs`, `ops/bce_with_logits.rs`.
//! 4. [`gradcheck`]: the finite-difference oracle every op is tested against.
//! 5. [`speed`], optional: the speed path the ops call into: our own packed GEMM
//!    ([`speed::gemm`]), the vectorizable `exp` and `ln(1 + u)` ([`speed::fastmath`]),
//!    a loop compiled three times for the CPU at hand ([`speed::simd`]), and the rayon
//!    plumbing of the elementwise loops ([`speed::parallel`]).
//!
//! ## Non-goals
//! Higher-order derivatives (backward rules use plain ndarray arithmetic, so they never
//! record on the tape), GPUs, and lazy fusion. Shape mismatches are programming errors
//! and panic with the op's name and both shapes.

#![warn(missing_docs)]
#![deny(unsafe_code)] // two exceptions, in `speed`: explained in `speed::simd` and `speed::gemm`

pub mod float;
pub mod gradcheck;
pub mod ops;
pub mod speed;
pub mod tape;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use float::Float;
pub use tape::{Backward, Gradients, Tape, Tensor, Var};
