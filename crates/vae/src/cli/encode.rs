//! `vae encode`: every image's latent code, for another tool.

use std::path::PathBuf;

use clap::Args;

use super::data_args::ModelAndData;
use super::output_file::claim;
use crate::error::Result;
use crate::io::console::say;
use crate::outputs::exports::write_embeddings;
use crate::outputs::latent::encode_all;

/// The flags of `vae encode` (the help is on its [`super::Command`] variant).
#[derive(Args, Debug)]
pub(super) struct EncodeArgs {
    #[command(flatten)]
    pub input: ModelAndData,
    /// Where to write: NAME.npy (float32 [N, 2·latent], each row μ then ln σ²; labels in
    /// NAME_labels.npy) or NAME.csv (image, label, mu_0…, logvar_0…).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

impl EncodeArgs {
    /// Encodes every image and writes the table.
    pub(super) fn run(self) -> Result<()> {
        let _out = claim("--out", &self.out, &["npy", "csv"], &self.input.inputs())?;
        let (checkpoint, images) = self.input.load()?;
        let model = &checkpoint.model;
        let (mu, logvar) = encode_all(model, &images);
        write_embeddings(&self.out, &mu, &logvar, &images)?;
        say!(
            "wrote the codes of {} images ({} latent units) to {}",
            images.len(),
            model.config.latent,
            self.out.display()
        )?;
        Ok(())
    }
}
