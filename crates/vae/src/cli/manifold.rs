//! `vae manifold`: a grid of images decoded across the latent space.

use super::counts;
use std::path::PathBuf;

use clap::Args;

use super::counts::picture;
use super::data_args::{load_checkpoint, picture_size, ModelAndData};
use super::output_file::claim;
use crate::error::{Error, Result};
use crate::io::console::say;
use crate::outputs::latent::{encode_all, manifold_codes};
use crate::outputs::pictures::write_decoded_grid;

/// The flags of `vae manifold` (the help is on its [`super::Command`] variant).
#[derive(Args, Debug)]
pub(super) struct ManifoldArgs {
    #[command(flatten)]
    pub input: ModelAndData,
    /// Images per side of the grid.
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "G", default_value_t = 20)]
    grid: usize,
    /// PNG file to write.
    #[arg(long, value_name = "FILE", default_value = "manifold.png")]
    out: PathBuf,
}

impl ManifoldArgs {
    /// Writes the grid.
    pub(super) fn run(self) -> Result<()> {
        let _out = claim("--out", &self.out, &["png"], &self.input.inputs())?;
        if !(1..=100).contains(&self.grid) {
            return Err(Error::config(
                "--grid",
                format!("must be 1 to 100, got {}", self.grid),
            ));
        }
        let checkpoint = load_checkpoint(&self.input.checkpoint)?;
        let model = &checkpoint.model;
        let shape = picture_size(
            self.input.common.image_size,
            &checkpoint,
            &self.input.checkpoint,
        )?;
        let codes = if model.config.latent > 2 {
            let images =
                self.input
                    .common
                    .images(self.input.set, &checkpoint, &self.input.checkpoint)?;
            Some(encode_all(model, &images).0)
        } else {
            None
        };
        picture("--grid", self.grid * self.grid, model.config.input_dim)?;
        let grid = manifold_codes(model.config.latent, self.grid, codes.as_ref());
        write_decoded_grid(model, grid, shape, self.grid, &self.out)?;
        say!("wrote {}", self.out.display())?;
        Ok(())
    }
}
