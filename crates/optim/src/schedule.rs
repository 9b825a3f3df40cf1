//! Learning-rate schedules: the learning rate as a function of a counter `t`
//! (epochs or steps, the caller decides), starting at `t = 0`.
//!
//! ```text
//! Constant               lr(t) = base
//! Step { every, gamma }  lr(t) = base · γ^⌊t / every⌋
//! Exponential { gamma }  lr(t) = base · γᵗ
//! Cosine { total, min }  lr(t) = min + (base − min)·(1 + cos(π·t/total))/2,  min after total
//! Piecewise [(n₀, lr₀), (n₁, lr₁), …]   lr₀ for n₀ units, then lr₁ for n₁, …; the last lr after
//! Warmup { steps, then } lr(t) = then(0)·(t + 1)/steps for t < steps, then(t − steps) after
//! ```
//!
//! The IWAE paper's schedule (3ⁱ epochs at 1e-3·10^(−i/7), i = 0..7) in one line:
//! ```
//! # use optim::Schedule;
//! let iwae = Schedule::piecewise((0..8).map(|i| (3u64.pow(i), 1e-3 * 10f64.powf(-(i as f64) / 7.0))));
//! assert_eq!(iwae.lr(1e-3, 0), 1e-3);
//! assert_eq!(iwae.total(), Some(3280));
//! ```

/// A learning-rate schedule (see the module docs for each formula).
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// The base rate throughout.
    Constant,
    /// Multiply by `gamma` every `every` units.
    Step {
        /// Units between decays.
        every: u64,
        /// Decay factor.
        gamma: f64,
    },
    /// Multiply by `gamma` every unit.
    Exponential {
        /// Decay factor per unit.
        gamma: f64,
    },
    /// Half a cosine from the base rate down to `min_lr` over `total` units.
    Cosine {
        /// Length of the annealing.
        total: u64,
        /// Final learning rate.
        min_lr: f64,
    },
    /// Absolute rates for consecutive durations: `(units, lr)` pairs.
    Piecewise(Vec<(u64, f64)>),
    /// Linear warm-up over `steps` units in front of another schedule.
    Warmup {
        /// Length of the warm-up.
        steps: u64,
        /// The schedule that follows (its `t` starts at 0 after the warm-up).
        then: Box<Schedule>,
    },
}

impl Schedule {
    /// A piecewise-constant schedule from `(units, lr)` pairs.
    pub fn piecewise(pieces: impl IntoIterator<Item = (u64, f64)>) -> Self {
        Schedule::Piecewise(pieces.into_iter().collect())
    }

    /// This schedule behind a linear warm-up of `steps` units.
    pub fn with_warmup(self, steps: u64) -> Self {
        Schedule::Warmup {
            steps,
            then: Box::new(self),
        }
    }

    /// The learning rate at `t` for a base rate `base`.
    pub fn lr(&self, base: f64, t: u64) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => base * gamma.powi((t / (*every).max(1)) as i32),
            Schedule::Exponential { gamma } => base * gamma.powi(t as i32),
            Schedule::Cosine { total, min_lr } => {
                let progress = (t.min(*total) as f64) / (*total).max(1) as f64;
                min_lr + (base - min_lr) * (1.0 + (std::f64::consts::PI * progress).cos()) / 2.0
            }
            Schedule::Piecewise(pieces) => {
                let mut end = 0;
                for &(units, lr) in pieces {
                    end += units;
                    if t < end {
                        return lr;
                    }
                }
                pieces.last().map_or(base, |&(_, lr)| lr)
            }
            Schedule::Warmup { steps, then } => {
                if t < *steps {
                    then.lr(base, 0) * (t + 1) as f64 / *steps as f64
                } else {
                    then.lr(base, t - steps)
                }
            }
        }
    }

    /// The length of a schedule that ends (piecewise), if it has one.
    pub fn total(&self) -> Option<u64> {
        match self {
            Schedule::Piecewise(pieces) => Some(pieces.iter().map(|p| p.0).sum()),
            Schedule::Warmup { steps, then } => then.total().map(|t| t + steps),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warmup_adds_its_steps_to_a_piecewise_length() {
        let pieces = Schedule::Piecewise(vec![(3, 1.0), (4, 0.5)]);
        assert_eq!(pieces.total(), Some(7));
        let warm = Schedule::Warmup {
            steps: 2,
            then: Box::new(pieces),
        };
        assert_eq!(warm.total(), Some(9));
        assert_eq!(Schedule::Constant.total(), None);
    }

    #[test]
    fn step_decay_boundaries() {
        let s = Schedule::Step {
            every: 10,
            gamma: 0.5,
        };
        assert_eq!(s.lr(1.0, 9), 1.0);
        assert_eq!(s.lr(1.0, 10), 0.5);
        assert_eq!(s.lr(1.0, 20), 0.25);
    }

    #[test]
    fn exponential_and_constant() {
        assert_eq!(Schedule::Exponential { gamma: 0.5 }.lr(2.0, 3), 0.25);
        assert_eq!(Schedule::Constant.lr(0.1, 1000), 0.1);
    }

    #[test]
    fn cosine_endpoints_and_middle() {
        let s = Schedule::Cosine {
            total: 100,
            min_lr: 0.1,
        };
        assert_eq!(s.lr(1.0, 0), 1.0);
        assert!((s.lr(1.0, 50) - 0.55).abs() < 1e-12);
        assert!((s.lr(1.0, 100) - 0.1).abs() < 1e-12);
        assert!((s.lr(1.0, 500) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn piecewise_boundaries_follow_the_iwae_schedule() {
        let s = Schedule::piecewise(
            (0..8).map(|i| (3u64.pow(i), 1e-3 * 10f64.powf(-(i as f64) / 7.0))),
        );
        assert_eq!(s.lr(0.0, 0), 1e-3); // i = 0: 1 epoch
        assert_eq!(s.lr(0.0, 1), 1e-3 * 10f64.powf(-1.0 / 7.0)); // i = 1 starts at epoch 1
        assert_eq!(s.lr(0.0, 3), 1e-3 * 10f64.powf(-1.0 / 7.0)); // ... and lasts 3 epochs
        assert_eq!(s.lr(0.0, 4), 1e-3 * 10f64.powf(-2.0 / 7.0)); // i = 2 from epoch 1 + 3
        assert_eq!(s.lr(0.0, 3279), 1e-4); // last epoch of i = 7
        assert_eq!(s.lr(0.0, 5000), 1e-4); // after the end: the last rate
    }

    #[test]
    fn warmup_ramps_then_hands_over() {
        let s = Schedule::Step {
            every: 2,
            gamma: 0.1,
        }
        .with_warmup(4);
        assert_eq!(s.lr(1.0, 0), 0.25);
        assert_eq!(s.lr(1.0, 3), 1.0);
        assert_eq!(s.lr(1.0, 4), 1.0); // the inner schedule's t = 0
        assert!((s.lr(1.0, 6) - 0.1).abs() < 1e-15); // inner t = 2
    }
}
