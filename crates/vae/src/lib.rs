//! # vae: a variational autoencoder on MNIST
//!
//! Data (IDX files), the model and its loss (the negative ELBO), training, evaluation,
//! pictures, checkpoints and the command-line program, built on the [`tensor`] engine
//! and the [`optim`] optimizers.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod data;
mod error;
pub mod idx;
pub mod loss;
pub mod model;
pub mod tensor_file;

pub use error::{Error, Result};
pub use model::{Activation, ModelConfig, Vae};

/// Command-line entry point.
pub mod cli {
    /// Runs the program; returns the exit code.
    pub fn main() -> i32 {
        eprintln!("vae: training is not implemented yet");
        1
    }
}
