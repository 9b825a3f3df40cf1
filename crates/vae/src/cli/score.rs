//! `vae score`: how unlikely each image is under the model: outlier detection.

use super::counts;
use std::path::PathBuf;

use clap::Args;

use super::counts::{picture, within, MAX_PICTURE_IMAGES};
use super::data_args::ModelAndData;
use super::eval::MAX_IW_SAMPLES;
use super::output_file::claim_all;
use crate::data::batch::Pixels;
use crate::error::{Error, Result};
use crate::io::console::{image_bar, say};
use crate::objective::eval::iw_bounds;
use crate::outputs::exports::write_scores;
use crate::outputs::pictures::write_images;
use crate::train::settings::epoch_rng;

/// The flags of `vae score` (the help is on its [`super::Command`] variant).
#[derive(Args, Debug)]
pub(super) struct ScoreArgs {
    #[command(flatten)]
    pub input: ModelAndData,
    /// CSV file to write: rank, image, label, nll.
    #[arg(long, value_name = "FILE", default_value = "scores.csv")]
    out: PathBuf,
    /// Importance samples per image: 1 (the ELBO) or more (a tighter, less noisy bound).
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "K", default_value_t = 1)]
    iw_samples: usize,
    /// Also draw the N least likely images.
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "N")]
    top: Option<usize>,
    /// Where --top draws them.
    #[arg(long, value_name = "FILE", default_value = "least_likely.png")]
    top_out: PathBuf,
}

impl ScoreArgs {
    /// Scores, writes the table, and draws the top of it.
    pub(super) fn run(self) -> Result<()> {
        let mut outputs = vec![("--out", self.out.as_path(), &["csv"][..])];
        if let Some(top) = self.top {
            within("--top", top, 1..=MAX_PICTURE_IMAGES)?;
            outputs.push(("--top-out", self.top_out.as_path(), &["png"][..]));
        }
        let _out = claim_all(&outputs, &self.input.inputs())?;
        if !(1..=MAX_IW_SAMPLES).contains(&self.iw_samples) {
            return Err(Error::config(
                "--iw-samples",
                format!("must be 1 to {MAX_IW_SAMPLES}"),
            ));
        }
        let (checkpoint, images) = self.input.load()?;
        if let Some(n) = self.top {
            picture("--top", n.min(images.len()), images.pixels())?;
        }
        let model = &checkpoint.model;
        let mut rng = epoch_rng(self.input.common.seed, usize::MAX);
        // A large set takes minutes at K > 1: a bar on stderr (hidden when not a terminal).
        let bar = image_bar(images.len(), "scoring");
        let bounds = iw_bounds(
            model,
            &images,
            self.iw_samples,
            Pixels::Scaled,
            images.len(),
            &mut rng,
            &|| bar.inc(1),
        );
        bar.finish_and_clear();
        let nll: Vec<f64> = bounds.iter().map(|b| -b).collect();
        let order = write_scores(&self.out, &nll, &images)?;
        say!(
            "wrote the scores of {} images to {} (least likely first: image {}, {:.2} nats)",
            nll.len(),
            self.out.display(),
            order[0],
            nll[order[0]]
        )?;
        if let Some(n) = self.top {
            write_images(&images, &order[..n.min(order.len())], &self.top_out)?;
            say!(
                "wrote the {} least likely images to {}",
                n.min(order.len()),
                self.top_out.display()
            )?;
        }
        Ok(())
    }
}
