//! `vae sample`: new images decoded from codes drawn from the prior.

use super::counts;
use std::path::PathBuf;

use clap::Args;

use super::counts::{picture, within, MAX_PICTURE_IMAGES};
use super::data_args::{load_checkpoint, picture_size};
use super::output_file::claim;
use crate::data::source::parse_image_size;
use crate::error::Result;
use crate::io::console::say;
use crate::outputs::pictures::write_samples;
use crate::train::settings::epoch_rng;

#[derive(Args, Debug)]
pub(super) struct SampleArgs {
    /// The weights file.
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// PNG file to write.
    #[arg(long, value_name = "FILE", default_value = "samples.png")]
    out: PathBuf,
    /// Images to generate (in rows of 8).
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = 64)]
    n: usize,
    /// Scale of the prior's spread: z ~ N(0, T²·I). Below 1, cleaner and less varied
    /// images; 1 samples the model as trained.
    #[arg(long, value_name = "T", default_value_t = 1.0)]
    temperature: f64,
    /// Seed of z.
    #[arg(value_parser = counts::whole::<u64>, long, default_value_t = 1)]
    seed: u64,
    /// Image HEIGHTxWIDTH (default: what the checkpoint says, or a square).
    #[arg(long, value_name = "HxW", value_parser = parse_image_size)]
    image_size: Option<(usize, usize)>,
}

impl SampleArgs {
    /// Writes the grid of samples.
    pub(super) fn run(self) -> Result<()> {
        let inputs = [("--checkpoint", self.checkpoint.clone())];
        let _out = claim("--out", &self.out, &["png"], &inputs)?;
        within("--n", self.n, 1..=MAX_PICTURE_IMAGES)?;
        let checkpoint = load_checkpoint(&self.checkpoint)?;
        let shape = picture_size(self.image_size, &checkpoint, &self.checkpoint)?;
        picture("--n", self.n, checkpoint.model.config.input_dim)?;
        let mut rng = epoch_rng(self.seed, 0);
        write_samples(
            &checkpoint.model,
            shape,
            (self.n, self.temperature),
            &self.out,
            &mut rng,
        )?;
        say!("wrote {}", self.out.display())?;
        Ok(())
    }
}
