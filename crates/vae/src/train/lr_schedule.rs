//! `--lr-schedule`: the forms the flag takes, parsed into an [`optim::Schedule`].

use optim::Schedule;

use crate::error::{Error, Result};
use crate::train::settings::Settings;

impl Settings {
    /// The learning-rate schedule over epochs, parsed from `lr_schedule`:
    ///
    /// | form | meaning |
    /// |---|---|
    /// | `constant` | `--lr` throughout |
    /// | `step:EVERY:GAMMA` | × GAMMA every EVERY epochs |
    /// | `exp:GAMMA` | × GAMMA every epoch |
    /// | `cosine:MIN_LR` | cosine from `--lr` down to MIN_LR over the run |
    /// | `piecewise:E1=LR1,E2=LR2,...` | LR1 for E1 epochs, then LR2 for E2, ... |
    /// | `iwae` | the IWAE paper's 3ⁱ epochs at 1e-3·10^(−i/7), i = 0..7 (3,280 epochs) |
    ///
    /// with `lr_warmup` epochs of linear warm-up in front.
    pub fn schedule(&self) -> Result<Schedule> {
        let bad =
            |why: &str| Error::config("--lr-schedule", format!("'{}': {why}", self.lr_schedule));
        let number = |s: &str| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| bad(&format!("'{s}' is not a non-negative number")))
        };
        let count = |s: &str| {
            s.parse::<u64>()
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| bad(&format!("'{s}' is not a positive whole number")))
        };
        let parts: Vec<&str> = self.lr_schedule.split(':').collect();
        let schedule = match parts.as_slice() {
            ["constant"] => Schedule::Constant,
            ["step", every, gamma] => Schedule::Step {
                every: count(every)?,
                gamma: number(gamma)?,
            },
            ["exp", gamma] => Schedule::Exponential {
                gamma: number(gamma)?,
            },
            ["cosine", min_lr] => Schedule::Cosine {
                total: self.epochs.max(1) as u64,
                min_lr: number(min_lr)?,
            },
            ["iwae"] => Schedule::piecewise(
                (0..8).map(|i| (3u64.pow(i), 1e-3 * 10f64.powf(-(i as f64) / 7.0))),
            ),
            ["piecewise", pieces] => Schedule::Piecewise(
                pieces
                    .split(',')
                    .map(|piece| {
                        let (epochs, lr) = piece
                            .split_once('=')
                            .ok_or_else(|| bad("pieces are EPOCHS=LR, comma-separated"))?;
                        Ok((count(epochs)?, number(lr)?))
                    })
                    .collect::<Result<_>>()?,
            ),
            _ => {
                return Err(bad(
                    "expected constant, step:EVERY:GAMMA, exp:GAMMA, cosine:MIN_LR, \
                piecewise:E1=LR1,... or iwae",
                ))
            }
        };
        Ok(if self.lr_warmup > 0 {
            schedule.with_warmup(self.lr_warmup as u64)
        } else {
            schedule
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(spec: &str) -> Settings {
        Settings {
            lr_schedule: spec.into(),
            ..Settings::default()
        }
    }

    #[test]
    fn schedules_parse() {
        assert_eq!(with("constant").schedule().unwrap(), Schedule::Constant);
        assert_eq!(
            with("step:5:0.5").schedule().unwrap(),
            Schedule::Step {
                every: 5,
                gamma: 0.5
            }
        );
        assert_eq!(
            with("piecewise:2=1e-3,3=1e-4").schedule().unwrap(),
            Schedule::Piecewise(vec![(2, 1e-3), (3, 1e-4)])
        );
        // The IWAE paper: 3ⁱ epochs at 1e-3·10^(−i/7), i = 0..7. Epoch e (0-based) is in
        // stage i when 3⁰ + … + 3ⁱ⁻¹ ≤ e < 3⁰ + … + 3ⁱ: the stages end at 1, 4, 13, …, 3280.
        let iwae = with("iwae").schedule().unwrap();
        assert_eq!(iwae.total(), Some(3280));
        let ends = [1u64, 4, 13, 40, 121, 364, 1093, 3280];
        for (i, &end) in ends.iter().enumerate() {
            let lr = 1e-3 * 10f64.powf(-(i as f64) / 7.0);
            let start = if i == 0 { 0 } else { ends[i - 1] };
            assert_eq!(end - start, 3u64.pow(i as u32));
            for e in [start, end - 1] {
                assert!(
                    (iwae.lr(1e-3, e) - lr).abs() < 1e-15,
                    "epoch {e}: {}",
                    iwae.lr(1e-3, e)
                );
            }
        }
        let warm = Settings {
            lr_warmup: 2,
            ..with("exp:0.9")
        };
        assert_eq!(warm.schedule().unwrap().lr(1.0, 0), 0.5);
    }

    #[test]
    fn bad_schedules_name_the_flag() {
        for spec in ["linear", "step:0:0.5", "exp:-1", "piecewise:3", "cosine:x"] {
            let err = with(spec).schedule().unwrap_err().to_string();
            assert!(err.starts_with("--lr-schedule"), "{spec}: {err}");
        }
    }
}
