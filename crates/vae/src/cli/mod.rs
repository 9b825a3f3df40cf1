//! The `vae` program: `train` (the default), `eval`, `sample`, `reconstruct`.
//!
//! This module declares the flags; `commands.rs` runs them. Every default of a training
//! setting is taken from [`Settings::default`], the one place it is written.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::init::{Init, OutputBias};
use crate::loss::Objective;
use crate::run::KEEP_CHECKPOINTS;
use crate::train::Settings;
use crate::{Error, Result};

mod commands;

/// The bundled MNIST, relative to the project's root.
const DEFAULT_DATA: &str = "datasets/mnist";

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

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model and write a run folder (training state, weights, metrics, pictures).
    Train(TrainArgs),
    /// Evaluate a checkpoint on the test set: ELBO terms, optionally the IW bound.
    Eval(EvalArgs),
    /// Write a grid of generated digits (z ~ N(0, I)) as PNG.
    Sample(SampleArgs),
    /// Write test images over their reconstructions as PNG.
    Reconstruct(ReconstructArgs),
}

#[derive(Args, Debug, Clone)]
struct DataArgs {
    /// Folder with the four MNIST-style IDX files (gzipped or raw), e.g. Fashion-MNIST.
    /// A resumed run reads the folder it was started with unless this is given.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_DATA)]
    data: PathBuf,
    /// Worker threads for the matrix kernel and elementwise ops (default: all cores;
    /// more than the cores are never faster, and are capped to them).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = Settings::default().seed)]
    seed: u64,
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Run folder to write (created if needed). A folder that already holds a run is
    /// refused unless --resume or --force is given.
    #[arg(long, value_name = "DIR", default_value = "runs/default")]
    out: PathBuf,
    /// Continue the run in --out from its newest training state. Flags not given keep
    /// the run's values; --epochs, --lr, --lr-schedule, --lr-warmup, --clip-grad-norm and
    /// --adam-eps may change (each change is reported); the architecture, objective,
    /// seed, batch size and data may not.
    #[arg(long, conflicts_with = "force")]
    resume: bool,
    /// Replace the run in --out (its files are listed, then deleted) with a new one.
    #[arg(long)]
    force: bool,
    /// Training states to keep in the run folder, newest first (one per epoch).
    #[arg(long, value_name = "N", default_value_t = KEEP_CHECKPOINTS)]
    keep_checkpoints: usize,
    /// Epochs to train (in all, counting those of a resumed run).
    #[arg(long, default_value_t = Settings::default().epochs)]
    epochs: usize,
    /// Images per training step.
    #[arg(long, default_value_t = Settings::default().batch_size)]
    batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = Settings::default().lr)]
    lr: f64,
    /// Encoder hidden sizes, comma-separated (the decoder mirrors them), e.g. 200,200.
    #[arg(long, value_delimiter = ',', default_values_t = Settings::default().hidden)]
    hidden: Vec<usize>,
    /// Size of the latent code z.
    #[arg(long, default_value_t = Settings::default().latent)]
    latent: usize,
    /// Hidden activation: relu, tanh, sigmoid, softplus or leaky_relu.
    #[arg(long, default_value_t = Settings::default().activation)]
    activation: String,
    /// Weight of the KL term (β-VAE; 1 is the ELBO).
    #[arg(long, default_value_t = Settings::default().beta)]
    beta: f64,
    /// Epochs over which β ramps up linearly from 0 (KL warm-up); 0 disables.
    #[arg(long, default_value_t = Settings::default().kl_warmup)]
    kl_warmup: usize,
    /// Dynamically binarize pixels (a fresh Bernoulli draw per batch) instead of [0, 1].
    #[arg(long)]
    binarize: bool,
    /// Learning rate by epoch: constant, step:EVERY:GAMMA, exp:GAMMA, cosine:MIN_LR,
    /// piecewise:E1=LR1,E2=LR2,... or iwae (the IWAE paper's 3,280-epoch schedule).
    #[arg(long, default_value_t = Settings::default().lr_schedule, value_name = "SCHEDULE")]
    lr_schedule: String,
    /// Epochs of linear learning-rate warm-up in front of the schedule.
    #[arg(long, default_value_t = Settings::default().lr_warmup, value_name = "EPOCHS")]
    lr_warmup: usize,
    /// Clip the gradients' global L2 norm to this value before each update.
    #[arg(long, value_name = "MAX_NORM")]
    clip_grad_norm: Option<f64>,
    /// Adam's ε (PyTorch's default; the IWAE paper used 1e-4).
    #[arg(long, default_value_t = Settings::default().adam_eps)]
    adam_eps: f64,
    /// What training minimises: elbo (the closed-form-KL ELBO) or iwae (the
    /// importance-weighted bound of Burda et al. with --k samples per image).
    #[arg(long, value_enum, default_value_t = Settings::default().objective)]
    objective: Objective,
    /// Importance samples per image for --objective iwae.
    #[arg(long, default_value_t = Settings::default().k)]
    k: usize,
    /// Initial weights: pytorch (uniform ±1/√fan_in, biases too) or glorot (uniform
    /// ±√(6/(fan_in+fan_out)), zero biases; the IWAE paper's).
    #[arg(long, value_enum, default_value_t = Settings::default().init)]
    init: Init,
    /// The decoder's output bias at the start: init (as --init draws it) or data-mean (the
    /// logit of each pixel's mean over the training set, clipped to [0.001, 0.999]).
    #[arg(long, value_enum, default_value_t = Settings::default().output_bias)]
    output_bias: OutputBias,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    common: DataArgs,
}

impl TrainArgs {
    fn settings(&self) -> Settings {
        Settings {
            hidden: self.hidden.clone(),
            latent: self.latent,
            activation: self.activation.clone(),
            beta: self.beta,
            kl_warmup: self.kl_warmup,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            seed: self.common.seed,
            binarize: self.binarize,
            lr_schedule: self.lr_schedule.clone(),
            lr_warmup: self.lr_warmup,
            clip_grad_norm: self.clip_grad_norm,
            adam_eps: self.adam_eps,
            objective: self.objective,
            k: self.k,
            init: self.init,
            output_bias: self.output_bias,
        }
    }
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// The weights file (checkpoint.safetensors of a run, a training state, or a file
    /// made elsewhere).
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// Also estimate the log-likelihood with K importance samples per image (5000 is
    /// standard; at most 1,000,000).
    #[arg(long, value_name = "K")]
    iw_samples: Option<usize>,
    /// Use only the first N test images for the importance-weighted bound.
    #[arg(long, value_name = "N")]
    iw_images: Option<usize>,
    /// Binarize the test images (as for models trained with --binarize): each pixel is
    /// drawn once as 0 or 1 with its intensity as probability, from --seed, and every
    /// figure is computed on that one binary test set.
    #[arg(long)]
    binarize: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: DataArgs,
}

#[derive(Args, Debug)]
struct SampleArgs {
    /// The weights file.
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// PNG file to write.
    #[arg(long, value_name = "FILE", default_value = "samples.png")]
    out: PathBuf,
    /// Seed of z.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Image height and width in pixels (28 for MNIST); their product must be the model's input size.
    #[arg(long, default_value_t = 28)]
    side: usize,
}

#[derive(Args, Debug)]
struct ReconstructArgs {
    /// The weights file.
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// PNG file to write.
    #[arg(long, value_name = "FILE", default_value = "reconstructions.png")]
    out: PathBuf,
    #[command(flatten)]
    common: DataArgs,
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
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
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
        Command::Reconstruct(a) => a.common.threads,
        Command::Sample(_) => None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(thread_count(threads)?)
        .build()
        .map_err(|e| Error::config("--threads", e.to_string()))?;
    // Run on the pool, not beside it: the calling thread then computes one block of
    // each parallel op itself instead of sleeping until the workers are done, which
    // saves two context switches per op (measured: about a quarter of the step time).
    pool.install(|| commands::dispatch(command, &given))
}

/// The pool's size: `--threads` if given, capped to the cores (more threads than cores
/// only add hand-offs: 10,000 of them made a 0.15 s job take over a minute), or all cores.
fn thread_count(threads: Option<usize>) -> Result<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match threads {
        None => Ok(cores),
        Some(0) => Err(Error::config("--threads", "must be at least 1")),
        Some(n) if n > cores => {
            eprintln!(
                "note: --threads {n} is more than this machine's {cores} cores; using {cores}"
            );
            Ok(cores)
        }
        Some(n) => Ok(n),
    }
}
