//! # vae: a variational autoencoder on MNIST
//!
//! Data (IDX files), the model and its loss (the negative ELBO), training, evaluation,
//! pictures, checkpoints and the command-line program, built on the [`tensor`] engine
//! and the [`optim`] optimizers.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod activation;
pub mod atomic;
pub mod checkpoint;
pub mod cli;
pub mod data;
mod error;
pub mod eval;
pub mod exports;
pub mod faults;
pub mod fingerprint;
pub mod idx;
pub mod images;
pub mod init;
pub mod iwae;
pub mod latent;
pub mod layers;
pub mod limits;
pub mod loss;
pub mod lr_schedule;
pub mod metrics;
pub mod model;
pub mod pictures;
pub mod plots;
pub mod report;
pub mod resume;
pub mod rng;
pub mod run;
pub mod run_folder;
pub mod run_outputs;
pub mod settings;
pub mod state;
pub mod tensor_file;
pub mod train;

pub use error::{Error, Result};
pub use model::{Activation, ModelConfig, Vae};
