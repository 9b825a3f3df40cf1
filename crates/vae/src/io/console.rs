//! What the program prints, through writers whose errors are ours.
//!
//! `println!` panics when standard output cannot be written: `vae eval … | head -1` closes
//! the pipe after one line, and the next line aborted the program with a panic message;
//! `vae train … | head -2` killed a run before it committed its epoch; a redirect to a
//! full device did the same. Here:
//!
//! - `say!` ([`say_line`]) prints a line on standard output. A closed pipe is
//!   [`Error::OutputClosed`], which the program ends on quietly, with status 0, as
//!   `grep` or `rg` do when their reader has gone; any other failure is an error naming
//!   stdout.
//! - [`progress`] prints a training run's progress: a line that cannot be printed is no
//!   reason to lose the run, so it goes on without printing (saying so once on standard
//!   error unless the reader simply left).
//! - `note!` ([`note_line`]) prints on standard error, where notes and errors go. If even
//!   that fails there is no one left to tell, and the program carries on.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Set once standard output has failed: nothing more is written to it.
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);

/// Prints `line` and a newline on standard output (see the module docs).
pub fn say_line(line: fmt::Arguments<'_>) -> Result<()> {
    if STDOUT_FAILED.load(Ordering::Relaxed) {
        return Err(Error::OutputClosed);
    }
    let written = write_line(&mut io::stdout().lock(), line);
    if written.is_err() {
        STDOUT_FAILED.store(true, Ordering::Relaxed);
    }
    written
}

/// Writes `line` to `out` (standard output, or a test's writer): a closed pipe is
/// [`Error::OutputClosed`], any other failure an error naming stdout.
fn write_line(out: &mut impl Write, line: fmt::Arguments<'_>) -> Result<()> {
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(Error::OutputClosed),
        Err(e) => Err(Error::io(Path::new("stdout"), e)),
    }
}

/// Prints a line of a training run's progress: never an error (see the module docs).
pub fn progress(line: fmt::Arguments<'_>) {
    match say_line(line) {
        Ok(()) | Err(Error::OutputClosed) => {}
        Err(e) => note_line(format_args!(
            "note: {e}; the run goes on without printing its progress"
        )),
    }
}

/// Prints `line` and a newline on standard error, ignoring a failure (see the module docs).
pub fn note_line(line: fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// A progress bar on standard error for `len` images (`what`: "scoring"), hidden when
/// standard error is not a terminal.
pub fn image_bar(len: usize, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len as u64);
    let template = format!("{what} [{{bar:30}}] {{pos}}/{{len}} images ({{eta}})");
    let style = indicatif::ProgressStyle::with_template(&template)
        .expect("a valid template")
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// `say!("wrote {}", path)?`: a line on standard output, as [`say_line`].
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::io::console::say_line(format_args!($($arg)*))
    };
}

/// `note!("note: …")`: a line on standard error, as [`note_line`].
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::io::console::note_line(format_args!($($arg)*))
    };
}

pub(crate) use {note, say};

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that fails as a closed pipe or a full device does.
    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_other_failures_name_stdout() {
        let mut buffer = Vec::new();
        write_line(&mut buffer, format_args!("a {}", 1)).unwrap();
        assert_eq!(buffer, b"a 1\n");
        let closed = write_line(&mut Failing(ErrorKind::BrokenPipe), format_args!("x"));
        assert!(matches!(closed, Err(Error::OutputClosed)), "{closed:?}");
        let full = write_line(&mut Failing(ErrorKind::StorageFull), format_args!("x"));
        let message = full.unwrap_err().to_string();
        assert!(message.starts_with("stdout: "), "{message}");
    }
}
