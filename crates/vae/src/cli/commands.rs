//! What each subcommand does with its flags.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Command, DataArgs, EvalArgs, ReconstructArgs, SampleArgs, TrainArgs, DEFAULT_DATA};
use crate::checkpoint::{load_model, Checkpoint};
use crate::data::{load_folder, Dataset, Pixels};
use crate::eval;
use crate::fingerprint::TrainData;
use crate::run::{self, RunOptions, Start};
use crate::run_folder::RunFolder;
use crate::tensor_file::Verification;
use crate::train::epoch_rng;
use crate::{state, Error, Result};

/// More importance samples per image than this are refused: 200 times the standard
/// 5000, and already hours per thousand images on the canonical model.
pub const MAX_IW_SAMPLES: usize = 1_000_000;

pub(super) fn dispatch(command: Command, given: &BTreeSet<String>) -> Result<()> {
    match command {
        Command::Train(args) => train_command(args, given),
        Command::Eval(args) => eval_command(args),
        Command::Sample(args) => sample_command(args),
        Command::Reconstruct(args) => reconstruct_command(args),
    }
}

fn train_command(args: TrainArgs, given: &BTreeSet<String>) -> Result<()> {
    let settings = args.settings();
    settings.validate()?;
    let start = match (args.resume, args.force) {
        (true, _) => Start::Resume,
        (false, true) => Start::Force,
        _ => Start::New,
    };
    // A resumed run reads the data it was started with, unless --data says otherwise.
    let mut data_dir = args.common.data.clone();
    if start == Start::Resume && !given.contains("data") {
        // (A state that cannot be read is reported by the run itself, with its remedy.)
        let newest = RunFolder::new(&args.out).states()?.pop();
        if let Some(saved) = newest.and_then(|(_, path)| state::load(&path).ok()) {
            data_dir = PathBuf::from(saved.record.data.source);
        }
    }
    let (train, test) = load_folder(&resolve_data_dir(&data_dir))?;
    // The fingerprint records the folder as given, not where it was found.
    let data = TrainData::new(&data_dir, train, test)?;
    let options = RunOptions {
        out: args.out.clone(),
        start,
        keep_checkpoints: args.keep_checkpoints,
        progress: !args.quiet,
        given: Some(given.clone()),
    };
    let history = run::run(&settings, &data, &options)?;
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
    let (model, beta) = load_checkpoint(&args.checkpoint)?;
    let test = load_test_set(&args.common, &args.checkpoint, model.config.input_dim)?;
    // A binarized test set is drawn once, from its own stream of --seed: the ELBO, the
    // active units and the importance-weighted bound all score the same binary images.
    let test = if args.binarize {
        test.binarized(&mut epoch_rng(args.common.seed, usize::MAX - 1))
    } else {
        test
    };
    let pixels = Pixels::Scaled;
    let iw = match (args.iw_samples, args.iw_images) {
        (Some(0), _) => return Err(Error::config("--iw-samples", "must be at least 1")),
        (Some(k), _) if k > MAX_IW_SAMPLES => {
            return Err(Error::config(
                "--iw-samples",
                format!("{k} is more than {MAX_IW_SAMPLES} samples per image (5000 is the standard estimate)"),
            ))
        }
        (_, Some(0)) => return Err(Error::config("--iw-images", "must be at least 1")),
        (None, Some(_)) => {
            return Err(Error::config("--iw-images", "is only used with --iw-samples"))
        }
        (Some(k), images) => Some((k, images.unwrap_or(test.len()).min(test.len()))),
        (None, None) => None,
    };
    let mut rng = epoch_rng(args.common.seed, usize::MAX);
    let scores = eval::elbo(&model, &test, beta, pixels, 1000, &mut rng);
    let active = eval::active_units(&model, &test, pixels, &mut rng);
    let nll = iw.map(|(k, images)| {
        let bar = indicatif::ProgressBar::new(images as u64);
        let style = indicatif::ProgressStyle::with_template(
            "importance sampling [{bar:30}] {pos}/{len} images ({eta})",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        let nll = eval::iw_nll(&model, &test, k, pixels, images, &mut rng, &|| bar.inc(1));
        bar.finish_and_clear();
        nll
    });
    if args.json {
        let mut out = json!({
            "test_loss": scores.loss, "test_recon": scores.recon, "test_kl": scores.kl,
            "active_units": active, "beta": beta, "test_images": test.len(),
            "binarized_with_seed": args.binarize.then_some(args.common.seed),
        });
        if let (Some(nll), Some((k, images))) = (nll, iw) {
            out["iw_nll"] = json!(nll);
            out["iw_samples"] = json!(k);
            out["iw_images"] = json!(images);
        }
        println!("{out}");
    } else {
        println!(
            "test loss {:.3} nats per image = recon {:.3} + {beta}·KL {:.3}",
            scores.loss, scores.recon, scores.kl
        );
        println!("active latent units: {active} of {}", model.config.latent);
        if args.binarize {
            println!("test set binarized once with seed {}", args.common.seed);
        }
        if let (Some(nll), Some((k, images))) = (nll, iw) {
            println!("importance-weighted NLL (K = {k}, {images} images): {nll:.3} nats per image");
        }
    }
    Ok(())
}

fn sample_command(args: SampleArgs) -> Result<()> {
    let (model, _) = load_checkpoint(&args.checkpoint)?;
    let pixels = args.side.checked_mul(args.side).ok_or_else(|| {
        Error::config(
            "--side",
            format!("{} squared does not fit in a machine word", args.side),
        )
    })?;
    if pixels != model.config.input_dim {
        return Err(Error::config(
            "--side",
            format!(
                "{0}×{0} = {pixels} pixels, but {1} takes {2} pixels per image",
                args.side,
                args.checkpoint.display(),
                model.config.input_dim
            ),
        ));
    }
    let shape = (args.side, args.side);
    eval::write_samples(&model, shape, &args.out, &mut epoch_rng(args.seed, 0))?;
    println!("wrote {}", args.out.display());
    Ok(())
}

fn reconstruct_command(args: ReconstructArgs) -> Result<()> {
    let (model, _) = load_checkpoint(&args.checkpoint)?;
    let test = load_test_set(&args.common, &args.checkpoint, model.config.input_dim)?;
    eval::write_reconstructions(
        &model,
        &test,
        &args.out,
        &mut epoch_rng(args.common.seed, 0),
    )?;
    println!("wrote {}", args.out.display());
    Ok(())
}

/// A model and its β from a weights file; says once on stderr when the file carries
/// no digests to verify it by.
fn load_checkpoint(path: &Path) -> Result<(crate::Vae<f32>, f64)> {
    let Checkpoint {
        model,
        beta,
        verification,
    } = load_model::<f32>(path)?;
    if verification == Verification::Unverified {
        eprintln!(
            "note: {} records no SHA-256 digests (made elsewhere?): its contents could not be verified",
            path.display()
        );
    }
    Ok((model, beta))
}

/// The test set of `--data`, which must be non-empty and of the model's image size.
fn load_test_set(args: &DataArgs, checkpoint: &Path, input_dim: usize) -> Result<Dataset> {
    let dir = resolve_data_dir(&args.data);
    let (_, test) = load_folder(&dir)?;
    if test.is_empty() {
        return Err(Error::invalid(&dir, "the test set holds no images"));
    }
    if test.pixels() != input_dim {
        return Err(Error::invalid(
            checkpoint,
            format!(
                "the model takes {input_dim} pixels per image, the data in {} has {}",
                dir.display(),
                test.pixels()
            ),
        ));
    }
    Ok(test)
}

/// The default `datasets/mnist` is relative to the current folder; when the program runs
/// from elsewhere, fall back to the copy bundled with the source tree it was built from.
fn resolve_data_dir(dir: &Path) -> PathBuf {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(DEFAULT_DATA);
    if !dir.exists() && dir == Path::new(DEFAULT_DATA) && bundled.exists() {
        bundled
    } else {
        dir.to_path_buf()
    }
}
