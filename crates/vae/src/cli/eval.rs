//! `vae eval`: the ELBO and its terms on a set of images, the active units, and the
//! importance-weighted estimate of the log-likelihood.

use super::counts;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::data_args::{load_checkpoint, DataArgs, WhichSet};
use crate::data::batch::Pixels;
use crate::error::{Error, Result};
use crate::io::console::{image_bar, note, say};
use crate::model::checkpoint::Checkpoint;
use crate::objective::eval;
use crate::train::settings::epoch_rng;

/// More importance samples per image than this are refused: 200 times the standard
/// 5000, and already hours per thousand images on the canonical model.
pub const MAX_IW_SAMPLES: usize = 1_000_000;

#[derive(Args, Debug)]
pub(super) struct EvalArgs {
    /// The weights file (checkpoint.safetensors of a run, a training state, or a file
    /// made elsewhere).
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// Also estimate the log-likelihood with K importance samples per image (5000 is
    /// standard; at most 1,000,000).
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "K")]
    iw_samples: Option<usize>,
    /// Use only the first N test images for the importance-weighted bound.
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "N")]
    iw_images: Option<usize>,
    /// Binarize the test images (as for models trained with --binarize): each pixel is
    /// drawn once as 0 or 1 with its intensity as probability, from --seed, and every
    /// figure is computed on that one binary test set. Default: as the model was
    /// trained, when its checkpoint says; `--binarize false` scores grey pixels.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    binarize: Option<bool>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Which images of --data to score: auto (the test set, or all the images of data
    /// without one), train or test.
    #[arg(long, value_enum, default_value_t = WhichSet::Auto)]
    set: WhichSet,
    #[command(flatten)]
    pub common: DataArgs,
}

impl EvalArgs {
    /// Scores the checkpoint and prints the figures.
    pub(super) fn run(self) -> Result<()> {
        let args = self;
        let checkpoint = load_checkpoint(&args.checkpoint)?;
        let test = args
            .common
            .images(args.set, &checkpoint, &args.checkpoint)?;
        let trained_binarized = checkpoint.trained_on.as_ref().is_some_and(|t| t.binarize);
        let binarize = args.binarize.unwrap_or(trained_binarized);
        if args.binarize.is_none() && trained_binarized {
            note!(
                "note: binarizing the test images, as the model was trained (--binarize false \
                 scores grey pixels)"
            );
        }
        let Checkpoint { model, beta, .. } = checkpoint;
        // A binarized test set is drawn once, from its own stream of --seed: the ELBO, the
        // active units and the importance-weighted bound all score the same binary images.
        let test = if binarize {
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
                    format!(
                        "{k} is more than {MAX_IW_SAMPLES} samples per image (5000 is the \
                    standard estimate)"
                    ),
                ))
            }
            (_, Some(0)) => return Err(Error::config("--iw-images", "must be at least 1")),
            (None, Some(_)) => {
                return Err(Error::config(
                    "--iw-images",
                    "is only used with --iw-samples",
                ))
            }
            (Some(k), images) => Some((k, images.unwrap_or(test.len()).min(test.len()))),
            (None, None) => None,
        };
        let mut rng = epoch_rng(args.common.seed, usize::MAX);
        let scores = eval::elbo_scores(&model, &test, beta, pixels, 1000, &mut rng);
        let not_finite = |what: &str, value: f64| {
            Error::invalid(
                &args.checkpoint,
                format!(
                    "{what} on these images is {value}, not a number of nats: the weights \
                     overflow (or were damaged where no digest could tell)"
                ),
            )
        };
        if !scores.loss.is_finite() {
            return Err(not_finite("the test loss", scores.loss));
        }
        let active = eval::active_units(&model, &test, pixels, &mut rng);
        let nll = iw.map(|(k, images)| {
            let bar = image_bar(images, "importance sampling");
            let nll = eval::iw_nll(&model, &test, k, pixels, images, &mut rng, &|| bar.inc(1));
            bar.finish_and_clear();
            nll
        });
        if let Some(nll) = nll.filter(|v| !v.is_finite()) {
            return Err(not_finite("the importance-weighted NLL", nll));
        }
        if args.json {
            let mut out = json!({
                "test_loss": scores.loss, "test_recon": scores.recon, "test_kl": scores.kl,
                "active_units": active, "beta": beta, "test_images": test.len(),
                "binarized_with_seed": binarize.then_some(args.common.seed),
            });
            if let (Some(nll), Some((k, images))) = (nll, iw) {
                out["iw_nll"] = json!(nll);
                out["iw_samples"] = json!(k);
                out["iw_images"] = json!(images);
            }
            say!("{out}")?;
        } else {
            say!(
                "test loss {:.3} nats per image = recon {:.3} + {beta}·KL {:.3}",
                scores.loss,
                scores.recon,
                scores.kl
            )?;
            say!("active latent units: {active} of {}", model.config.latent)?;
            if binarize {
                say!("test set binarized once with seed {}", args.common.seed)?;
            }
            if let (Some(nll), Some((k, images))) = (nll, iw) {
                say!(
                    "importance-weighted NLL (K = {k}, {images} images): {nll:.3} nats per image"
                )?;
            }
        }
        Ok(())
    }
}
