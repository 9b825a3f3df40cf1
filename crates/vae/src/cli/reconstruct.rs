//! `vae reconstruct`: images over their reconstructions.

use std::path::PathBuf;

use clap::Args;

use super::counts::picture;
use super::data_args::ModelAndData;
use super::output_file::claim;
use crate::error::Result;
use crate::io::console::say;
use crate::outputs::pictures::write_reconstructions;
use crate::train::settings::epoch_rng;

#[derive(Args, Debug)]
pub(super) struct ReconstructArgs {
    #[command(flatten)]
    pub input: ModelAndData,
    /// PNG file to write.
    #[arg(long, value_name = "FILE", default_value = "reconstructions.png")]
    out: PathBuf,
    /// Which images (0-based, comma-separated, e.g. 0,5,42; default: the first 16).
    #[arg(long, value_delimiter = ',', value_name = "I,J,...")]
    indices: Vec<usize>,
}

impl ReconstructArgs {
    /// Writes the images over their reconstructions.
    pub(super) fn run(self) -> Result<()> {
        let _out = claim("--out", &self.out, &["png"], &self.input.inputs())?;
        picture("--indices", 2 * self.indices.len(), 1)?;
        let (checkpoint, images) = self.input.load()?;
        let model = &checkpoint.model;
        let indices = if self.indices.is_empty() {
            (0..images.len().min(16)).collect()
        } else {
            self.indices.clone()
        };
        picture("--indices", 2 * indices.len(), model.config.input_dim)?;
        let mut rng = epoch_rng(self.input.common.seed, 0);
        write_reconstructions(model, &images, &indices, &self.out, &mut rng)?;
        say!("wrote {}", self.out.display())?;
        Ok(())
    }
}
