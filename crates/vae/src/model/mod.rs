//! The VAE itself: its architecture, its parameters and its forward pass.
//!
//! - [`config`]: the architecture (`784-400-20`, ReLU), what a checkpoint records, and
//!   [`conv_shape`]: the convolutional model's layer sizes;
//! - [`vae`]: the parameters and the forward pass `x → (μ, logvar) → z → logits`, with
//!   the reparameterization;
//! - [`layers`]: the parameters on the tape, named as the math reads;
//! - [`activation`] and [`init`]: the nonlinearities, and how parameters start;
//! - [`checkpoint`]: the weights file, as PyTorch's state dict names it, and
//!   [`trained_on`]: the data it records having been trained on.

pub mod activation;
pub mod checkpoint;
pub mod config;
pub mod conv_metadata;
pub mod conv_shape;
pub mod init;
pub mod layers;
pub mod trained_on;
pub mod vae;
