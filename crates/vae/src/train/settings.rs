//! A run's settings: everything `vae train` is configured by, saved with the
//! checkpoint so that `--resume` can check it continues the same run; and the random
//! streams every random choice of a run is drawn from, derived from its seed.

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::data::batch::Pixels;
use crate::error::{Error, Result};
use crate::model::activation::Activation;
use crate::model::config::Arch;
use crate::model::init::{Init, OutputBias};
use crate::objective::loss::Objective;

/// The random stream of one epoch: derived from (seed, epoch) alone, so a run resumed
/// at an epoch boundary draws exactly what the uninterrupted run would have.
pub fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Everything a run is configured by. The defaults are the canonical PyTorch example.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// The model family: MLP or convolutional.
    #[serde(default)]
    pub arch: Arch,
    /// Conv layers' output channels (`--arch conv`).
    #[serde(default = "default_channels")]
    pub channels: Vec<usize>,
    /// Conv kernel side (`--arch conv`).
    #[serde(default = "four")]
    pub kernel: usize,
    /// Conv stride (`--arch conv`).
    #[serde(default = "two")]
    pub stride: usize,
    /// Conv zero padding (`--arch conv`).
    #[serde(default = "one")]
    pub padding: usize,
    /// Encoder hidden (dense) sizes (the decoder mirrors them); for the conv model, the
    /// dense layers after the flatten.
    pub hidden: Vec<usize>,
    /// Size of z.
    pub latent: usize,
    /// Hidden activation name.
    pub activation: String,
    /// KL weight β.
    pub beta: f64,
    /// Epochs over which β ramps linearly from 0 (0 = no warm-up).
    pub kl_warmup: usize,
    /// Epochs to train.
    pub epochs: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Seed of every random choice (initialisation, shuffling, noise, binarization).
    pub seed: u64,
    /// Dynamic binarization instead of intensities in [0, 1].
    pub binarize: bool,
    /// Learning-rate schedule over epochs (see [`Settings::schedule`] for the forms).
    #[serde(default = "constant")]
    pub lr_schedule: String,
    /// Epochs of linear learning-rate warm-up in front of the schedule.
    #[serde(default)]
    pub lr_warmup: usize,
    /// Clip the gradients' global L2 norm to this value each step.
    #[serde(default)]
    pub clip_grad_norm: Option<f64>,
    /// Adam's ε (PyTorch's default 1e-8; the IWAE paper used 1e-4).
    #[serde(default = "default_eps")]
    pub adam_eps: f64,
    /// What training minimises: the ELBO or the importance-weighted bound.
    #[serde(default)]
    pub objective: Objective,
    /// Importance samples per image (`--objective iwae`; 1 for the ELBO).
    #[serde(default = "one")]
    pub k: usize,
    /// How new parameters are drawn.
    #[serde(default)]
    pub init: Init,
    /// Where the decoder's output bias starts.
    #[serde(default)]
    pub output_bias: OutputBias,
    /// Train on the first N images of the training set only.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Part of the training set held out to validate on after every epoch (0 = none).
    #[serde(default)]
    pub valid_fraction: f64,
    /// Image (height, width) to resize a folder's images to, or to shape a `.npy`'s.
    #[serde(default)]
    pub image_size: Option<(usize, usize)>,
    /// Write the pictures of every N-th epoch (and of the last); 0: only at the end (the
    /// value of runs made before this setting).
    #[serde(default)]
    pub pictures_every: usize,
}

fn one() -> usize {
    1
}

fn two() -> usize {
    2
}

fn four() -> usize {
    4
}

fn default_channels() -> Vec<usize> {
    vec![32, 64]
}

fn constant() -> String {
    "constant".into()
}

fn default_eps() -> f64 {
    1e-8
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            arch: Arch::Mlp,
            channels: default_channels(),
            kernel: four(),
            stride: two(),
            padding: one(),
            hidden: vec![400],
            latent: 20,
            activation: "relu".into(),
            beta: 1.0,
            kl_warmup: 0,
            epochs: 10,
            batch_size: 128,
            lr: 1e-3,
            seed: 1,
            binarize: false,
            lr_schedule: constant(),
            lr_warmup: 0,
            clip_grad_norm: None,
            adam_eps: default_eps(),
            objective: Objective::Elbo,
            k: one(),
            init: Init::Pytorch,
            output_bias: OutputBias::Init,
            limit: None,
            valid_fraction: 0.0,
            image_size: None,
            pictures_every: 1,
        }
    }
}

impl Settings {
    /// Checks every setting, naming the flag of the first one out of range. This is the
    /// one place settings are validated; `vae train` and [`crate::run::lifecycle::run`]
    /// both call it.
    pub fn validate(&self) -> Result<()> {
        let positive = |flag: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(Error::config(
                    flag,
                    format!("must be a positive number, got {v}"),
                ))
            }
        };
        if self.hidden.contains(&0) {
            return Err(Error::config(
                "--hidden",
                "every hidden size must be at least 1",
            ));
        }
        if self.latent == 0 {
            return Err(Error::config("--latent", "must be at least 1"));
        }
        self.activation
            .parse::<Activation>()
            .map_err(|e| Error::config("--activation", e))?;
        if !(self.beta >= 0.0 && self.beta.is_finite()) {
            return Err(Error::config(
                "--beta",
                format!("must be a non-negative number, got {}", self.beta),
            ));
        }
        match (self.objective, self.k) {
            (_, 0) => return Err(Error::config("--k", "must be at least 1")),
            (Objective::Elbo, k) if k > 1 => {
                let problem = format!("{k} samples need --objective iwae (the ELBO draws one)");
                return Err(Error::config("--k", problem));
            }
            (Objective::Iwae, _) if self.beta != 1.0 || self.kl_warmup > 0 => {
                return Err(Error::config(
                    "--objective",
                    "the IWAE bound has no KL term to weight: it takes neither --beta nor \
                     --kl-warmup",
                ));
            }
            _ => {}
        }
        if self.epochs == 0 {
            return Err(Error::config("--epochs", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(Error::config("--batch-size", "must be at least 1"));
        }
        if self.limit == Some(0) {
            return Err(Error::config("--limit", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.valid_fraction) {
            return Err(Error::config(
                "--valid-fraction",
                format!("must be in [0, 1), got {}", self.valid_fraction),
            ));
        }
        positive("--lr", self.lr)?;
        positive("--adam-eps", self.adam_eps)?;
        if let Some(c) = self.clip_grad_norm {
            positive("--clip-grad-norm", c)?;
        }
        self.schedule().map(|_| ())
    }

    /// Rows each training step sends through the decoder: the batch times K.
    pub fn rows_per_step(&self) -> usize {
        self.batch_size.saturating_mul(self.k)
    }

    /// How pixels are fed to the model.
    pub fn pixels(&self) -> Pixels {
        if self.binarize {
            Pixels::Binarized
        } else {
            Pixels::Scaled
        }
    }

    /// β for a step `progress` epochs into training (fractional), with the warm-up.
    pub fn beta_at(&self, progress: f64) -> f64 {
        if self.kl_warmup == 0 {
            self.beta
        } else {
            self.beta * (progress / self.kl_warmup as f64).min(1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_setting_names_its_flag() {
        let cases: [(&str, Settings); 9] = [
            (
                "--hidden",
                Settings {
                    hidden: vec![400, 0],
                    ..Settings::default()
                },
            ),
            (
                "--latent",
                Settings {
                    latent: 0,
                    ..Settings::default()
                },
            ),
            (
                "--activation",
                Settings {
                    activation: "gelu".into(),
                    ..Settings::default()
                },
            ),
            (
                "--beta",
                Settings {
                    beta: -1.0,
                    ..Settings::default()
                },
            ),
            (
                "--beta",
                Settings {
                    beta: f64::NAN,
                    ..Settings::default()
                },
            ),
            (
                "--epochs",
                Settings {
                    epochs: 0,
                    ..Settings::default()
                },
            ),
            (
                "--batch-size",
                Settings {
                    batch_size: 0,
                    ..Settings::default()
                },
            ),
            (
                "--lr",
                Settings {
                    lr: f64::INFINITY,
                    ..Settings::default()
                },
            ),
            (
                "--clip-grad-norm",
                Settings {
                    clip_grad_norm: Some(0.0),
                    ..Settings::default()
                },
            ),
        ];
        for (flag, settings) in cases {
            let err = settings.validate().unwrap_err().to_string();
            assert!(err.starts_with(flag), "{flag}: {err}");
        }
        assert!(Settings::default().validate().is_ok());
        let huge = Settings {
            hidden: vec![usize::MAX],
            ..Settings::default()
        };
        let err = huge.model((28, 28)).unwrap_err().to_string();
        assert!(
            err.starts_with("--hidden") && err.contains("more parameters"),
            "{err}"
        );
        let huge = Settings {
            batch_size: usize::MAX / 2,
            ..Settings::default()
        };
        let err = huge.model((28, 28)).unwrap_err().to_string();
        assert!(
            err.starts_with("--batch-size") && err.contains("can address"),
            "{err}"
        );
    }
}
