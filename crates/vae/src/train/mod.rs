//! Training: the settings of a run, and its steps and epochs.
//!
//! - [`settings`]: everything `vae train` is configured by, validated in one place, with
//!   the learning-rate schedules in [`lr_schedule`] and the model they build in
//!   [`architecture`];
//! - [`limits`]: sizes from flags and files, checked before anything is allocated;
//! - [`fingerprint`]: what a run trains on, and the digest `--resume` compares;
//! - [`trainer`]: one step (forward, backward, Adam) and one epoch, each epoch with its
//!   own random stream;
//! - [`metrics`]: each epoch's figures, the lines of `metrics.jsonl`.

pub mod architecture;
pub mod fingerprint;
pub mod limits;
pub mod lr_schedule;
pub mod metrics;
pub mod settings;
pub mod trainer;
