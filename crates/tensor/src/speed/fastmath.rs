//! `exp`, `ln(1 + u)` and `tanh` for `f32` that the compiler can vectorize.
//!
//! libm's `expf` and `log1pf` are function calls: a loop over a `[1024, 784]` array that
//! calls them runs one element at a time, ~6 ns each here, and the binary cross-entropy
//! needs both for every pixel of every step. These versions are branch-free arithmetic
//! on the float's bits and short polynomials, so LLVM turns the loops that call them
//! into SIMD code. They are used through [`FastMath::exp_fast`] and
//! [`FastMath::ln_1p_fast`]; `f64` uses libm there, so gradient
//! checks in f64 see the exact functions, and the tests below bound these against them.
//!
//! ```text
//! exp:      x = k·ln2 + r, |r| ≤ ln2/2       eˣ = 2ᵏ · eʳ, eʳ by a degree-7 polynomial (Cephes)
//!           (k rounded with the 1.5·2²³ trick; 2ᵏ built in the exponent bits)
//! ln(1+u):  s = u/(2 + u) ∈ [0, ⅓] for u ∈ [0, 1]
//!           ln(1+u) = 2·atanh(s) = 2s·(1 + s²/3 + s⁴/5 + … + s¹²/13)   (next term < 2e-8)
//! tanh:     |x| < 0.3: x − x³/3 + 2x⁵/15 − 17x⁷/315 + 62x⁹/2835         (next term < 2e-8)
//!           else: (1 − e)/(1 + e) with e = e^(−2|x|), the sign of x put back
//!           (below 0.3 the subtraction 1 − e would lose the digits the series keeps)
//! ```
//! Accuracy: relative error below 3e-7 (≈ 2.5 ulp) on the domains below. `ln(1+u)` keeps
//! that *relative* accuracy for tiny `u` too (`2s ≈ u`), which `ln` of the rounded `1 + u`
//! would not. Why not a general `ln`: the BCE only ever needs `ln(1 + e^(−|x|))`, and
//! extracting exponent and mantissa from the bits made the old general `ln` the slow half
//! of the loop (a long chain of dependent operations: 5.9 ns per element against 2.8).
//!
//! Each function is generic over `FMA`: with `true` the polynomial steps are `mul_add`,
//! one instruction and one rounding in the AVX2+FMA version of a loop (see
//! [`crate::speed::simd`]); with `false`, a multiply and an add, for the portable version.
//!
//! NaN: these do **not** propagate NaN (a NaN input gives some finite value). Keeping
//! the loops branch-free is the point, and an `is_nan` select measured 25 % slower
//! training because the loops stopped vectorizing. So they are used only where NaN is
//! carried by other means: in `bce_with_logits`, whose loss `softplus(x) − t·x` is NaN
//! through `t·x` whenever a logit is NaN. The `sigmoid`, `softplus` and `log_sigmoid`
//! ops use libm and propagate NaN as usual.

use num_traits::Float;

use crate::speed::simd::{dispatch, Kernel};

/// `a·b + c`: fused (`mul_add`) when `FMA`, else a multiply and an add.
#[inline(always)]
pub fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// eˣ within 3e-7 relative for `x` in [−87, 88]; 0 below (where eˣ is under f32's
/// normal range) and ∞ above. (libm's `expf` still returns finite values up to 88.72;
/// the hot paths that use this one only ever pass `x ≤ 0`.)
#[inline(always)]
pub fn exp_f32<const FMA: bool>(x: f32) -> f32 {
    let y = exp_in_range::<FMA>(x);
    // selects, not branches: the loops calling this still vectorize
    let y = if x < -87.0 { 0.0 } else { y };
    if x > 88.0 {
        f32::INFINITY
    } else {
        y
    }
}

#[inline(always)]
fn exp_in_range<const FMA: bool>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4; // ln 2 split in two so that k·LN2_HI is exact
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding it rounds to an integer

    // max/min rather than clamp: they compile to maxps/minps, and this loop must
    // vectorize (a NaN comes out as some finite value: see the module docs).
    #[allow(clippy::manual_clamp)]
    let x = x.max(-87.0).min(88.0);
    let shifted = madd::<FMA>(x, LOG2E, ROUND); // k sits in the low mantissa bits of this
    let k = shifted - ROUND;
    let r = madd::<FMA>(k, -LN2_LO, madd::<FMA>(k, -LN2_HI, x));
    let mut p = 1.987_569_1e-4;
    p = madd::<FMA>(p, r, 1.398_199_9e-3);
    p = madd::<FMA>(p, r, 8.333_452e-3);
    p = madd::<FMA>(p, r, 4.166_579_6e-2);
    p = madd::<FMA>(p, r, 1.666_666_5e-1);
    p = madd::<FMA>(p, r, 0.5); // Cephes: 5.0000001201e-1, which rounds to 0.5 in f32
    let er = madd::<FMA>(p, r * r, r + 1.0);
    // 2ᵏ: the biased exponent k + 127 in bits 23..31, with k read from `shifted`'s bits
    // (an integer conversion of k would be a saturating cast, which does not vectorize).
    let biased = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    let two_k = f32::from_bits(biased << 23);
    er * two_k
}

/// ln(1 + u) for `u` in [0, 1], within 3e-7 relative (also for tiny `u`).
#[inline(always)]
pub fn ln_1p_unit_f32<const FMA: bool>(u: f32) -> f32 {
    let s = u / (2.0 + u);
    let w = s * s;
    let mut p = 1.0 / 13.0;
    p = madd::<FMA>(p, w, 1.0 / 11.0);
    p = madd::<FMA>(p, w, 1.0 / 9.0);
    p = madd::<FMA>(p, w, 1.0 / 7.0);
    p = madd::<FMA>(p, w, 1.0 / 5.0);
    p = madd::<FMA>(p, w, 1.0 / 3.0);
    let two_s = s + s;
    madd::<FMA>(two_s * w, p, two_s) // 2s + 2s·w·p
}

/// tanh x within 5e-7 relative. Unlike `exp_f32` and `ln_1p_unit_f32`, it carries NaN
/// through (`x − x` is 0 for finite `x` and NaN otherwise, added at the end without a
/// branch): a NaN pre-activation must reach the loss, where training stops on it. An
/// infinite input, possible only in a run that has already diverged, also gives NaN.
#[inline(always)]
pub fn tanh_f32<const FMA: bool>(x: f32) -> f32 {
    let a = x.abs().min(9.0); // tanh 9 = 1 − 3e-8, which is 1 in f32
    let w = a * a;
    let mut p = 62.0 / 2835.0;
    p = madd::<FMA>(p, w, -17.0 / 315.0);
    p = madd::<FMA>(p, w, 2.0 / 15.0);
    p = madd::<FMA>(p, w, -1.0 / 3.0);
    let series = madd::<FMA>(a * w, p, a);
    let e = exp_in_range::<FMA>(-2.0 * a);
    let ratio = (1.0 - e) / (1.0 + e);
    let magnitude = if a < 0.3 { series } else { ratio };
    #[allow(clippy::eq_op)] // x − x is the point: 0, or NaN when x is not finite
    let nan_if_not_finite = x - x;
    magnitude.copysign(x) + nan_if_not_finite
}

/// The hot loops' `exp`, `ln(1 + u)` and `tanh`: for `f32` the vectorizable versions of
/// this module, for `f64` libm's exact ones (so gradient checks in f64 see the exact
/// functions). A supertrait of [`crate::Float`]: every element type has them.
/// `FMA` picks fused multiply-adds (see [`crate::speed::simd`]).
pub trait FastMath: Copy {
    /// eˣ. `f32`: within 3e-7 relative, saturating outside [−87, 88].
    fn exp_fast<const FMA: bool>(self) -> Self;
    /// ln(1 + u) for `u` in [0, 1]. `f32`: within 3e-7 relative.
    fn ln_1p_fast<const FMA: bool>(self) -> Self;
    /// tanh. `f32`: within 5e-7 relative, carrying NaN.
    fn tanh_fast<const FMA: bool>(self) -> Self;
}

impl FastMath for f32 {
    #[inline(always)]
    fn exp_fast<const FMA: bool>(self) -> Self {
        exp_f32::<FMA>(self)
    }
    #[inline(always)]
    fn ln_1p_fast<const FMA: bool>(self) -> Self {
        ln_1p_unit_f32::<FMA>(self)
    }
    #[inline(always)]
    fn tanh_fast<const FMA: bool>(self) -> Self {
        tanh_f32::<FMA>(self)
    }
}

impl FastMath for f64 {
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

/// σ(x) by the vectorizable `exp`, for the BCE's backward (every pixel of every step);
/// the plain version is `ops::sigmoid`'s. Does not propagate NaN (see above).
#[inline(always)]
pub(crate) fn sigmoid_fast<T: Float + FastMath, const FMA: bool>(x: T) -> T {
    let e = (-x.abs()).exp_fast::<FMA>();
    let numerator = if x >= T::zero() { T::one() } else { e };
    numerator / (T::one() + e)
}

/// ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)) by the vectorizable functions, for the BCE's
/// forward, the hottest elementwise loop of training; the plain version is
/// `ops::softplus`'s. Within 3e-7 relative of the exact value. Does not propagate NaN.
#[inline(always)]
pub(crate) fn softplus_fast<T: Float + FastMath, const FMA: bool>(x: T) -> T {
    let e = (-x.abs()).exp_fast::<FMA>();
    x.max(T::zero()) + e.ln_1p_fast::<FMA>()
}

/// `v ← tanh v` over a slice, run by [`dispatch`] in the widest version this CPU has
/// (tanh's forward in `f32`; libm's exact `tanh` in `f64`).
pub(crate) fn tanh_in_place<T: FastMath>(v: &mut [T]) {
    dispatch(TanhInPlace(v));
}

/// [`tanh_in_place`]'s loop, compiled in both versions of [`crate::speed::simd`].
struct TanhInPlace<'a, T>(&'a mut [T]);

impl<T: FastMath> Kernel for TanhInPlace<'_, T> {
    #[inline(always)]
    fn run<const FMA: bool>(self) {
        for v in self.0 {
            *v = v.tanh_fast::<FMA>();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error against the f64 function, over a dense sweep.
    fn worst(f: impl Fn(f32) -> f32, exact: fn(f64) -> f64, lo: f32, hi: f32) -> f64 {
        let n = 200_000;
        (0..=n)
            .map(|i| lo + (hi - lo) * i as f32 / n as f32)
            .map(|x| {
                let e = exact(x as f64);
                ((f(x) as f64 - e) / e.abs().max(1e-300)).abs()
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn exp_is_within_3e_7() {
        for err in [
            worst(exp_f32::<false>, f64::exp, -87.0, 88.0),
            worst(exp_f32::<true>, f64::exp, -87.0, 88.0),
        ] {
            assert!(err < 3e-7, "max relative error {err:.2e}");
        }
        assert_eq!(exp_f32::<false>(0.0), 1.0);
        assert_eq!(exp_f32::<true>(0.0), 1.0);
    }

    #[test]
    fn ln_1p_is_within_3e_7_also_for_tiny_arguments() {
        for (lo, hi) in [(0.0, 1.0), (1e-3, 0.1), (1e-30, 1e-20), (1e-37, 1e-30)] {
            for err in [
                worst(ln_1p_unit_f32::<false>, f64::ln_1p, lo, hi),
                worst(ln_1p_unit_f32::<true>, f64::ln_1p, lo, hi),
            ] {
                assert!(err < 3e-7, "max relative error {err:.2e} on [{lo}, {hi}]");
            }
        }
        assert_eq!(ln_1p_unit_f32::<false>(0.0), 0.0);
        assert_eq!(ln_1p_unit_f32::<true>(0.0), 0.0);
    }

    #[test]
    fn exp_underflows_to_zero_and_overflows_to_infinity() {
        assert_eq!(exp_f32::<false>(-1000.0), 0.0);
        assert_eq!(exp_f32::<false>(1000.0), f32::INFINITY);
        assert_eq!(exp_f32::<true>(-1000.0), 0.0);
    }

    #[test]
    fn tanh_is_within_5e_7_and_carries_nan() {
        for (lo, hi) in [
            (-12.0, 12.0),
            (-0.31, 0.31),
            (0.29, 0.31),
            (1e-30, 1e-3),
            (-1e-3, -1e-30),
        ] {
            for err in [
                worst(tanh_f32::<false>, f64::tanh, lo, hi),
                worst(tanh_f32::<true>, f64::tanh, lo, hi),
            ] {
                assert!(err < 5e-7, "max relative error {err:.2e} on [{lo}, {hi}]");
            }
        }
        assert_eq!(tanh_f32::<true>(0.0), 0.0);
        assert_eq!(tanh_f32::<true>(20.0), 1.0);
        assert_eq!(tanh_f32::<false>(-20.0), -1.0);
        assert!(tanh_f32::<true>(f32::NAN).is_nan() && tanh_f32::<false>(f32::NAN).is_nan());
    }

    #[test]
    fn fused_and_unfused_agree_to_rounding() {
        for i in -870..=880 {
            let x = i as f32 / 10.0;
            let (a, b) = (exp_f32::<false>(x), exp_f32::<true>(x));
            assert!((a - b).abs() <= 4e-7 * a, "exp({x}): {a} vs {b}");
        }
    }
}
