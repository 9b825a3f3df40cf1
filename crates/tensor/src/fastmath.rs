//! `exp` and `ln` for `f32` that the compiler can vectorize.
//!
//! libm's `expf` and `logf` are function calls: a loop over a `[1024, 784]` array that
//! calls them runs one element at a time, ~6 ns each here, and the binary cross-entropy
//! needs both for every pixel of every step. These versions are branch-free arithmetic
//! on the float's bits (the Cephes single-precision algorithms), so LLVM turns the loops
//! that call them into SIMD code. They are used through [`Float::exp_fast`] and
//! [`Float::ln_fast`](crate::Float::ln_fast); `f64` uses libm there, so gradient checks
//! in f64 see the exact functions, and the tests below bound these against them.
//!
//! ```text
//! exp:  x = k·ln2 + r, |r| ≤ ln2/2        eˣ = 2ᵏ · eʳ, eʳ by a degree-6 polynomial
//!       (k rounded with the 1.5·2²³ trick; 2ᵏ built in the exponent bits)
//! ln:   x = m·2ᵉ, m ∈ [√½, √2)            ln x = e·ln2 + ln m, ln m by a degree-9 polynomial in m − 1
//! ```
//! Accuracy: relative error below 3e-7 (≈ 2.5 ulp) on the domains below.
//!
//! NaN: these do **not** propagate NaN (a NaN input gives some finite value). Keeping
//! the loops branch-free is the point, and an `is_nan` select measured 25 % slower
//! training because the loops stopped vectorizing. So they are used only where NaN is
//! carried by other means: in `bce_with_logits`, whose loss `softplus(x) − t·x` is NaN
//! through `t·x` whenever a logit is NaN. The `sigmoid`, `softplus` and `log_sigmoid`
//! ops use libm and propagate NaN as usual.
//!
//! [`Float::exp_fast`]: crate::Float::exp_fast

/// eˣ within 3e-7 relative for `x` in [−87, 88]; 0 below (where eˣ is under f32's
/// normal range) and ∞ above. (libm's `expf` still returns finite values up to 88.72;
/// the hot paths that use this one only ever pass `x ≤ 0`.)
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let y = exp_in_range(x);
    // selects, not branches: the loops calling this still vectorize
    let y = if x < -87.0 { 0.0 } else { y };
    if x > 88.0 {
        f32::INFINITY
    } else {
        y
    }
}

#[inline(always)]
fn exp_in_range(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4; // ln 2 split in two so that k·LN2_HI is exact
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³: adding it rounds to an integer
                                     // max/min rather than clamp: they compile to maxps/minps, and this loop must
                                     // vectorize (a NaN comes out as some finite value: see the module docs).
    #[allow(clippy::manual_clamp)]
    let x = x.max(-87.0).min(88.0);
    let shifted = x * LOG2E + ROUND; // k sits in the low mantissa bits of this
    let k = shifted - ROUND;
    let r = x - k * LN2_HI - k * LN2_LO;
    let mut p = 1.987_569_1e-4;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, which rounds to 0.5 in f32
    let er = p * r * r + r + 1.0;
    // 2ᵏ: the biased exponent k + 127 in bits 23..31, with k read from `shifted`'s bits
    // (an integer conversion of k would be a saturating cast, which does not vectorize).
    let biased = shifted
        .to_bits()
        .wrapping_sub(ROUND.to_bits())
        .wrapping_add(127);
    let two_k = f32::from_bits(biased << 23);
    er * two_k
}

/// ln x for positive, normal, finite `x`, within 3e-7 relative (2e-8 absolute near 1).
#[inline(always)]
pub fn ln_f32(x: f32) -> f32 {
    const SQRT_HALF: f32 = std::f32::consts::FRAC_1_SQRT_2;
    let bits = x.to_bits();
    let exponent = ((bits >> 23) & 0xff) as i32 - 126;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f00_0000); // x = m·2^exponent, m ∈ [½, 1)
                                                                // Move m to [√½, √2) so that m − 1 is small on both sides.
    let small = m < SQRT_HALF;
    let e = (exponent - small as i32) as f32;
    let m = if small { m + m - 1.0 } else { m - 1.0 };
    let z = m * m;
    let mut p = 7.037_683_6e-2;
    p = p * m - 1.151_461e-1;
    p = p * m + 1.167_699_9e-1;
    p = p * m - 1.242_014_1e-1;
    p = p * m + 1.424_932_3e-1;
    p = p * m - 1.666_805_8e-1;
    p = p * m + 2.000_071_4e-1;
    p = p * m - 2.499_999_4e-1;
    p = p * m + 0.333_333_3; // Cephes: 3.3333331174e-1, as rounded to f32
    let mut y = p * m * z;
    y += e * -2.121_944_4e-4;
    y -= 0.5 * z;
    m + y + e * 0.693_359_4
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error against the f64 function, over a dense sweep.
    fn worst(f: fn(f32) -> f32, exact: fn(f64) -> f64, lo: f32, hi: f32) -> f64 {
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
        let err = worst(exp_f32, f64::exp, -87.0, 88.0);
        assert!(err < 3e-7, "max relative error {err:.2e}");
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn ln_is_within_3e_7() {
        for (lo, hi) in [
            (1e-30, 1e-20),
            (1e-3, 0.5),
            (0.5, 2.0),
            (2.0, 1e6),
            (1e30, 1e38),
        ] {
            let err = worst(ln_f32, f64::ln, lo, hi);
            assert!(err < 3e-7, "max relative error {err:.2e} on [{lo}, {hi}]");
        }
        // near 1 the result is tiny: check the absolute error there
        for i in 1..1000 {
            let x = 1.0 + i as f32 * 1e-4;
            assert!((ln_f32(x) as f64 - (x as f64).ln()).abs() < 2e-8);
        }
        assert_eq!(ln_f32(1.0), 0.0);
    }

    #[test]
    fn exp_underflows_to_zero_and_overflows_to_infinity() {
        assert_eq!(exp_f32(-1000.0), 0.0);
        assert_eq!(exp_f32(1000.0), f32::INFINITY);
    }
}
