//! # vae: a variational autoencoder, from data to a crash-proof training run
//!
//! Built on the [`tensor`] engine and the [`optim`] optimizers. The folders follow the
//! pipeline, each one importing only those above it in this list:
//!
//! 1. [`io`]: atomic writes, fault points, verified safetensors files;
//! 2. [`data`]: images in (IDX folders, image folders, `.npy`), kept as bytes, batched;
//! 3. [`model`]: the architecture, the parameters, the forward pass, checkpoints;
//! 4. [`objective`]: the negative ELBO, the IWAE bound, evaluation;
//! 5. [`train`]: settings, limits, the step and the epoch, metrics;
//! 6. [`outputs`]: pictures, plots, the latent-space tools, exported tables;
//! 7. [`run`]: a run in its folder: start, resume, commit, report;
//! 8. [`cli`]: the `vae` program, one file per subcommand.
//!
//! [`error`] holds the one error type every part returns. The crate root re-exports
//! [`Error`], [`Result`], [`Vae`], [`ModelConfig`] and [`Activation`], the names a
//! program that uses the library needs first.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod cli;
pub mod data;
pub mod error;
pub mod io;
pub mod model;
pub mod objective;
pub mod outputs;
pub mod run;
pub mod train;

pub use error::{Error, Result};
pub use model::activation::Activation;
pub use model::config::ModelConfig;
pub use model::vae::Vae;
