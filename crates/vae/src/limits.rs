//! Sizes from flags and files, checked before anything is allocated.
//!
//! A model of `--hidden 10000000000` would fill the machine's memory at hundreds of
//! megabytes a second before failing; one of `--hidden 18446744073709551615` does not
//! even have a size that fits in a machine word. Both are refused up front, with the
//! figure, by estimating what a run needs and comparing it with what the machine has.

use crate::model::ModelConfig;
use crate::{Error, Result};

/// Bytes of memory the system can still give us (Linux: `MemAvailable` in
/// `/proc/meminfo`), or `None` where that cannot be read: then nothing is refused.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// About how many bytes training `config` with batches of `batch` takes, as
/// `(parameters' share, batch's share)`; `None` if the sizes overflow.
///
/// Parameters: the weights, their gradients and Adam's two moments in f32, and as much
/// again while a training state is serialized (≈ 10 copies). A batch: the input, and
/// for every layer its pre-activation, activation and their gradients (≈ 6 values per
/// input pixel and 12 per hidden or latent unit), for the larger of the training batch
/// and the 1000-image test batches.
pub fn training_bytes(config: &ModelConfig, batch: usize) -> Option<(u64, u64)> {
    let params = config.checked_param_count()? as u64;
    let units = config
        .hidden
        .iter()
        .try_fold(config.latent as u64, |n, &h| n.checked_add(h as u64))?;
    let per_row = (config.input_dim as u64)
        .checked_mul(6)?
        .checked_add(units.checked_mul(12)?)?;
    let rows = (batch as u64).max(1000);
    Some((
        params.checked_mul(40)?,
        per_row.checked_mul(rows)?.checked_mul(4)?,
    ))
}

/// Refuses a training run that cannot fit in the memory available, naming the flag
/// that makes it large (`--hidden`/`--latent` for the model, `--batch-size` for a batch).
pub fn check_training_memory(config: &ModelConfig, batch: usize) -> Result<()> {
    let too_big = |flag: &str, what: String| Error::config(flag, what);
    let Some((model, data)) = training_bytes(config, batch) else {
        return Err(too_big(
            "--hidden/--latent/--batch-size",
            format!(
                "a model of hidden sizes {:?}, latent size {} and batches of {batch} is too large to size",
                config.hidden, config.latent
            ),
        ));
    };
    let Some(available) = available_memory() else {
        return Ok(());
    };
    let need = model.saturating_add(data);
    if need <= available {
        return Ok(());
    }
    let widest_hidden = config.hidden.iter().copied().max().unwrap_or(0);
    let flag = match (model >= data, config.latent > widest_hidden) {
        (true, true) => "--latent",
        (true, false) => "--hidden",
        (false, _) => "--batch-size",
    };
    Err(too_big(
        flag,
        format!(
            "training {} ({} parameters) with batches of {batch} needs about {}; this machine has {} available",
            config_name(config),
            config.checked_param_count().unwrap_or(usize::MAX),
            gigabytes(need),
            gigabytes(available)
        ),
    ))
}

/// "784-400-20" for messages.
pub fn config_name(config: &ModelConfig) -> String {
    let mut sizes = vec![config.input_dim];
    sizes.extend(&config.hidden);
    sizes.push(config.latent);
    sizes
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("-")
}

/// Bytes as "12.3 GB" (or MB, TB, PB: whichever reads best).
pub fn gigabytes(bytes: u64) -> String {
    let units = ["MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes as f64 / 1e6;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Activation;

    fn config(hidden: usize, latent: usize) -> ModelConfig {
        ModelConfig {
            input_dim: 784,
            hidden: vec![hidden],
            latent,
            activation: Activation::Relu,
        }
    }

    #[test]
    fn the_canonical_run_fits_and_absurd_ones_are_refused_with_the_figure() {
        let (model, data) = training_bytes(&config(400, 20), 128).unwrap();
        assert_eq!(model, 652_824 * 40);
        assert!(model + data < 100_000_000, "{model} + {data}");
        assert!(check_training_memory(&config(400, 20), 128).is_ok());

        let err = check_training_memory(&config(10_000_000_000, 20), 128)
            .unwrap_err()
            .to_string();
        if available_memory().is_some() {
            assert!(
                err.starts_with("--hidden: training 784-10000000000-20")
                    && err.contains("GB available"),
                "{err}"
            );
        }
        let err = check_training_memory(&config(usize::MAX, 20), 128)
            .unwrap_err()
            .to_string();
        assert!(err.contains("too large to size"), "{err}");
        if available_memory().is_some() {
            let err = check_training_memory(&config(400, 20), 1 << 40)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("--batch-size"), "{err}");
        }
    }
}
