//! Optimizers (in progress).
#![warn(missing_docs)]
