//! A variational autoencoder from first principles. This package re-exports the
//! workspace's three crates so that the cross-crate tests and benchmarks can use them:
//! [`tensor`] (tensors, autodiff, kernel, gradcheck), [`optim`] (optimizers) and [`vae`].

pub use optim;
pub use tensor;
pub use vae;
