//! A run's figures per epoch: the lines of `metrics.jsonl`.
//!
//! The training state keeps the history without its wall-clock fields, so that two
//! identical runs write identical state files; `metrics.jsonl` is an export of that
//! history with the timings, rewritten (atomically) after every epoch.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomically;
use crate::Result;

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
    /// Test loss (negative ELBO with the final β, z sampled).
    pub test_loss: f64,
    /// Test reconstruction term.
    pub test_recon: f64,
    /// Test KL term.
    pub test_kl: f64,
    /// Wall time of the epoch's training steps and test pass (null when not known).
    pub seconds: Option<f64>,
    /// Training images per second, training steps only (null when not known).
    pub samples_per_sec: Option<f64>,
    /// Learning rate used.
    pub lr: f64,
    /// β at the end of the epoch.
    pub beta: f64,
    /// Latent units active on the test set: Cov_x(E_q\[z_j\]) > 0.01 (Burda et al.).
    #[serde(default)]
    pub active_units: usize,
}

impl EpochMetrics {
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
    let text = fs::read_to_string(path).unwrap_or_default();
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

    fn epoch(e: usize, loss: f64) -> EpochMetrics {
        EpochMetrics {
            epoch: e,
            train_loss: loss,
            train_recon: loss - 1.0,
            train_kl: 1.0,
            test_loss: loss,
            test_recon: loss - 1.0,
            test_kl: 1.0,
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
