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
//! to 1e-12 (crates/optim/tests/golden.rs). State can be saved as named tensors and restored
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

use tensor::speed::parallel::zip4;
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

#[cfg(test)]
mod zip4_tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    /// The dispatched loop over slices (AVX2 where the CPU has it) and the plain ndarray
    /// loop (taken for arrays not laid out row-major) give identical bits for Adam.
    #[test]
    fn slice_and_strided_paths_agree_bit_for_bit() {
        let (rows, cols) = (300, 250); // 75,000 elements: the parallel, chunked path
        let value = |i: usize, j: usize, salt: usize| {
            (((i * 131 + j * 71 + salt * 17) % 1000) as f32 - 500.0) / 250.0
        };
        let make = |salt, column_major: bool| {
            let shape = (rows, cols).set_f(column_major);
            Array2::from_shape_fn(shape, |(i, j)| value(i, j, salt)).into_dyn()
        };
        let mut results = Vec::new();
        for column_major in [false, true] {
            let mut adam = Adam::new(AdamConfig::default());
            let mut p = make(0, column_major);
            for step in 1..=3 {
                let g = make(step, column_major);
                adam.step(&mut [&mut p], &[&g]);
            }
            assert_eq!(p.as_slice().is_some(), results.is_empty());
            results.push(p.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        }
        assert_eq!(results[0], results[1]);
    }

    /// One step over several parameters at once (one parallel region over all of their
    /// pieces, small and strided ones among them) updates each exactly as a step over
    /// that parameter alone, with and without AMSGrad.
    #[test]
    fn a_step_over_many_parameters_equals_one_per_parameter() {
        let value = |i: usize, salt: usize| (((i * 37 + salt * 101) % 997) as f32 - 498.0) / 300.0;
        let make = |shape: &[usize], salt: usize, column_major: bool| {
            let n = shape.iter().product::<usize>();
            let t =
                Tensor::from_shape_vec(shape.to_vec(), (0..n).map(|i| value(i, salt)).collect());
            let t = t.expect("the element count fits the shape");
            if column_major {
                t.reversed_axes()
                    .as_standard_layout()
                    .reversed_axes()
                    .to_owned()
            } else {
                t
            }
        };
        // 70,000 + 3 + 2,000 + 30,000 elements: the whole is parallel, one part alone not.
        let shapes: [(&[usize], bool); 4] = [
            (&[350, 200], false),
            (&[3], false),
            (&[40, 50], true),
            (&[30_000], false),
        ];
        for amsgrad in [false, true] {
            let config = AdamConfig {
                amsgrad,
                ..AdamConfig::default()
            };
            let mut together: Vec<Tensor<f32>> =
                shapes.iter().map(|&(s, f)| make(s, 0, f)).collect();
            let mut alone = together.clone();
            let mut adam = Adam::new(config.clone());
            let mut adams: Vec<Adam<f32>> =
                shapes.iter().map(|_| Adam::new(config.clone())).collect();
            for step in 1..=3 {
                let grads: Vec<Tensor<f32>> =
                    shapes.iter().map(|&(s, f)| make(s, step, f)).collect();
                adam.step(
                    &mut together.iter_mut().collect::<Vec<_>>(),
                    &grads.iter().collect::<Vec<_>>(),
                );
                for ((p, g), adam) in alone.iter_mut().zip(&grads).zip(&mut adams) {
                    adam.step(&mut [p], &[g]);
                }
            }
            for (a, b) in together.iter().zip(&alone) {
                assert_ne!(
                    a,
                    &make(a.shape(), 0, false),
                    "the step moved the parameter"
                );
                let bits = |t: &Tensor<f32>| t.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(a),
                    bits(b),
                    "amsgrad: {amsgrad}, shape {:?}",
                    a.shape()
                );
            }
        }
    }
}
