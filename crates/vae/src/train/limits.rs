//! Sizes from flags and files, checked before anything is allocated.
//!
//! A model of `--hidden 10000000000` would fill the machine's memory at hundreds of
//! megabytes a second before failing; one of `--hidden 18446744073709551615` does not
//! even have a size that fits in a machine word. Both are refused up front, with the
//! figure, by estimating what a run needs and comparing it with what the machine has.

use crate::error::{Error, Result};
use crate::model::config::ModelConfig;
use tensor::ops::{GROUP_VALUES, WAVE};

/// Bytes of memory the system can still give us (Linux: `MemAvailable` in
/// `/proc/meminfo`), or `None` where that cannot be read: then nothing is refused.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// About how many bytes training `config` with batches of `batch` takes, as
/// `(parameters' share, batch's share)`. An estimate, so in `f64`: it cannot overflow,
/// however absurd the sizes.
///
/// Parameters: the weights, their gradients and Adam's two moments in f32, and as much
/// again while a training state is serialized (≈ 10 copies). A batch: the input, and
/// for every layer its pre-activation, activation and their gradients (≈ 6 values per
/// input pixel and 12 per hidden or latent unit; a conv model adds 6 per value of each
/// conv layer's output and of its transpose's), for the larger of the training batch and
/// the 1000-image test batches. A conv model also lowers its images to matrices (im2col),
/// a group of images at a time on each of the `threads`, each thread with three scratch
/// buffers of [`tensor::ops::GROUP_VALUES`] values, or one image's lowering where that
/// is larger (a large image), and [`tensor::ops::WAVE`] partial weight gradients.
pub fn training_bytes(config: &ModelConfig, batch: usize, threads: usize) -> (f64, f64) {
    let params: f64 = config
        .param_shapes()
        .iter()
        .map(|(_, shape)| shape.iter().map(|&d| d as f64).product::<f64>())
        .sum();
    let units = config.latent as f64 + config.hidden.iter().map(|&h| h as f64).sum::<f64>();
    let conv = config.conv.as_ref().map_or(0.0, |c| c.activations() as f64);
    let per_row = 6.0 * config.input_dim as f64 + 12.0 * units + 6.0 * conv;
    let rows = (batch as f64).max(1000.0);
    let lowering = config.conv.as_ref().map_or(0.0, |c| {
        let group = (c.lowering_per_image() as f64).max(GROUP_VALUES as f64);
        let widest_weights = c
            .layer_channels()
            .iter()
            .map(|&(i, o)| i * o)
            .max()
            .unwrap_or(0);
        let k2 = (c.kernel as f64).powi(2);
        3.0 * threads as f64 * group + WAVE as f64 * widest_weights as f64 * k2
    });
    (40.0 * params, 4.0 * (per_row * rows + lowering))
}

/// Refuses a training run that cannot fit in the memory available, naming the flag
/// that makes it large (`--hidden` or `--latent` for the model, `--batch-size` for a batch).
pub fn check_training_memory(config: &ModelConfig, batch: usize) -> Result<()> {
    let Some(available) = available_memory() else {
        return Ok(());
    };
    let (model, data) = training_bytes(config, batch, rayon::current_num_threads());
    let need = model + data;
    if need <= available as f64 {
        return Ok(());
    }
    let flag = culprit(config, batch);
    Err(Error::config(
        flag,
        format!(
            "training {} ({:.3e} parameters) with batches of {batch} needs about {}; this machine \
                has {} available",
            config.name(),
            model / 40.0,
            gigabytes(need),
            gigabytes(available as f64)
        ),
    ))
}

/// The flag to blame for a run too large: the setting whose ordinary value (batch 128,
/// latent 20, one hidden layer of 400, channels 32,64) would shrink the estimate most.
/// (Blaming by which share was larger named `--batch-size` for a huge `--latent`, whose
/// units are counted in every row of a batch.)
fn culprit(config: &ModelConfig, batch: usize) -> &'static str {
    let threads = rayon::current_num_threads();
    let need = |config: &ModelConfig, batch: usize| {
        let (model, data) = training_bytes(config, batch, threads);
        model + data
    };
    let with = |edit: &dyn Fn(&mut ModelConfig)| {
        let mut changed = config.clone();
        edit(&mut changed);
        need(&changed, batch)
    };
    let mut candidates = vec![
        ("--batch-size", need(config, batch.min(128))),
        ("--latent", with(&|c| c.latent = c.latent.min(20))),
        (
            "--hidden",
            with(&|c| {
                // Too many layers as well as too wide ones.
                c.hidden.truncate(1);
                c.hidden.iter_mut().for_each(|h| *h = (*h).min(400));
            }),
        ),
    ];
    if config.conv.is_some() {
        let channels = |c: &mut ModelConfig| {
            if let Some(conv) = c.conv.as_mut() {
                conv.channels.iter_mut().for_each(|ch| *ch = (*ch).min(64));
            }
        };
        candidates.push(("--channels", with(&channels)));
    }
    candidates
        .into_iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or("--batch-size", |(flag, _)| flag)
}

/// Bytes as "12.3 GB" (or MB, TB, PB, EB: whichever reads best).
pub fn gigabytes(bytes: f64) -> String {
    let units = ["MB", "GB", "TB", "PB", "EB"];
    let mut value = bytes / 1e6;
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
    use crate::model::activation::Activation;

    fn config(hidden: usize, latent: usize) -> ModelConfig {
        ModelConfig {
            input_dim: 784,
            hidden: vec![hidden],
            latent,
            activation: Activation::Relu,
            conv: None,
        }
    }

    #[test]
    fn the_canonical_run_fits_and_absurd_ones_are_refused_with_the_figure() {
        let (model, data) = training_bytes(&config(400, 20), 128, 2);
        assert_eq!(model, 652_824.0 * 40.0);
        assert!(model + data < 1e8, "{model} + {data}");
        assert!(check_training_memory(&config(400, 20), 128).is_ok());
        // The canonical conv model at batch 128, counted by hand: per test row 6·784
        // pixels + 12·20 latent units + 6·2·(32·14² + 64·7²) conv activations = 117,840
        // values, over 1000 rows; on each of 2 threads three lowering buffers of 2¹⁷
        // values (its widest image lowers to 32·16·7² = 25,088, less); and 8 partial
        // gradients of the 64·32·4·4 weights. Four bytes each.
        let conv = ModelConfig::canonical_conv();
        assert_eq!(conv.conv.as_ref().unwrap().lowering_per_image(), 25_088);
        let (_, data) = training_bytes(&conv, 128, 2);
        let scratch = 2.0 * 3.0 * 131_072.0 + 8.0 * 32_768.0;
        assert_eq!(data, 4.0 * (117_840.0 * 1000.0 + scratch));
        if available_memory().is_none() {
            return; // nothing is refused where the memory cannot be read
        }
        for (config, batch, flag) in [
            (
                config(10_000_000_000, 20),
                128,
                "--hidden: training 784-10000000000-20",
            ),
            (config(usize::MAX, 20), 128, "--hidden"),
            (config(400, 1 << 40), 128, "--latent"),
            (config(400, 20), usize::MAX, "--batch-size"),
            (
                ModelConfig {
                    hidden: vec![400; 20_000],
                    ..config(400, 20)
                },
                128,
                "--hidden",
            ),
        ] {
            let err = check_training_memory(&config, batch)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(flag) && err.contains("available"), "{err}");
        }
        assert_eq!(gigabytes(2.5e9), "2.5 GB");
        assert_eq!(gigabytes(9.61e16), "96.1 PB");
    }
}
