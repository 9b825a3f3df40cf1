//! Stochastic gradient descent with momentum, dampening, Nesterov and weight decay,
//! exactly as PyTorch's `torch.optim.SGD`.
//!
//! ```text
//! g ← ∇θ + λ·θ                         (L2 weight decay, λ = weight_decay)
//! with momentum μ > 0:
//!   b ← g                              on the first step
//!   b ← μ·b + (1 − τ)·g                after  (τ = dampening)
//!   g ← g + μ·b   (Nesterov)   or   g ← b   (classical)
//! θ ← θ − lr·g
//! ```
//! Nesterov momentum as formulated by Sutskever et al., "On the importance of
//! initialization and momentum in deep learning" (ICML 2013), in PyTorch's form.

use ndarray::Zip;

use crate::{check_step_args, take_slots, Float, Optimizer, State, StateError, Tensor};

/// SGD settings. Defaults are PyTorch's: `lr = 1e-3`, no momentum, no dampening, no
/// weight decay, no Nesterov.
#[derive(Clone, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor μ (0 disables momentum).
    pub momentum: f64,
    /// Dampening τ of the gradient added to the momentum buffer.
    pub dampening: f64,
    /// L2 penalty λ, added to the gradient as λ·θ.
    pub weight_decay: f64,
    /// Nesterov momentum (needs momentum > 0 and dampening = 0).
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// Stochastic gradient descent (see the module docs for the update rule).
#[derive(Clone, Debug)]
pub struct Sgd<T: Float> {
    config: SgdConfig,
    step: u64,
    /// One momentum buffer per parameter (empty until the first step with momentum).
    momentum: Vec<Tensor<T>>,
}

impl<T: Float> Sgd<T> {
    /// SGD with the given settings.
    ///
    /// # Panics
    /// If Nesterov is asked for without momentum or with dampening (as PyTorch refuses).
    pub fn new(config: SgdConfig) -> Self {
        assert!(
            !config.nesterov || (config.momentum > 0.0 && config.dampening == 0.0),
            "SGD: Nesterov momentum requires momentum > 0 and dampening = 0"
        );
        Sgd {
            config,
            step: 0,
            momentum: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn step(&mut self, params: &mut [&mut Tensor<T>], grads: &[&Tensor<T>]) {
        check_step_args("SGD", params, grads, self.momentum.len());
        let c = &self.config;
        let (lr, mu, wd) = (T::of(c.lr), T::of(c.momentum), T::of(c.weight_decay));
        let keep = T::of(1.0 - c.dampening);
        let first = self.momentum.is_empty();
        if c.momentum != 0.0 && first {
            self.momentum = grads.iter().map(|g| Tensor::zeros(g.raw_dim())).collect();
        }
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            if c.momentum == 0.0 {
                Zip::from(&mut **p)
                    .and(*g)
                    .for_each(|p, &g| *p -= lr * (g + wd * *p));
                continue;
            }
            let nesterov = c.nesterov;
            Zip::from(&mut **p)
                .and(*g)
                .and(&mut self.momentum[i])
                .for_each(|p, &g, b| {
                    let g = g + wd * *p;
                    *b = if first { g } else { mu * *b + keep * g };
                    let step = if nesterov { g + mu * *b } else { *b };
                    *p -= lr * step;
                });
        }
        self.step += 1;
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn steps(&self) -> u64 {
        self.step
    }

    fn state(&self) -> State<T> {
        let tensors = self
            .momentum
            .iter()
            .enumerate()
            .map(|(i, b)| (format!("momentum.{i}"), b.clone()))
            .collect();
        State {
            step: self.step,
            tensors,
        }
    }

    fn load_state(&mut self, mut state: State<T>) -> Result<(), StateError> {
        let momentum = take_slots(&mut state, "momentum")?;
        if let Some((name, _)) = state.tensors.first() {
            return Err(StateError(format!("unexpected tensor '{name}' for SGD")));
        }
        if self.config.momentum != 0.0 && state.step > 0 && momentum.is_empty() {
            return Err(StateError("momentum buffers are missing".into()));
        }
        self.momentum = momentum;
        self.step = state.step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_plain_step_by_hand() {
        // θ = 1, g = 0.5, lr = 0.1  ⇒  θ = 1 − 0.05 = 0.95
        let mut p = array![1.0f64].into_dyn();
        let mut sgd = Sgd::new(SgdConfig {
            lr: 0.1,
            ..SgdConfig::default()
        });
        sgd.step(&mut [&mut p], &[&array![0.5].into_dyn()]);
        assert_eq!(p[0], 0.95);
    }

    #[test]
    fn momentum_by_hand() {
        // μ = 0.9, lr = 1, g = 1 each step: b = 1 then 1.9; θ = 0 − 1 − 1.9 = −2.9
        let mut p = array![0.0f64].into_dyn();
        let mut sgd = Sgd::new(SgdConfig {
            lr: 1.0,
            momentum: 0.9,
            ..SgdConfig::default()
        });
        let g = array![1.0].into_dyn();
        sgd.step(&mut [&mut p], &[&g]);
        sgd.step(&mut [&mut p], &[&g]);
        assert!((p[0] + 2.9).abs() < 1e-15);
    }

    #[test]
    #[should_panic(expected = "Nesterov momentum requires momentum > 0")]
    fn nesterov_without_momentum_is_refused() {
        Sgd::<f64>::new(SgdConfig {
            nesterov: true,
            ..SgdConfig::default()
        });
    }

    #[test]
    fn converges_on_a_quadratic() {
        // f(x) = Σ (x − c)², minimum at c
        for config in [
            SgdConfig {
                lr: 0.1,
                ..SgdConfig::default()
            },
            SgdConfig {
                lr: 0.05,
                momentum: 0.9,
                ..SgdConfig::default()
            },
            SgdConfig {
                lr: 0.05,
                momentum: 0.9,
                nesterov: true,
                ..SgdConfig::default()
            },
        ] {
            let target = array![4.2, -1.0, 0.5].into_dyn();
            let mut x = array![0.0f64, 0.0, 0.0].into_dyn();
            let mut sgd = Sgd::new(config.clone());
            for _ in 0..500 {
                let g = (&x - &target) * 2.0;
                sgd.step(&mut [&mut x], &[&g]);
            }
            let err = (&x - &target).mapv(f64::abs).fold(0.0f64, |m, &e| m.max(e));
            assert!(err < 1e-6, "{config:?}: error {err}");
        }
    }
}
