//! Adam and AdamW.
//!
//! Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
//! arXiv:1412.6980) keeps running averages of the gradient and its square:
//!
//! ```text
//! g ← ∇θ + λ·θ                          (L2 decay: Adam's weight_decay, PyTorch's form)
//! m ← β₁·m + (1 − β₁)·g                 (first moment)
//! v ← β₂·v + (1 − β₂)·g²                (second moment)
//! v_max ← max(v_max, v)                (AMSGrad only, Reddi et al., ICLR 2018: the raw v,
//!                                        as PyTorch; v̂ below then uses v_max)
//! m̂ = m / (1 − β₁ᵗ),   v̂ = v / (1 − β₂ᵗ)   (bias correction: m, v start at 0)
//! θ ← θ − lr · m̂ / (√v̂ + ε)
//! ```
//!
//! **Why divide by 1 − βᵗ.** Unrolling the recursion from m₀ = 0,
//!
//! ```text
//! m_t = (1 − β₁) Σ_{i=1..t} β₁^(t−i) g_i
//! E[m_t] = (1 − β₁) Σ_{i=1..t} β₁^(t−i) E[g]  = (1 − β₁ᵗ) E[g]     (if E[g_i] = E[g])
//! ```
//!
//! since the geometric sum is (1 − β₁ᵗ)/(1 − β₁). So m_t estimates (1 − β₁ᵗ)·E[g], too
//! small early on (at t = 1 by a factor 1 − β₁ = 0.1), and m̂ = m/(1 − β₁ᵗ) is unbiased;
//! the same for v with β₂ (at t = 1 by 1 − β₂ = 0.001). The two do not cancel: without
//! the corrections the first step would be lr·(1 − β₁)/√(1 − β₂) ≈ 3.2·lr instead of
//! lr, and the next ones larger still while √v lags behind m. As t grows, βᵗ → 0 and
//! the correction fades: the lesson `05_adam_on_a_quadratic` prints both.
//!
//! **L2 versus decoupled decay.** Adding `λ·θ` to the gradient (L2) sends the decay
//! through `m` and `v`, so weights with large gradients are decayed *less*: the decay
//! is rescaled by `1/√v̂`. AdamW (Loshchilov & Hutter, "Decoupled Weight Decay
//! Regularization", ICLR 2019, arXiv:1711.05101) instead shrinks the weight directly,
//! before the Adam step, by the same factor for every weight:
//!
//! ```text
//! θ ← θ·(1 − lr·λ)        then the Adam update above with g = ∇θ
//! ```
//!
//! We evaluate the update in PyTorch's operation order (`step_size = lr/(1−β₁ᵗ)`,
//! `denom = √v / √(1−β₂ᵗ) + ε`), which is why f64 trajectories agree with PyTorch's to
//! the last few bits.

use crate::{check_step_args, take_slots, zip4, Float, Optimizer, State, StateError, Tensor};

/// Adam settings. [`AdamConfig::default`] is PyTorch's `Adam`: `lr = 1e-3`,
/// `betas = (0.9, 0.999)`, `eps = 1e-8`, no weight decay, no AMSGrad.
/// [`AdamConfig::adamw`] is PyTorch's `AdamW`: the same with decoupled `weight_decay = 1e-2`.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moments.
    pub betas: (f64, f64),
    /// Added to √v̂ so the step stays finite where gradients vanish.
    pub eps: f64,
    /// Weight decay λ: L2 (into the gradient) or decoupled, see `decoupled`.
    pub weight_decay: f64,
    /// AdamW's decoupled decay `θ ← θ(1 − lr·λ)` instead of L2.
    pub decoupled: bool,
    /// Use the running maximum of v̂ (AMSGrad).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            amsgrad: false,
        }
    }
}

impl AdamConfig {
    /// PyTorch's `AdamW` defaults: Adam's, with decoupled `weight_decay = 1e-2`.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 1e-2,
            decoupled: true,
            ..AdamConfig::default()
        }
    }
}

/// Adam / AdamW (see the module docs for the update rule).
#[derive(Clone, Debug)]
pub struct Adam<T: Float> {
    config: AdamConfig,
    step: u64,
    m: Vec<Tensor<T>>,
    v: Vec<Tensor<T>>,
    /// Running maximum of v (AMSGrad only).
    v_max: Vec<Tensor<T>>,
}

impl<T: Float> Adam<T> {
    /// Adam with the given settings.
    pub fn new(config: AdamConfig) -> Self {
        Adam {
            config,
            step: 0,
            m: Vec::new(),
            v: Vec::new(),
            v_max: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn step(&mut self, params: &mut [&mut Tensor<T>], grads: &[&Tensor<T>]) {
        check_step_args("Adam", params, grads, self.m.len());
        if self.m.is_empty() {
            let zeros = || {
                grads
                    .iter()
                    .map(|g| Tensor::zeros(g.raw_dim()))
                    .collect::<Vec<_>>()
            };
            self.m = zeros();
            self.v = zeros();
            if self.config.amsgrad {
                self.v_max = zeros();
            }
        }
        self.step += 1;
        let c = &self.config;
        let t = self.step as i32;
        let (beta1, beta2) = c.betas;
        // Scalars in f64, rounded once: PyTorch computes them as Python floats.
        let step_size = T::of(c.lr / (1.0 - beta1.powi(t)));
        let correction2_sqrt = T::of((1.0 - beta2.powi(t)).sqrt());
        let (b1, b2, one_minus_b1, one_minus_b2) = (
            T::of(beta1),
            T::of(beta2),
            T::of(1.0 - beta1),
            T::of(1.0 - beta2),
        );
        let eps = T::of(c.eps);
        let l2 = T::of(if c.decoupled { 0.0 } else { c.weight_decay });
        let shrink = T::of(
            1.0 - if c.decoupled {
                c.lr * c.weight_decay
            } else {
                0.0
            },
        );

        // The moment updates (with either kind of decay), shared by both variants.
        let moments = |p: &mut T, g: T, m: &mut T, v: &mut T| {
            let g = g + l2 * *p;
            *p *= shrink;
            *m = b1 * *m + one_minus_b1 * g;
            *v = b2 * *v + one_minus_b2 * g * g;
        };
        if c.amsgrad {
            // AMSGrad needs a fifth array: a second pass keeps zip4's shape.
            zip4(params, grads, &mut self.m, &mut self.v, moments);
            let slots = self.m.iter().zip(&self.v).zip(&mut self.v_max);
            for (p, ((m, v), v_max)) in params.iter_mut().zip(slots) {
                ndarray::Zip::from(&mut **p)
                    .and(m)
                    .and(v)
                    .and(v_max)
                    .for_each(|p, &m, &v, v_max| {
                        *v_max = v_max.max(v);
                        *p -= step_size * m / (v_max.sqrt() / correction2_sqrt + eps);
                    });
            }
        } else {
            zip4(params, grads, &mut self.m, &mut self.v, |p, g, m, v| {
                moments(p, g, m, v);
                *p -= step_size * *m / (v.sqrt() / correction2_sqrt + eps);
            });
        }
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
        let named = |prefix: &str, ts: &[Tensor<T>]| {
            ts.iter()
                .enumerate()
                .map(|(i, t)| (format!("{prefix}.{i}"), t.clone()))
                .collect::<Vec<_>>()
        };
        let mut tensors = named("m", &self.m);
        tensors.extend(named("v", &self.v));
        tensors.extend(named("v_max", &self.v_max));
        State {
            step: self.step,
            tensors,
        }
    }

    fn load_state(&mut self, mut state: State<T>) -> Result<(), StateError> {
        // v_max first: "v_max.0" also starts with "v".
        let v_max = take_slots(&mut state, "v_max")?;
        let m = take_slots(&mut state, "m")?;
        let v = take_slots(&mut state, "v")?;
        if let Some((name, _)) = state.tensors.first() {
            return Err(StateError(format!("unexpected tensor '{name}' for Adam")));
        }
        if m.len() != v.len() || m.iter().zip(&v).any(|(m, v)| m.shape() != v.shape()) {
            return Err(StateError(format!(
                "{} first moments but {} second moments, or their shapes differ",
                m.len(),
                v.len()
            )));
        }
        if self.config.amsgrad && v_max.len() != m.len() {
            return Err(StateError(format!(
                "AMSGrad needs {} v_max tensors, found {}",
                m.len(),
                v_max.len()
            )));
        }
        if state.step > 0 && m.is_empty() {
            return Err(StateError(format!(
                "step is {} but the moments are missing",
                state.step
            )));
        }
        (self.m, self.v, self.v_max, self.step) = (m, v, v_max, state.step);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn first_step_moves_by_lr() {
        // t = 1: m̂ = g, v̂ = g²  ⇒  θ ← θ − lr·g/(|g| + ε) ≈ θ − lr·sign(g)
        let mut p = array![1.0f64, 1.0].into_dyn();
        let mut adam = Adam::new(AdamConfig {
            lr: 0.1,
            ..AdamConfig::default()
        });
        adam.step(&mut [&mut p], &[&array![3.0, -0.5].into_dyn()]);
        assert!(
            (p[0] - 0.9).abs() < 1e-8 && (p[1] - 1.1).abs() < 1e-7,
            "{p}"
        );
    }

    #[test]
    fn parameters_keep_independent_moments() {
        let (mut a, mut b) = (array![0.0f64].into_dyn(), array![0.0f64].into_dyn());
        let mut adam = Adam::new(AdamConfig::default());
        for _ in 0..3 {
            adam.step(
                &mut [&mut a, &mut b],
                &[&array![1.0].into_dyn(), &array![-100.0].into_dyn()],
            );
        }
        // m is linear in g: parameter 1's moment is −100 times parameter 0's
        let state = adam.state();
        let (m0, m1) = (state.tensors[0].1[0], state.tensors[1].1[0]);
        assert!((m0 * -100.0 - m1).abs() < 1e-12 * m1.abs(), "{m0} {m1}");
    }

    #[test]
    fn converges_on_a_quadratic_and_on_rosenbrock() {
        for config in [
            AdamConfig {
                lr: 0.05,
                ..AdamConfig::default()
            },
            AdamConfig {
                lr: 0.05,
                amsgrad: true,
                ..AdamConfig::default()
            },
        ] {
            let mut x = array![0.0f64, 0.0].into_dyn();
            let mut adam = Adam::new(config);
            for _ in 0..2000 {
                let g = (&x - &array![4.2, -3.0].into_dyn()) * 2.0;
                adam.step(&mut [&mut x], &[&g]);
            }
            assert!(
                (x[0] - 4.2).abs() < 1e-4 && (x[1] + 3.0).abs() < 1e-4,
                "{x}"
            );
        }
        // Rosenbrock f(x, y) = (1 − x)² + 100(y − x²)², minimum at (1, 1)
        let mut p = array![-1.5f64, 2.0].into_dyn();
        let mut adam = Adam::new(AdamConfig {
            lr: 0.02,
            ..AdamConfig::default()
        });
        for _ in 0..20_000 {
            let (x, y) = (p[0], p[1]);
            let g = array![
                -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                200.0 * (y - x * x)
            ]
            .into_dyn();
            adam.step(&mut [&mut p], &[&g]);
        }
        assert!(
            (p[0] - 1.0).abs() < 1e-3 && (p[1] - 1.0).abs() < 2e-3,
            "{p}"
        );
    }

    #[test]
    fn load_state_names_what_is_missing() {
        let mut adam = Adam::<f64>::new(AdamConfig::default());
        let state = State {
            step: 3,
            tensors: vec![
                ("m.0".into(), array![1.0].into_dyn()),
                ("v.1".into(), array![1.0].into_dyn()),
            ],
        };
        let err = adam.load_state(state).unwrap_err();
        assert!(err.0.contains("'v.0' is missing"), "{err}");
    }
}
