//! The crate's error type: every failure names the file or setting and the problem.

use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, and where.
#[derive(Debug)]
pub enum Error {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file's contents are wrong.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A setting (flag or configuration value) is out of range.
    Config {
        /// The setting's name, e.g. `--hidden`.
        setting: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Standard output was closed by its reader (`vae eval | head -1`): the program ends
    /// quietly, with status 0.
    OutputClosed,
    /// The loss became NaN or infinite.
    NonFinite {
        /// Epoch (1-based) in which it happened.
        epoch: usize,
        /// Step within the epoch.
        step: usize,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A problem with the contents of `path`.
    pub fn invalid(path: &Path, problem: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }

    /// A problem with a setting.
    pub fn config(setting: &str, problem: impl Into<String>) -> Self {
        Error::Config {
            setting: setting.to_string(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Invalid { path, problem } => write!(f, "{}: {problem}", path.display()),
            Error::Config { setting, problem } => write!(f, "{setting}: {problem}"),
            Error::OutputClosed => write!(f, "stdout: closed by its reader"),
            Error::NonFinite { epoch, step } => {
                write!(
                    f,
                    "the loss became non-finite in epoch {epoch}, step {step}; try a lower \
                    learning rate"
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Shorthand for results with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
