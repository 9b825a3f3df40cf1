//! The `vae` program: `train` (the default), `eval`, `sample`, `reconstruct`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::checkpoint::load_model;
use crate::data::{load_folder, Dataset, Pixels};
use crate::eval;
use crate::train::{self, epoch_rng, RunOptions, Settings};
use crate::{Error, Result};

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
    /// Train a model and write a run folder (metrics, pictures, checkpoint).
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
    #[arg(long, value_name = "DIR", default_value = "datasets/mnist")]
    data: PathBuf,
    /// Worker threads for the matrix kernel and elementwise ops (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args, Debug)]
struct TrainArgs {
    /// Run folder to write (created if needed).
    #[arg(long, value_name = "DIR", default_value = "runs/default")]
    out: PathBuf,
    /// Continue the run in --out from its last checkpoint (same settings; --epochs may grow).
    #[arg(long)]
    resume: bool,
    /// Epochs to train.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Images per training step.
    #[arg(long, default_value_t = 128)]
    batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Encoder hidden sizes, comma-separated (the decoder mirrors them), e.g. 200,200.
    #[arg(long, value_delimiter = ',', default_value = "400")]
    hidden: Vec<usize>,
    /// Size of the latent code z.
    #[arg(long, default_value_t = 20)]
    latent: usize,
    /// Hidden activation: relu, tanh, sigmoid, softplus or leaky_relu.
    #[arg(long, default_value = "relu")]
    activation: String,
    /// Weight of the KL term (β-VAE; 1 is the ELBO).
    #[arg(long, default_value_t = 1.0)]
    beta: f64,
    /// Epochs over which β ramps up linearly from 0 (KL warm-up); 0 disables.
    #[arg(long, default_value_t = 0)]
    kl_warmup: usize,
    /// Dynamically binarize pixels (a fresh Bernoulli draw per batch) instead of [0, 1].
    #[arg(long)]
    binarize: bool,
    /// Learning rate by epoch: constant, step:EVERY:GAMMA, exp:GAMMA, cosine:MIN_LR,
    /// piecewise:E1=LR1,E2=LR2,... or iwae (the IWAE paper's 3,280-epoch schedule).
    #[arg(long, default_value = "constant", value_name = "SCHEDULE")]
    lr_schedule: String,
    /// Epochs of linear learning-rate warm-up in front of the schedule.
    #[arg(long, default_value_t = 0, value_name = "EPOCHS")]
    lr_warmup: usize,
    /// Clip the gradients' global L2 norm to this value before each update.
    #[arg(long, value_name = "MAX_NORM")]
    clip_grad_norm: Option<f64>,
    /// Adam's ε (PyTorch's default; the IWAE paper used 1e-4).
    #[arg(long, default_value_t = 1e-8)]
    adam_eps: f64,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    common: DataArgs,
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// The weights file (checkpoint.safetensors of a run, or one made elsewhere).
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// Also estimate the log-likelihood with K importance samples (5000 is standard).
    #[arg(long, value_name = "K")]
    iw_samples: Option<usize>,
    /// Use only the first N test images for the importance-weighted bound.
    #[arg(long, value_name = "N")]
    iw_images: Option<usize>,
    /// Dynamically binarize the test images (as for models trained with --binarize).
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
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn run(cli: Cli) -> Result<()> {
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
    if threads == Some(0) {
        return Err(Error::config("--threads", "must be at least 1"));
    }
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        pool = pool.num_threads(n);
    }
    let pool = pool
        .build()
        .map_err(|e| Error::config("--threads", e.to_string()))?;
    // Run on the pool, not beside it: the calling thread then computes one block of
    // each parallel op itself instead of sleeping until the workers are done, which
    // saves two context switches per op (measured: about a quarter of the step time).
    pool.install(|| dispatch(command))
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Train(args) => train_command(args),
        Command::Eval(args) => eval_command(args),
        Command::Sample(args) => {
            let (model, _) = load_model::<f32>(&args.checkpoint)?;
            check_image_size(
                &args.checkpoint,
                model.config.input_dim,
                args.side * args.side,
            )?;
            eval::write_samples(
                &model,
                (args.side, args.side),
                &args.out,
                &mut epoch_rng(args.seed, 0),
            )?;
            println!("wrote {}", args.out.display());
            Ok(())
        }
        Command::Reconstruct(args) => {
            let (model, _) = load_model::<f32>(&args.checkpoint)?;
            let (_, test) = load_data(&args.common)?;
            check_image_size(&args.checkpoint, model.config.input_dim, test.pixels())?;
            eval::write_reconstructions(
                &model,
                &test,
                &args.out,
                &mut epoch_rng(args.common.seed, 0),
            )?;
            println!("wrote {}", args.out.display());
            Ok(())
        }
    }
}

fn train_command(args: TrainArgs) -> Result<()> {
    let (train_set, test_set) = load_data(&args.common)?;
    let settings = Settings {
        hidden: args.hidden,
        latent: args.latent,
        activation: args.activation,
        beta: args.beta,
        kl_warmup: args.kl_warmup,
        epochs: args.epochs,
        batch_size: args.batch_size,
        lr: args.lr,
        seed: args.common.seed,
        binarize: args.binarize,
        lr_schedule: args.lr_schedule,
        lr_warmup: args.lr_warmup,
        clip_grad_norm: args.clip_grad_norm,
        adam_eps: args.adam_eps,
    };
    if settings
        .clip_grad_norm
        .is_some_and(|c| !(c > 0.0 && c.is_finite()))
    {
        return Err(Error::config(
            "--clip-grad-norm",
            "must be a positive number",
        ));
    }
    if !(settings.adam_eps > 0.0 && settings.adam_eps.is_finite()) {
        return Err(Error::config(
            "--adam-eps",
            format!("must be a positive number, got {}", settings.adam_eps),
        ));
    }
    if !(settings.lr > 0.0 && settings.lr.is_finite()) {
        return Err(Error::config(
            "--lr",
            format!("must be a positive number, got {}", settings.lr),
        ));
    }
    if !(settings.beta >= 0.0 && settings.beta.is_finite()) {
        return Err(Error::config(
            "--beta",
            format!("must be a non-negative number, got {}", settings.beta),
        ));
    }
    let config = settings.model(train_set.pixels())?;
    if !args.quiet {
        println!(
            "training {}-{}-{} {} ({} parameters) on {} images, {} epochs, batch {}, {} threads → {}",
            config.input_dim,
            config.hidden.iter().map(|h| h.to_string()).collect::<Vec<_>>().join("-"),
            config.latent,
            config.activation,
            config.param_count(),
            train_set.len(),
            settings.epochs,
            settings.batch_size,
            rayon::current_num_threads(),
            args.out.display()
        );
    }
    let options = RunOptions {
        out: args.out.clone(),
        resume: args.resume,
        progress: !args.quiet,
    };
    let history = train::run(&settings, &train_set, &test_set, &options)?;
    if let (Some(last), false) = (history.last(), args.quiet) {
        println!(
            "final test loss {:.2} nats per image; run folder {}",
            last.test_loss,
            args.out.display()
        );
    }
    Ok(())
}

fn eval_command(args: EvalArgs) -> Result<()> {
    let (model, beta) = load_model::<f32>(&args.checkpoint)?;
    let (_, test) = load_data(&args.common)?;
    check_image_size(&args.checkpoint, model.config.input_dim, test.pixels())?;
    let pixels = if args.binarize {
        Pixels::Binarized
    } else {
        Pixels::Scaled
    };
    let mut rng = epoch_rng(args.common.seed, usize::MAX);
    let scores = eval::elbo(&model, &test, beta, pixels, 1000, &mut rng);
    let active = eval::active_units(&model, &test, pixels, &mut rng);
    let iw = match args.iw_samples {
        Some(0) => return Err(Error::config("--iw-samples", "must be at least 1")),
        Some(k) => {
            let images = args.iw_images.unwrap_or(test.len()).min(test.len());
            let bar = indicatif::ProgressBar::new(images as u64);
            let style = indicatif::ProgressStyle::with_template(
                "importance sampling [{bar:30}] {pos}/{len} images ({eta})",
            )
            .expect("a valid template")
            .progress_chars("=> ");
            bar.set_style(style);
            let nll = eval::iw_nll(&model, &test, k, pixels, images, &mut rng, &|| bar.inc(1));
            bar.finish_and_clear();
            Some(nll)
        }
        None => None,
    };
    if args.json {
        let mut out = json!({
            "test_loss": scores.loss, "test_recon": scores.recon, "test_kl": scores.kl,
            "active_units": active, "beta": beta, "test_images": test.len(),
        });
        if let Some(nll) = iw {
            out["iw_nll"] = json!(nll);
            out["iw_samples"] = json!(args.iw_samples);
            out["iw_images"] = json!(args.iw_images.unwrap_or(test.len()).min(test.len()));
        }
        println!("{out}");
    } else {
        println!(
            "test loss {:.3} nats per image = recon {:.3} + {beta}·KL {:.3}",
            scores.loss, scores.recon, scores.kl
        );
        println!("active latent units: {active} of {}", model.config.latent);
        if let (Some(nll), Some(k)) = (iw, args.iw_samples) {
            println!("importance-weighted NLL (K = {k}): {nll:.3} nats per image");
        }
    }
    Ok(())
}

fn load_data(args: &DataArgs) -> Result<(Dataset, Dataset)> {
    load_folder(&resolve_data_dir(&args.data))
}

/// The default `datasets/mnist` is relative to the current folder; when the program runs
/// from elsewhere, fall back to the copy bundled with the source tree it was built from.
fn resolve_data_dir(dir: &Path) -> PathBuf {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist");
    if !dir.exists() && dir == Path::new("datasets/mnist") && bundled.exists() {
        bundled
    } else {
        dir.to_path_buf()
    }
}

fn check_image_size(checkpoint: &Path, input_dim: usize, pixels: usize) -> Result<()> {
    if input_dim != pixels {
        return Err(Error::invalid(
            checkpoint,
            format!("the model takes {input_dim} pixels per image, the data has {pixels}"),
        ));
    }
    Ok(())
}
