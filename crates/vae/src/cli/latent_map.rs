//! `vae latent-map`: where the images' codes lie, one colour per label.

use std::path::PathBuf;

use clap::Args;

use super::data_args::ModelAndData;
use super::output_file::claim;
use crate::error::Result;
use crate::io::console::say;
use crate::outputs::latent::write_latent_map;

/// The flags of `vae latent-map` (the help is on its [`super::Command`] variant).
#[derive(Args, Debug)]
pub(super) struct LatentMapArgs {
    #[command(flatten)]
    pub input: ModelAndData,
    /// PNG or SVG file to write.
    #[arg(long, value_name = "FILE", default_value = "latent_map.png")]
    out: PathBuf,
}

impl LatentMapArgs {
    /// Encodes the images and draws the map.
    pub(super) fn run(self) -> Result<()> {
        let _out = claim("--out", &self.out, &["png", "svg"], &self.input.inputs())?;
        let (checkpoint, images) = self.input.load()?;
        let model = &checkpoint.model;
        write_latent_map(&self.out, model, &images)?;
        say!("wrote {}", self.out.display())?;
        Ok(())
    }
}
