//! The one rule for every count a tool is given: a range, checked before any work, with
//! the flag and its limits in the message; and for every picture, a budget of pixels,
//! computed with checked arithmetic. (`interpolate --steps 18446744073709551615` wrapped
//! `steps + 2` round to 1 and panicked; `sample --n 10000000000` allocated until the
//! machine gave out.)

use std::ops::RangeInclusive;

use crate::error::{Error, Result};

/// The most images one picture holds (512 rows of 8).
pub(super) const MAX_PICTURE_IMAGES: usize = 4096;

/// The most pixels of images one picture is drawn from (64M: 256 MB of decoded `f32`).
pub(super) const MAX_PICTURE_PIXELS: usize = 1 << 26;

/// A whole number flag's text as a `T` (`usize`, `u64`), with a message that says what
/// is wrong with it: a negative number, one past `T`'s range, or not a number. (The
/// parser's own said "invalid digit found in string" for `--latent -5`.)
pub(super) fn whole<T: std::str::FromStr>(text: &str) -> std::result::Result<T, String> {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    text.trim().parse().map_err(|_| match text.trim() {
        t if t.strip_prefix('-').is_some_and(digits) => {
            "must be 0 or more (a count or a size)".to_string()
        }
        t if digits(t) => format!("too large: at most {}", u64::MAX),
        _ => "expected a whole number, e.g. 20".to_string(),
    })
}

/// `value` if it lies in `range`, else an error naming `flag` and the range.
pub(super) fn within(flag: &str, value: usize, range: RangeInclusive<usize>) -> Result<usize> {
    if range.contains(&value) {
        return Ok(value);
    }
    Err(Error::config(
        flag,
        format!("must be {} to {}, got {value}", range.start(), range.end()),
    ))
}

/// Checks that a picture of `images` images of `pixels` pixels each (what `flag` asked
/// for) fits [`MAX_PICTURE_IMAGES`] and [`MAX_PICTURE_PIXELS`].
pub(super) fn picture(flag: &str, images: usize, pixels: usize) -> Result<()> {
    let total = images.checked_mul(pixels);
    if images <= MAX_PICTURE_IMAGES && total.is_some_and(|t| t <= MAX_PICTURE_PIXELS) {
        return Ok(());
    }
    Err(Error::config(
        flag,
        format!(
            "asks for a picture of {images} images of {pixels} pixels; one picture holds at \
             most {MAX_PICTURE_IMAGES} images and {}M pixels of them",
            MAX_PICTURE_PIXELS >> 20
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_say_what_is_wrong() {
        assert_eq!(whole::<usize>("20"), Ok(20));
        assert_eq!(
            whole::<usize>("-5").unwrap_err(),
            "must be 0 or more (a count or a size)"
        );
        assert_eq!(
            whole::<u64>("18446744073709551616").unwrap_err(),
            "too large: at most 18446744073709551615"
        );
        assert_eq!(
            whole::<usize>("2.5").unwrap_err(),
            "expected a whole number, e.g. 20"
        );
    }

    #[test]
    fn ranges_and_budgets_name_the_flag_and_the_limit() {
        assert_eq!(within("--steps", 8, 0..=256).unwrap(), 8);
        let e = within("--steps", usize::MAX, 0..=256)
            .unwrap_err()
            .to_string();
        assert_eq!(e, format!("--steps: must be 0 to 256, got {}", usize::MAX));
        assert!(picture("--n", 4096, 784).is_ok());
        for (images, pixels) in [(4097, 1), (2, usize::MAX), (100, 1 << 20)] {
            let e = picture("--n", images, pixels).unwrap_err().to_string();
            assert!(
                e.starts_with("--n: asks for") && e.contains("at most 4096"),
                "{e}"
            );
        }
    }
}
