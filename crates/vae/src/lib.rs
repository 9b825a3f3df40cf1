//! The VAE (in progress).
#![warn(missing_docs)]

/// Command-line entry point.
pub mod cli {
    /// Runs the program; returns the exit code.
    pub fn main() -> i32 {
        eprintln!("vae: training is not implemented yet");
        1
    }
}
