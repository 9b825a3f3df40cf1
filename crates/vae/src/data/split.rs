//! `--limit N` and `--valid-fraction F`: the part of a training set a run trains on,
//! and the part it holds out to validate on.
//!
//! The limit keeps the first N images of the training set; the validation set is then a
//! random F of those (drawn from the run's seed, so that a source sorted by label gives
//! a validation set of every label), and training keeps the rest, in their order.

use std::borrow::Cow;

use rand::Rng;

use crate::data::batch::shuffled;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};

/// The training images left after the limit, and the validation set held out of them.
pub fn split<'a, R: Rng>(
    train: &'a Dataset,
    limit: Option<usize>,
    valid_fraction: f64,
    rng: &mut R,
) -> Result<(Cow<'a, Dataset>, Option<Dataset>)> {
    if !(0.0..1.0).contains(&valid_fraction) {
        return Err(Error::config(
            "--valid-fraction",
            format!("{valid_fraction} is not in [0, 1)"),
        ));
    }
    let limited = match limit {
        Some(0) => return Err(Error::config("--limit", "must be at least 1")),
        Some(n) if n < train.len() => Cow::Owned(train.first(n)),
        _ => Cow::Borrowed(train),
    };
    if valid_fraction == 0.0 {
        return Ok((limited, None));
    }
    let n = limited.len();
    let held = (valid_fraction * n as f64).round() as usize;
    if held == 0 || held == n {
        return Err(Error::config(
            "--valid-fraction",
            format!(
                "{valid_fraction} of {n} images leaves {held} to validate on and {} to train \
                on; both need at least one",
                n - held
            ),
        ));
    }
    let order = shuffled(n, rng);
    let mut valid: Vec<usize> = order[..held].to_vec();
    let mut rest: Vec<usize> = order[held..].to_vec();
    valid.sort_unstable();
    rest.sort_unstable();
    Ok((
        Cow::Owned(limited.select(&rest)),
        Some(limited.select(&valid)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::Intensities;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn set(n: usize) -> Dataset {
        Dataset::new(
            Intensities::Bytes((0..n as u8).collect()),
            Some((0..n as u8).map(|i| i % 3).collect()),
            1,
            1,
        )
    }

    fn pixels(d: &Dataset) -> Vec<u8> {
        match &d.images {
            Intensities::Bytes(b) => b.clone(),
            Intensities::Floats(_) => unreachable!(),
        }
    }

    #[test]
    fn the_split_partitions_the_limited_set_reproducibly() {
        let data = set(100);
        let (train, valid) = split(&data, Some(40), 0.25, &mut StdRng::seed_from_u64(1)).unwrap();
        let valid = valid.unwrap();
        assert_eq!((train.len(), valid.len()), (30, 10));
        let mut all = [pixels(&train), pixels(&valid)].concat();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..40).collect::<Vec<u8>>(),
            "every image of the first 40 once"
        );
        assert!(
            pixels(&train).windows(2).all(|w| w[0] < w[1]),
            "training keeps its order"
        );
        assert_ne!(
            pixels(&valid),
            (30..40).collect::<Vec<u8>>(),
            "not simply the tail"
        );
        let again = split(&data, Some(40), 0.25, &mut StdRng::seed_from_u64(1)).unwrap();
        assert_eq!(again.1.unwrap(), valid);
    }

    #[test]
    fn no_fraction_and_no_limit_copy_nothing() {
        let data = set(10);
        let (train, valid) = split(&data, None, 0.0, &mut StdRng::seed_from_u64(1)).unwrap();
        assert!(matches!(train, Cow::Borrowed(_)) && valid.is_none());
        let (train, _) = split(&data, Some(50), 0.0, &mut StdRng::seed_from_u64(1)).unwrap();
        assert_eq!(train.len(), 10);
    }

    #[test]
    fn impossible_splits_name_the_flag() {
        let data = set(3);
        for (limit, f, flag) in [
            (None, 1.0, "--valid-fraction"),
            (None, 0.1, "--valid-fraction"),
            (Some(0), 0.0, "--limit"),
            (None, f64::NAN, "--valid-fraction"),
        ] {
            let err = split(&data, limit, f, &mut StdRng::seed_from_u64(1))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(flag), "{err}");
        }
    }
}
