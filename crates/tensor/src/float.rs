//! The element type: one trait, implemented for `f32` and `f64`.
//!
//! Every op is written once, generically over [`Float`]. Training runs in `f32` (fast,
//! half the memory traffic); gradient checks run the very same code in `f64`, where
//! central differences are accurate to ~1e-10 and a wrong derivative cannot hide.
//!
//! Two of `Float`'s supertraits belong to the speed path ([`crate::speed`]), kept apart
//! from this one: [`FastMath`], the vectorizable `exp`, `ln(1 + u)` and `tanh` the hot
//! loops use, and [`Element`], what our matrix multiply needs of a type (its
//! micro-kernels and a packing buffer per thread). Both are implemented for `f32` and
//! `f64` and nothing else, and no op's math depends on them: a student can read every
//! op as if `Float` were `num_traits::Float` plus arithmetic.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};

use crate::speed::fastmath::FastMath;
use crate::speed::gemm::Element;

/// A floating-point element type the engine can compute with: `f32` or `f64`.
pub trait Float:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + FastMath
    + Element
    + 'static
{
    /// The type's name (`"f32"` or `"f64"`), for messages and file metadata.
    const NAME: &'static str;

    /// Converts an `f64` constant (rounding to nearest for `f32`).
    fn of(x: f64) -> Self;

    /// Widens to `f64` (exact for both types).
    fn as_f64(self) -> f64;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    fn of(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}
