//! The run folder: which files a run writes, and the housekeeping around them.
//!
//! ```text
//! state-epoch-0010.safetensors   the training state after epoch 10: what --resume reads
//! state-epoch-0009.safetensors   older states, with --keep-checkpoints 2 or more
//! checkpoint.safetensors         the latest weights, for eval/sample and PyTorch
//! metrics.jsonl                  one line of figures per epoch
//! loss_curve.svg                 training and test loss per epoch
//! samples.png                    new digits, from the final model
//! reconstructions.png            test digits over their reconstructions
//! .lock                          held while a run writes here
//! ```
//! Every file is written atomically; the state is written first each epoch, so the other
//! files (the "exports") can always be rewritten from it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The latest weights.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// Figures per epoch.
pub const METRICS: &str = "metrics.jsonl";
/// The loss charts, as SVG and PNG.
pub const LOSS_CURVE: &str = "loss_curve.svg";
/// The loss charts as PNG.
pub const LOSS_CURVE_PNG: &str = "loss_curve.png";
/// Generated digits.
pub const SAMPLES: &str = "samples.png";
/// Test digits over their reconstructions.
pub const RECONSTRUCTIONS: &str = "reconstructions.png";
/// Paths between images' codes (rewritten on every pictures epoch).
pub const INTERPOLATION: &str = "interpolation.png";
/// The held-out images' codes, by label (rewritten on every pictures epoch).
pub const LATENT_MAP: &str = "latent_map.png";
/// The run at a glance, rewritten after every epoch.
pub const REPORT: &str = "report.html";
/// Prefixes of the pictures written on pictures epochs (`PREFIX` + `NNNN.png`).
pub const EPOCH_PICTURES: [&str; 2] = ["samples_epoch", "reconstructions_epoch"];
/// The optimizer state of runs written by earlier versions (weights and state in two
/// files, which a crash could leave from different epochs): recognised, never resumed.
pub const OLD_STATE: &str = "checkpoint.train.safetensors";
const LOCK: &str = ".lock";
const OUTPUTS: [&str; 10] = [
    CHECKPOINT,
    METRICS,
    LOSS_CURVE,
    LOSS_CURVE_PNG,
    INTERPOLATION,
    LATENT_MAP,
    REPORT,
    SAMPLES,
    RECONSTRUCTIONS,
    OLD_STATE,
];

/// True for the names of the files a run writes: its outputs, its states
/// (`state-epoch-NNNN.safetensors`) and its pictures per epoch.
fn is_run_file(name: &str) -> bool {
    let numbered = |prefix: &str, suffix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    OUTPUTS.contains(&name)
        || numbered("state-epoch-", ".safetensors")
        || EPOCH_PICTURES.iter().any(|p| numbered(p, ".png"))
}

/// A run folder.
#[derive(Clone, Debug)]
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// The run folder `dir` (nothing is created yet).
    pub fn new(dir: &Path) -> Self {
        RunFolder {
            dir: dir.to_path_buf(),
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file `name` in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The picture `prefix` (one of [`EPOCH_PICTURES`]) of `epoch`.
    pub fn epoch_picture(&self, prefix: &str, epoch: usize) -> PathBuf {
        self.dir.join(format!("{prefix}{epoch:04}.png"))
    }

    /// The training state after `epoch`.
    pub fn state(&self, epoch: usize) -> PathBuf {
        self.dir.join(format!("state-epoch-{epoch:04}.safetensors"))
    }

    /// The training states present, oldest first.
    pub fn states(&self) -> Result<Vec<(usize, PathBuf)>> {
        let mut states: Vec<(usize, PathBuf)> = self
            .names()?
            .into_iter()
            .filter_map(|name| {
                let epoch = name
                    .strip_prefix("state-epoch-")?
                    .strip_suffix(".safetensors")?;
                epoch.bytes().all(|b| b.is_ascii_digit()).then_some(())?;
                Some((epoch.parse().ok()?, self.dir.join(&name)))
            })
            .collect();
        states.sort();
        Ok(states)
    }

    /// The files of a run present in the folder (states and outputs), sorted.
    pub fn run_files(&self) -> Result<Vec<PathBuf>> {
        let mut files: Vec<PathBuf> = self
            .names()?
            .into_iter()
            .filter(|name| is_run_file(name))
            .map(|name| self.file(&name))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Removes the temporary files that writes interrupted by a crash leave behind
    /// (`NAME.tmp` beside a run file), and returns their names.
    pub fn remove_temporaries(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for name in self.names()? {
            let Some(target) = name.strip_suffix(".tmp") else {
                continue;
            };
            if is_run_file(target) {
                let path = self.dir.join(&name);
                fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// Deletes all but the newest `keep` training states up to epoch `written` (the one
    /// just written). A state named for a later epoch is not the run's own doing (a file
    /// copied in under a later name): it is left for `--resume` to question, and the
    /// real states are kept.
    pub fn prune_states(&self, keep: usize, written: usize) -> Result<()> {
        let mut states = self.states()?;
        states.retain(|&(epoch, _)| epoch <= written);
        for (_, path) in &states[..states.len().saturating_sub(keep)] {
            fs::remove_file(path).map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }

    /// Deletes the files of a run (what [`run_files`](Self::run_files) lists).
    pub fn clear(&self) -> Result<()> {
        for path in self.run_files()? {
            fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        Ok(())
    }

    /// Creates the folder if needed and takes its lock: one run writes a folder at a time.
    /// The lock is released when the returned file is dropped (or the process ends).
    pub fn lock(&self) -> Result<fs::File> {
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let path = self.file(LOCK);
        let file = fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(Error::invalid(
                &self.dir,
                "another vae process is writing this run folder; wait for it or choose another \
                    --out",
            )),
            // A file system without locks (some network ones): go on unlocked.
            Err(fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                Ok(file)
            }
            Err(fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }

    fn names(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            if let Ok(name) = entry.file_name().into_string() {
                names.push(name);
            }
        }
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            fs::write(dir.join(name), b"x").unwrap();
        }
    }

    #[test]
    fn states_are_found_in_epoch_order_and_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFolder::new(dir.path());
        touch(
            dir.path(),
            &[
                "state-epoch-0010.safetensors",
                "state-epoch-0009.safetensors",
                "state-epoch-10000.safetensors",
                "state-epoch-x.safetensors",
                "notes.txt",
            ],
        );
        let epochs: Vec<usize> = run.states().unwrap().iter().map(|s| s.0).collect();
        assert_eq!(epochs, vec![9, 10, 10000]);
        assert_eq!(
            run.state(7),
            dir.path().join("state-epoch-0007.safetensors")
        );
        // Just written: epoch 10. The state named 10000 is not the run's: left alone.
        run.prune_states(1, 10).unwrap();
        let epochs: Vec<usize> = run.states().unwrap().iter().map(|s| s.0).collect();
        assert_eq!(epochs, vec![10, 10000]);
    }

    #[test]
    fn only_our_temporaries_are_removed_and_clear_spares_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFolder::new(dir.path());
        touch(
            dir.path(),
            &[
                "state-epoch-0003.safetensors.tmp",
                "metrics.jsonl.tmp",
                "mine.tmp",
                "metrics.jsonl",
                "state-epoch-0002.safetensors",
                "notes.txt",
                "samples_epoch0007.png",
                "samples_epoch0007.png.tmp",
                "samples_epoch_mine.png",
                "report.html",
            ],
        );
        let mut removed = run.remove_temporaries().unwrap();
        removed.sort();
        assert_eq!(
            removed,
            vec![
                "metrics.jsonl.tmp",
                "samples_epoch0007.png.tmp",
                "state-epoch-0003.safetensors.tmp"
            ]
        );
        assert_eq!(run.run_files().unwrap().len(), 4);
        run.clear().unwrap();
        for spared in ["mine.tmp", "notes.txt", "samples_epoch_mine.png"] {
            assert!(dir.path().join(spared).exists(), "{spared}");
        }
        assert!(run.run_files().unwrap().is_empty());
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let run = RunFolder::new(&dir.path().join("r"));
        let held = run.lock().unwrap();
        let err = run.lock().unwrap_err().to_string();
        assert!(err.contains("another vae process"), "{err}");
        drop(held);
        assert!(run.lock().is_ok());
    }
}
