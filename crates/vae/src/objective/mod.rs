//! What training minimises and evaluation reports.
//!
//! - [`loss`]: the negative ELBO, reconstruction plus KL in closed form;
//! - [`iwae`]: the importance-weighted bound with K samples, as a training objective;
//! - [`eval`]: a model scored on a set: the test ELBO and its terms, the bound with
//!   k = 5000 samples (the log-likelihood estimate), active units.

pub mod eval;
pub mod iwae;
pub mod loss;
