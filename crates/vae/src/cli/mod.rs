//! The `vae` program: `train` (the default), `eval`, `sample`, `reconstruct`, and the
//! latent-space tools `encode`, `interpolate`, `manifold`, `latent-map`, `score`.
//!
//! One file per subcommand: its flags, its help, and the call into the library, where
//! the work is done (and tested without the binary). Every default of a training setting
//! is taken from [`crate::train::settings::Settings::default`], the one place it is written.

use std::collections::BTreeSet;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::io::console::note;

mod counts;
mod data_args;
mod encode;
mod eval;
mod interpolate;
mod latent_map;
mod manifold;
mod output_file;
mod reconstruct;
mod sample;
mod score;
mod train;

/// A variational autoencoder trained on MNIST, from first principles.
///
/// With no subcommand, trains the canonical model (784-400-20, ReLU, Adam 1e-3,
/// batch 128, 10 epochs, seed 1) on the bundled MNIST and writes runs/default/.
#[derive(Parser, Debug)]
#[command(name = "vae", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

/// Each subcommand lets negative numbers through as values (`--epochs -1`), so that the
/// error names the flag instead of calling `-1` an unexpected argument.
#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model and write a run folder (training state, weights, metrics, pictures).
    #[command(allow_negative_numbers = true)]
    Train(train::TrainArgs),
    /// Evaluate a checkpoint on the test set: ELBO terms, optionally the IW bound.
    #[command(allow_negative_numbers = true)]
    Eval(eval::EvalArgs),
    /// Write a grid of new images decoded from z ~ N(0, T²·I) as PNG.
    #[command(allow_negative_numbers = true)]
    Sample(sample::SampleArgs),
    /// Write images over their reconstructions as PNG.
    #[command(allow_negative_numbers = true)]
    Reconstruct(reconstruct::ReconstructArgs),
    /// Write every image's latent mean and log-variance (.npy or .csv): embeddings.
    ///
    /// The codes are the encoder's μ and ln σ² for each image of --data, for use in
    /// another tool (clustering, nearest neighbours, a classifier on top).
    #[command(allow_negative_numbers = true)]
    Encode(encode::EncodeArgs),
    /// Write images decoded along the path between two images' codes as PNG.
    ///
    /// One row per pair: the first image, --steps images decoded at evenly spaced points
    /// between the two images' latent means (the straight line, or the great circle with
    /// --spherical), the second image.
    #[command(allow_negative_numbers = true)]
    Interpolate(interpolate::InterpolateArgs),
    /// Write a grid of images decoded across the latent space as PNG.
    ///
    /// The codes are a G×G grid at the Gaussian's quantiles (5% to 95%, as in Kingma &
    /// Welling's Fig. 4): the two latent coordinates themselves for a 2-D latent space;
    /// for a larger one, the plane through the mean of the encoded images of --data along
    /// their two principal directions, each quantile scaled by the spread along it.
    #[command(allow_negative_numbers = true)]
    Manifold(manifold::ManifoldArgs),
    /// Plot the images' latent means in 2-D, one colour per label (PNG or SVG).
    ///
    /// The two coordinates themselves for a 2-D latent space, else the means' first two
    /// principal components.
    #[command(allow_negative_numbers = true)]
    LatentMap(latent_map::LatentMapArgs),
    /// Score every image by its negative ELBO (or K-sample bound), least likely first.
    ///
    /// The score is −L_K in nats (K = 1: the negative ELBO, estimated with one z); the
    /// images the model finds least likely are candidates for outliers, mislabelled or
    /// damaged data.
    #[command(allow_negative_numbers = true)]
    Score(score::ScoreArgs),
}

/// Parses the arguments, runs, and returns the exit code (errors are printed).
pub fn main() -> i32 {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let given = matches
        .subcommand_matches("train")
        .map(given_on_command_line)
        .unwrap_or_default();
    match run(cli, given) {
        // The reader of our output has gone (`vae eval | head -1`): nothing is wrong.
        Ok(()) | Err(Error::OutputClosed) => 0,
        Err(e) => {
            note!("error: {e}");
            1
        }
    }
}

/// The ids of the arguments typed on the command line (not defaulted).
fn given_on_command_line(matches: &ArgMatches) -> BTreeSet<String> {
    matches
        .ids()
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.to_string())
        .collect()
}

fn run(cli: Cli, given: BTreeSet<String>) -> Result<()> {
    let command = cli.command.unwrap_or_else(|| {
        let Cli { command } = Cli::parse_from(["vae", "train"]);
        command.expect("train parses")
    });
    let threads = match &command {
        Command::Train(a) => a.common.threads,
        Command::Eval(a) => a.common.threads,
        Command::Reconstruct(a) => a.input.common.threads,
        Command::Encode(a) => a.input.common.threads,
        Command::Interpolate(a) => a.input.common.threads,
        Command::Manifold(a) => a.input.common.threads,
        Command::LatentMap(a) => a.input.common.threads,
        Command::Score(a) => a.input.common.threads,
        Command::Sample(_) => None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(thread_count(threads)?)
        .build()
        .map_err(|e| Error::config("--threads", e.to_string()))?;
    // Run on the pool, not beside it: the calling thread then computes one block of
    // each parallel op itself instead of sleeping until the workers are done, which
    // saves two context switches per op (measured: about a quarter of the step time).
    pool.install(|| match command {
        Command::Train(args) => args.run(&given),
        Command::Eval(args) => args.run(),
        Command::Sample(args) => args.run(),
        Command::Reconstruct(args) => args.run(),
        Command::Encode(args) => args.run(),
        Command::Interpolate(args) => args.run(),
        Command::Manifold(args) => args.run(),
        Command::LatentMap(args) => args.run(),
        Command::Score(args) => args.run(),
    })
}

/// The pool's size: `--threads` if given, capped to the cores (more threads than cores
/// only add hand-offs: 10,000 of them made a 0.15 s job take over a minute), or all cores.
fn thread_count(threads: Option<usize>) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match threads {
        None => Ok(cores),
        Some(0) => Err(Error::config("--threads", "must be at least 1")),
        Some(n) if n > cores => {
            note!("note: --threads {n} is more than this machine's {cores} cores; using {cores}");
            Ok(cores)
        }
        Some(n) => Ok(n),
    }
}
