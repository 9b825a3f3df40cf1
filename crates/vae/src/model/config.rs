//! The architecture: layer sizes and the nonlinearity, what a checkpoint's metadata
//! records, and from which every parameter's name and shape follow.
//!
//! Two families share it: the MLP (`conv: None`: dense layers on the flat image) and the
//! convolutional VAE (`conv: Some(_)`: conv layers first, then the dense layers on their
//! flattened output, and a decoder that mirrors both; see [`ConvShape`]).

use serde::{Deserialize, Serialize};

use crate::model::activation::Activation;
use crate::model::conv_shape::ConvShape;

/// The model family (`--arch`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// Dense layers on the flat image (Kingma & Welling's model).
    #[default]
    Mlp,
    /// Conv layers, then dense ones; transposed convs in the decoder.
    Conv,
}

/// The architecture: what a checkpoint's metadata records.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// Pixels per image (784 for MNIST).
    pub input_dim: usize,
    /// Encoder hidden (dense) sizes; the decoder uses them in reverse. For the conv
    /// model, the dense layers after the flatten (may be none).
    pub hidden: Vec<usize>,
    /// Size of z.
    pub latent: usize,
    /// Hidden-layer nonlinearity.
    pub activation: Activation,
    /// The conv layers, for the convolutional VAE (`None`: the MLP).
    pub conv: Option<ConvShape>,
}

impl Default for ModelConfig {
    /// The canonical PyTorch example: 784-400-20, ReLU.
    fn default() -> Self {
        ModelConfig {
            input_dim: 784,
            hidden: vec![400],
            latent: 20,
            activation: Activation::Relu,
            conv: None,
        }
    }
}

impl ModelConfig {
    /// The canonical convolutional VAE: MNIST's 1×28×28 through conv layers of 32 and 64
    /// channels (kernel 4, stride 2, padding 1: 28 → 14 → 7), no dense layer, latent 20,
    /// ReLU; the model of the conv benchmarks and of the PyTorch comparison.
    pub fn canonical_conv() -> ModelConfig {
        ModelConfig {
            hidden: vec![],
            conv: Some(ConvShape {
                image: [1, 28, 28],
                channels: vec![32, 64],
                kernel: 4,
                stride: 2,
                padding: 1,
            }),
            ..ModelConfig::default()
        }
    }

    /// Every parameter's name and shape, in the model's fixed order (PyTorch's state-dict
    /// order for the equivalent module): the conv layers, the dense encoder, the heads, the
    /// dense decoder, its output (or projection) layer, the transposed convs.
    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut shapes = Vec::new();
        let mut push = |name: String, weight: Vec<usize>, out: usize| {
            shapes.push((format!("{name}.weight"), weight));
            shapes.push((format!("{name}.bias"), vec![out]));
        };
        let k = self.conv.as_ref().map_or(0, |c| c.kernel);
        let convs = self.conv.as_ref().map(ConvShape::layer_channels);
        for (i, &(c_in, c_out)) in convs.iter().flatten().enumerate() {
            push(format!("encoder.conv.{i}"), vec![c_out, c_in, k, k], c_out);
        }
        let mut layer = |name: String, inp: usize, out: usize| push(name, vec![out, inp], out);
        let flat = self.conv.as_ref().map_or(self.input_dim, ConvShape::flat);
        let mut inp = flat;
        for (i, &h) in self.hidden.iter().enumerate() {
            layer(format!("encoder.hidden.{i}"), inp, h);
            inp = h;
        }
        layer("encoder.mu".into(), inp, self.latent);
        layer("encoder.logvar".into(), inp, self.latent);
        let mut inp = self.latent;
        for (i, &h) in self.hidden.iter().rev().enumerate() {
            layer(format!("decoder.hidden.{i}"), inp, h);
            inp = h;
        }
        match &convs {
            None => layer("decoder.out".into(), inp, self.input_dim),
            Some(convs) => {
                layer("decoder.project".into(), inp, flat);
                for (i, &(c_in, c_out)) in convs.iter().rev().enumerate() {
                    // The transpose maps c_out back to c_in; PyTorch stores [C_in, C_out, k, k]
                    // of the transposed layer, which is this conv's [c_out, c_in, k, k].
                    push(format!("decoder.deconv.{i}"), vec![c_out, c_in, k, k], c_in);
                }
            }
        }
        shapes
    }

    /// Number of scalar parameters (652,824 for 784-400-20).
    ///
    /// # Panics
    /// If the count overflows `usize` (see [`checked_param_count`](Self::checked_param_count)).
    pub fn param_count(&self) -> usize {
        self.checked_param_count()
            .expect("the parameter count overflows usize")
    }

    /// The sizes as a name for messages and reports: "784-400-20", or
    /// "1x28x28 conv 32,64 k4 s2 p1-20" for the conv model.
    pub fn name(&self) -> String {
        let input = match &self.conv {
            Some(conv) => conv.describe(),
            None => self.input_dim.to_string(),
        };
        let mut sizes = vec![input];
        let hidden = &self.hidden;
        if hidden.len() <= 8 {
            sizes.extend(hidden.iter().map(|h| h.to_string()));
        } else {
            // A name, not a listing: a 100,000-layer request once filled a 400 KB line.
            sizes.extend(hidden[..3].iter().map(|h| h.to_string()));
            sizes.push(format!("…({} hidden layers)…", hidden.len()));
            sizes.extend(hidden[hidden.len() - 2..].iter().map(|h| h.to_string()));
        }
        sizes.push(self.latent.to_string());
        sizes.join("-")
    }

    /// Number of scalar parameters, or `None` when it does not fit in a `usize`
    /// (sizes from flags and files are checked with this before anything is allocated).
    pub fn checked_param_count(&self) -> Option<usize> {
        self.param_shapes()
            .iter()
            .try_fold(0usize, |total, (_, s)| {
                total.checked_add(s.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_is_named_by_its_sizes_in_order() {
        assert_eq!(ModelConfig::default().name(), "784-400-20");
        let deep = ModelConfig {
            hidden: vec![200, 100],
            latent: 50,
            ..ModelConfig::default()
        };
        assert_eq!(deep.name(), "784-200-100-50");
        let huge = ModelConfig {
            hidden: (1..=100_000).collect(),
            ..ModelConfig::default()
        };
        assert_eq!(
            huge.name(),
            "784-1-2-3-…(100000 hidden layers)…-99999-100000-20"
        );
    }
}
