//! The architecture: layer sizes and the nonlinearity, what a checkpoint's metadata
//! records, and from which every parameter's name and shape follow.

use crate::model::activation::Activation;

/// The architecture: what a checkpoint's metadata records.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// Pixels per image (784 for MNIST).
    pub input_dim: usize,
    /// Encoder hidden sizes; the decoder uses them in reverse.
    pub hidden: Vec<usize>,
    /// Size of z.
    pub latent: usize,
    /// Hidden-layer nonlinearity.
    pub activation: Activation,
}

impl Default for ModelConfig {
    /// The canonical PyTorch example: 784-400-20, ReLU.
    fn default() -> Self {
        ModelConfig {
            input_dim: 784,
            hidden: vec![400],
            latent: 20,
            activation: Activation::Relu,
        }
    }
}

impl ModelConfig {
    /// Every parameter's name and shape, in the model's fixed order.
    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let mut shapes = Vec::new();
        let mut layer = |name: String, inp: usize, out: usize| {
            shapes.push((format!("{name}.weight"), vec![out, inp]));
            shapes.push((format!("{name}.bias"), vec![out]));
        };
        let mut inp = self.input_dim;
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
        layer("decoder.out".into(), inp, self.input_dim);
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

    /// The sizes as a name for messages and reports: "784-400-20".
    pub fn name(&self) -> String {
        let mut sizes = vec![self.input_dim];
        sizes.extend(&self.hidden);
        sizes.push(self.latent);
        sizes
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join("-")
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
    }
}
