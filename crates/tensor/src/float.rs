//! The element type: one trait, implemented for `f32` and `f64`.
//!
//! Every op is written once, generically over [`Float`]. Training runs in `f32` (fast,
//! half the memory traffic); gradient checks run the very same code in `f64`, where
//! central differences are accurate to ~1e-10 and a wrong derivative cannot hide.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use ndarray::{LinalgScalar, ScalarOperand};

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
    + 'static
{
    /// The type's name (`"f32"` or `"f64"`), for messages and file metadata.
    const NAME: &'static str;

    /// Converts an `f64` constant (rounding to nearest for `f32`).
    fn of(x: f64) -> Self;

    /// Widens to `f64` (exact for both types).
    fn as_f64(self) -> f64;

    /// eˣ on hot paths. `f32`: a vectorizable polynomial within 3e-7 relative that
    /// saturates outside [−87, 88] (see [`fastmath`](crate::fastmath)); `f64`: libm's
    /// exact `exp`. `FMA` picks fused multiply-adds (see [`simd`](crate::simd)).
    fn exp_fast<const FMA: bool>(self) -> Self;

    /// ln(1 + u) for `u` in [0, 1] on hot paths. `f32`: a vectorizable polynomial within
    /// 3e-7 relative; `f64`: libm's exact `ln_1p`.
    fn ln_1p_fast<const FMA: bool>(self) -> Self;

    /// tanh on hot paths. `f32`: a vectorizable approximation within 5e-7 relative that
    /// carries NaN; `f64`: libm's exact `tanh`.
    fn tanh_fast<const FMA: bool>(self) -> Self;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn exp_fast<const FMA: bool>(self) -> Self {
        crate::fastmath::exp_f32::<FMA>(self)
    }
    #[inline(always)]
    fn ln_1p_fast<const FMA: bool>(self) -> Self {
        crate::fastmath::ln_1p_unit_f32::<FMA>(self)
    }
    #[inline(always)]
    fn tanh_fast<const FMA: bool>(self) -> Self {
        crate::fastmath::tanh_f32::<FMA>(self)
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
    #[inline(always)]
    fn exp_fast<const FMA: bool>(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn ln_1p_fast<const FMA: bool>(self) -> Self {
        self.ln_1p()
    }
    #[inline(always)]
    fn tanh_fast<const FMA: bool>(self) -> Self {
        self.tanh()
    }
}
