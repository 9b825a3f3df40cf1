//! The speed path: how the engine's hot loops run fast on a CPU. A student reading from
//! `Tensor` to the ELBO may skip this folder: the ops call into it, and every result it
//! gives is tested against the plain version of the same math.
//!
//! - [`gemm`]: our own packed matrix multiply (BLIS-style loops, register-tiled
//!   micro-kernels for AVX-512, AVX2+FMA and portable Rust, chosen at run time), and the
//!   `matrixmultiply` path beside it, its fallback and oracle;
//! - [`simd`]: one hot loop compiled three times and run with AVX-512 or AVX2 and FMA
//!   where the CPU has them;
//! - [`fastmath`]: `exp`, `ln(1 + u)` and `tanh` in arithmetic the compiler vectorizes;
//! - [`parallel`]: when an elementwise loop is long enough to split over the rayon pool,
//!   and how (the ops' loops, and the optimizers' one fused update);
//! - [`workspace`]: scratch buffers kept between calls (the convolutions' im2col).
//!
//! The speed path imports nothing of the engine (it names its element type [`Scalar`],
//! not `Float`): it is the ground floor the teaching path stands on.
//!
//! This folder holds the crate's `unsafe` code: the micro-kernels and packing in `gemm/`
//! and the calls of functions compiled for wider instructions in `simd`, each made only
//! on a CPU that has them.

pub mod fastmath;
#[allow(unsafe_code)]
pub mod gemm;
pub mod parallel;
pub mod side_by_side;
pub mod simd;
pub mod workspace;

use std::ops::{AddAssign, MulAssign};

use ndarray::{LinalgScalar, ScalarOperand};

use self::fastmath::FastMath;
use self::gemm::Element;

/// What the speed path asks of an element type: a float with ndarray's arithmetic, safe
/// to share between threads, with the fast math and the GEMM's micro-kernels. The
/// engine's [`Float`](crate::float::Float) has all of it (`f32` and `f64`), so every op
/// calls in here with its own `T`; the speed path names this instead, so that it sits
/// below the teaching path and never imports it.
pub trait Scalar:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + MulAssign
    + Send
    + Sync
    + FastMath
    + Element
    + 'static
{
}

impl<T> Scalar for T where
    T: num_traits::Float
        + LinalgScalar
        + ScalarOperand
        + AddAssign
        + MulAssign
        + Send
        + Sync
        + FastMath
        + Element
        + 'static
{
}
