//! A run's figures per epoch: the lines of `metrics.jsonl`.
//!
//! The training state keeps the history without its wall-clock fields, so that two
//! identical runs write identical state files; `metrics.jsonl` is an export of that
//! history with the timings, rewritten (atomically) after every epoch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::io::atomic::write_atomically;
use crate::io::bounded::{read_text_bounded, FileKind};
use crate::io::console::note;

/// One epoch's figures: a line of metrics.jsonl.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch (β as used in training).
    pub train_loss: f64,
    /// Mean training reconstruction term.
    pub train_recon: f64,
    /// Mean training KL term.
    pub train_kl: f64,
    /// Test loss (negative ELBO with the final β, z sampled); absent when the data has
    /// no test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<f64>,
    /// Test reconstruction term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_recon: Option<f64>,
    /// Test KL term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_kl: Option<f64>,
    /// Validation loss (as the test loss, on the images `--valid-fraction` held out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_loss: Option<f64>,
    /// Validation reconstruction term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_recon: Option<f64>,
    /// Validation KL term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_kl: Option<f64>,
    /// Wall time of the epoch's training steps and test pass (null when not known).
    pub seconds: Option<f64>,
    /// Training images per second, training steps only (null when not known).
    pub samples_per_sec: Option<f64>,
    /// Learning rate used.
    pub lr: f64,
    /// β at the end of the epoch.
    pub beta: f64,
    /// Latent units active on the held-out set (test, else validation, else training):
    /// Cov_x(E_q\[z_j\]) > 0.01 (Burda et al.).
    #[serde(default)]
    pub active_units: usize,
}

impl EpochMetrics {
    /// The loss on held-out data: the test loss, else the validation loss.
    pub fn held_out_loss(&self) -> Option<f64> {
        self.test_loss.or(self.valid_loss)
    }

    /// One line for the terminal: the epoch's losses and speed.
    pub fn summary(&self, epochs: usize) -> String {
        let mut line = format!(
            "epoch {:>3}/{epochs}  train {:.2}",
            self.epoch, self.train_loss
        );
        for (name, loss, recon, kl) in [
            ("test", self.test_loss, self.test_recon, self.test_kl),
            ("valid", self.valid_loss, self.valid_recon, self.valid_kl),
        ] {
            if let (Some(l), Some(r), Some(k)) = (loss, recon, kl) {
                line += &format!("  {name} {l:.2} (recon {r:.2} + KL {k:.2})");
            }
        }
        line + &format!(
            "  {:.1} s  {:.0} img/s",
            self.seconds.unwrap_or(0.0),
            self.samples_per_sec.unwrap_or(0.0)
        )
    }

    /// The same figures without the wall-clock ones (what the training state keeps).
    pub fn without_timings(&self) -> Self {
        EpochMetrics {
            seconds: None,
            samples_per_sec: None,
            ..self.clone()
        }
    }
}

/// Writes `history` as JSON lines, atomically.
pub fn write_jsonl(path: &Path, history: &[EpochMetrics]) -> Result<()> {
    let mut text = String::new();
    for m in history {
        text += &serde_json::to_string(m).expect("metrics serialize");
        text.push('\n');
    }
    write_atomically(path, text.as_bytes())
}

/// Fills in the timings of `history` (read from a training state) from the lines of an
/// earlier `metrics.jsonl` that agree with it in every other figure. Lines that do not
/// agree, or a missing or unreadable file, leave the timings unknown: the state decides.
pub fn restore_timings(history: &mut [EpochMetrics], path: &Path) {
    let text = match read_text_bounded(path, FileKind::Text) {
        Ok(text) => text,
        Err(e) => {
            if path.exists() {
                note!("note: {e}; the earlier epochs' timings are not restored");
            }
            String::new()
        }
    };
    let old: Vec<EpochMetrics> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for m in history.iter_mut() {
        if let Some(o) = old.iter().find(|o| o.without_timings() == *m) {
            m.seconds = o.seconds;
            m.samples_per_sec = o.samples_per_sec;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn epoch(e: usize, loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch: e,
            train_loss: loss,
            train_recon: loss - 1.0,
            train_kl: 1.0,
            test_loss: Some(loss),
            test_recon: Some(loss - 1.0),
            test_kl: Some(1.0),
            valid_loss: None,
            valid_recon: None,
            valid_kl: None,
            seconds: Some(2.0),
            samples_per_sec: Some(30000.0),
            lr: 1e-3,
            beta: 1.0,
            active_units: 3,
        }
    }

    #[test]
    fn timings_come_back_only_for_agreeing_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        write_jsonl(&path, &[epoch(1, 150.0), epoch(2, 999.0)]).unwrap();
        let mut history = vec![
            epoch(1, 150.0).without_timings(),
            epoch(2, 140.0).without_timings(),
        ];
        restore_timings(&mut history, &path);
        assert_eq!(history[0], epoch(1, 150.0));
        assert_eq!(history[1].seconds, None, "line 2 disagrees: {history:?}");
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("\"seconds\":2.0"));
    }
}
