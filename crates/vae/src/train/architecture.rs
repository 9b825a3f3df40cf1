//! From a run's settings and its images' size to the model's architecture, checked
//! before anything is allocated: a model whose size does not fit in a machine word, or
//! a conv stack the image cannot serve, is refused naming the flag.

use crate::error::{Error, Result};
use crate::model::config::{Arch, ModelConfig};
use crate::model::conv_shape::ConvShape;
use crate::train::settings::Settings;

impl Settings {
    /// The model architecture for grey images of `(height, width)`, refused when its
    /// size does not even fit in a machine word, or when the conv layers cannot serve
    /// the image (naming the flag and the sizes).
    pub fn model(&self, (height, width): (usize, usize)) -> Result<ModelConfig> {
        self.validate()?;
        let input_dim = height.saturating_mul(width);
        let conv = match self.arch {
            Arch::Mlp => None,
            Arch::Conv => {
                let shape = ConvShape {
                    image: [1, height, width],
                    channels: self.channels.clone(),
                    kernel: self.kernel,
                    stride: self.stride,
                    padding: self.padding,
                };
                shape
                    .sizes()
                    .map_err(|e| Error::config(e.flag, e.problem))?;
                Some(shape)
            }
        };
        let config = ModelConfig {
            input_dim,
            hidden: self.hidden.clone(),
            latent: self.latent,
            activation: self
                .activation
                .parse()
                .map_err(|e| Error::config("--activation", e))?,
            conv,
        };
        // Whatever the memory, no array may have more bytes than an address can count.
        let addressable = (isize::MAX as usize) / std::mem::size_of::<f64>();
        let rows = self.batch_size.checked_mul(self.k);
        if rows
            .and_then(|r| r.checked_mul(input_dim))
            .is_none_or(|n| n > addressable)
        {
            return Err(Error::config(
                "--batch-size",
                format!(
                    "a batch of {} images × {} samples of {input_dim} pixels is more than \
                    this machine can address",
                    self.batch_size, self.k
                ),
            ));
        }
        if config.checked_param_count().is_none_or(|n| n > addressable) {
            let flag = match self.arch {
                Arch::Conv if self.channels.iter().any(|&c| c > addressable / 1000) => "--channels",
                _ => "--hidden",
            };
            return Err(Error::config(
                flag,
                format!(
                    "a model {} with hidden sizes {:?} and latent size {} has more parameters \
                        than this machine can count",
                    config
                        .conv
                        .as_ref()
                        .map(|c| c.describe())
                        .unwrap_or_default(),
                    self.hidden,
                    self.latent
                ),
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(channels: &[usize], kernel: usize) -> Settings {
        Settings {
            arch: Arch::Conv,
            channels: channels.to_vec(),
            kernel,
            hidden: vec![],
            ..Settings::default()
        }
    }

    #[test]
    fn the_conv_model_follows_the_image_and_refuses_what_it_cannot_serve() {
        let config = conv(&[32, 64], 4).model((28, 28)).unwrap();
        assert_eq!(config.conv.as_ref().unwrap().flat(), 64 * 7 * 7);
        assert_eq!(config.input_dim, 784);
        let wide = conv(&[8], 3).model((5, 9)).unwrap();
        assert_eq!(wide.conv.unwrap().sizes().unwrap(), [[5, 9], [3, 5]]);
        let err = conv(&[8], 11).model((8, 8)).unwrap_err().to_string();
        assert!(err.starts_with("--kernel") && err.contains("8×8"), "{err}");
        let err = conv(&[4; 6], 4).model((28, 28)).unwrap_err().to_string();
        assert!(
            err.starts_with("--channels") && err.contains("1×1"),
            "{err}"
        );
        let err = conv(&[usize::MAX / 2], 4).model((28, 28)).unwrap_err();
        assert!(err.to_string().starts_with("--channels"), "{err}");
    }
}
