//! SIGINT (Ctrl-C) and SIGTERM during a run: the run can always be resumed from its last
//! committed epoch, so the program says what happened and how, instead of dying silently,
//! and ends with the shell's status for the signal (130, 143).
//!
//! The training loop records each epoch it commits ([`committed`]); the `train` command
//! starts a thread that waits for the signals ([`watch`]). Ending the process from that
//! thread, in the middle of whatever the run was doing, is safe for the same reason a
//! SIGKILL is: every file is written to a temporary name and renamed into place, and a
//! resumed run removes what an interrupted write left (`tests/crash.rs`).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::error::{Error, Result};
use crate::io::console::note;

/// The run under way: its folder, its epochs committed and in all.
static RUN: Mutex<Option<(PathBuf, usize, usize)>> = Mutex::new(None);

/// Records that the run in `dir` has committed `epoch` of its `epochs`.
pub fn committed(dir: &Path, epoch: usize, epochs: usize) {
    if let Ok(mut run) = RUN.lock() {
        *run = Some((dir.to_path_buf(), epoch, epochs));
    }
}

/// Starts the thread that answers SIGINT and SIGTERM (see the module docs).
pub fn watch() -> Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|e| Error::config("signals", format!("cannot be watched: {e}")))?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let name = if signal == SIGINT {
                "SIGINT"
            } else {
                "SIGTERM"
            };
            let run = RUN.lock().ok().and_then(|run| run.clone());
            note!("vae: interrupted by {name}; {}", where_it_stands(run));
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// What a user needs to know about the interrupted run.
fn where_it_stands(run: Option<(PathBuf, usize, usize)>) -> String {
    match run {
        None => "no run folder was written yet".to_string(),
        Some((dir, 0, _)) => format!(
            "no epoch of the run in {} was committed yet: run the same command again to \
             start it",
            dir.display()
        ),
        Some((dir, done, epochs)) => format!(
            "the run in {0} has {done} of {epochs} epochs committed: `vae train --resume \
             --out {0}` continues it from there",
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_says_where_the_run_resumes() {
        let dir = PathBuf::from("runs/x");
        assert!(where_it_stands(None).contains("no run folder"));
        assert!(
            where_it_stands(Some((dir.clone(), 0, 5))).contains("no epoch of the run in runs/x")
        );
        let said = where_it_stands(Some((dir, 3, 5)));
        assert!(
            said.contains("3 of 5 epochs") && said.contains("--resume --out runs/x"),
            "{said}"
        );
    }
}
