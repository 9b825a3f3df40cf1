//! # optim: the optimizers
//!
//! An optimizer turns gradients into parameter updates. It works on plain arrays
//! ([`Tensor`]s) — it knows nothing about the autodiff tape — and keeps its state
//! (momentum, Adam's moments, the step count) per parameter, **by position**: slot `i`
//! of `params` and `grads` must be the same parameter on every call.
//!
//! - [`Sgd`]: learning rate, momentum, dampening, Nesterov, L2 weight decay.
//! - [`Adam`]: Adam with bias correction, optional AMSGrad, and either L2 weight decay
//!   (PyTorch's `Adam(weight_decay=…)`) or decoupled decay (AdamW).
//! - [`Schedule`]: learning rate as a function of the epoch (or step).
//! - [`clip_grad_norm`] and [`clip_grad_value`].
//!
//! Every default equals PyTorch's, and the update rules reproduce PyTorch's trajectories
//! to 1e-12 (tests/optim_golden.rs). State can be saved as named tensors and restored
//! exactly ([`Optimizer::state`], [`Optimizer::load_state`]).
//!
//! ```
//! use optim::{Adam, AdamConfig, Optimizer};
//! use ndarray::array;
//!
//! // minimise (x − 4.2)²
//! let mut x = array![0.0f64].into_dyn();
//! let mut adam = Adam::new(AdamConfig { lr: 0.1, ..AdamConfig::default() });
//! for _ in 0..500 {
//!     let grad = (&x - 4.2) * 2.0;
//!     adam.step(&mut [&mut x], &[&grad]);
//! }
//! assert!((x[0] - 4.2).abs() < 1e-3);
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::fmt;

use ndarray::Zip;
pub use tensor::{Float, Tensor};

mod adam;
mod clip;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamConfig};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use schedule::Schedule;
pub use sgd::{Sgd, SgdConfig};

/// Updates parameters from their gradients, keeping per-parameter state by position.
pub trait Optimizer<T: Float> {
    /// One update of every parameter. Slot `i` must be the same parameter on every
    /// call (state is kept by position).
    ///
    /// # Panics
    /// If the slices differ in length, a gradient's shape differs from its
    /// parameter's, or the parameters changed shape or count since the last call.
    fn step(&mut self, params: &mut [&mut Tensor<T>], grads: &[&Tensor<T>]);

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (schedules call this once per epoch or step).
    fn set_lr(&mut self, lr: f64);

    /// Number of steps taken so far.
    fn steps(&self) -> u64;

    /// A copy of the state: the step count and named tensors (e.g. `m.0`, `v.0`, ...).
    fn state(&self) -> State<T>;

    /// Restores a state saved with [`state`](Optimizer::state), so that the next step
    /// continues exactly as the original run would have.
    fn load_state(&mut self, state: State<T>) -> Result<(), StateError>;
}

/// An optimizer's state as named tensors plus a step counter, for checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct State<T: Float> {
    /// Steps taken.
    pub step: u64,
    /// Named state tensors, e.g. `("m.3", first moment of parameter 3)`.
    pub tensors: Vec<(String, Tensor<T>)>,
}

/// Why a saved state could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError(pub String);

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "optimizer state: {}", self.0)
    }
}

impl std::error::Error for StateError {}

/// Arrays at least this long are updated on the rayon pool.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// Checks the `step` arguments agree, panicking with what differs.
fn check_step_args<T: Float>(
    name: &str,
    params: &[&mut Tensor<T>],
    grads: &[&Tensor<T>],
    slots: usize,
) {
    assert_eq!(
        params.len(),
        grads.len(),
        "{name}: {} parameters but {} gradients",
        params.len(),
        grads.len()
    );
    assert!(
        slots == 0 || slots == params.len(),
        "{name}: state holds {slots} parameters, this step passes {}",
        params.len()
    );
    for (i, (p, g)) in params.iter().zip(grads).enumerate() {
        assert_eq!(
            p.shape(),
            g.shape(),
            "{name}: parameter {i} has shape {:?}, its gradient {:?}",
            p.shape(),
            g.shape()
        );
    }
}

/// Per-parameter state tensors named `{prefix}.{i}`, gathered from a saved state.
fn take_slots<T: Float>(state: &mut State<T>, prefix: &str) -> Result<Vec<Tensor<T>>, StateError> {
    let mut slots: Vec<(usize, Tensor<T>)> = Vec::new();
    let mut rest = Vec::new();
    for (name, t) in state.tensors.drain(..) {
        match name.strip_prefix(prefix).and_then(|s| s.strip_prefix('.')) {
            Some(i) => {
                let i = i
                    .parse()
                    .map_err(|_| StateError(format!("bad tensor name '{name}'")))?;
                slots.push((i, t));
            }
            None => rest.push((name, t)),
        }
    }
    state.tensors = rest;
    slots.sort_by_key(|(i, _)| *i);
    for (expected, (i, _)) in slots.iter().enumerate() {
        if *i != expected {
            return Err(StateError(format!("'{prefix}.{expected}' is missing")));
        }
    }
    Ok(slots.into_iter().map(|(_, t)| t).collect())
}

/// Runs `f` over four equally shaped arrays elementwise, in parallel when large. The
/// one fused pass every update rule is written as (memory-bound: one read of each).
fn zip4<T: Float>(
    p: &mut Tensor<T>,
    g: &Tensor<T>,
    s1: &mut Tensor<T>,
    s2: &mut Tensor<T>,
    f: impl Fn(&mut T, T, &mut T, &mut T) + Sync + Send,
) {
    let zip = Zip::from(p).and(g).and(s1).and(s2);
    if g.len() >= PARALLEL_MIN_LEN {
        zip.par_for_each(|p, &g, a, b| f(p, g, a, b));
    } else {
        zip.for_each(|p, &g, a, b| f(p, g, a, b));
    }
}
