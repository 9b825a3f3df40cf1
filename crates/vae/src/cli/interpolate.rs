//! `vae interpolate`: images decoded along the path between two images' codes.

use super::counts;
use std::path::PathBuf;

use clap::Args;
use rand::Rng;

use super::counts::{picture, within};
use super::data_args::ModelAndData;
use super::output_file::claim;
use crate::error::{Error, Result};
use crate::io::console::say;
use crate::outputs::pictures::write_interpolations;
use crate::train::settings::epoch_rng;

/// The most images decoded between two ends.
const MAX_STEPS: usize = 256;

/// The most random pairs (rows).
const MAX_PAIRS: usize = 1024;

/// The flags of `vae interpolate` (the help is on its [`super::Command`] variant).
#[derive(Args, Debug)]
pub(super) struct InterpolateArgs {
    #[command(flatten)]
    pub input: ModelAndData,
    /// The two images (0-based indices into the set), e.g. --pair 3,17.
    #[arg(
        long,
        value_delimiter = ',',
        num_args = 1,
        value_name = "I,J",
        conflicts_with = "random"
    )]
    pair: Option<Vec<usize>>,
    /// N random pairs instead (drawn from --seed), one row each.
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "N")]
    random: Option<usize>,
    /// Images decoded between the two ends.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = 8)]
    steps: usize,
    /// Follow the great circle between the codes (slerp) instead of the straight line.
    #[arg(long)]
    spherical: bool,
    /// PNG file to write.
    #[arg(long, value_name = "FILE", default_value = "interpolation.png")]
    out: PathBuf,
}

impl InterpolateArgs {
    /// Writes the rows.
    pub(super) fn run(self) -> Result<()> {
        let _out = claim("--out", &self.out, &["png"], &self.input.inputs())?;
        within("--steps", self.steps, 0..=MAX_STEPS)?;
        if let Some(n) = self.random {
            within("--random", n, 1..=MAX_PAIRS)?;
        }
        let (checkpoint, images) = self.input.load()?;
        let model = &checkpoint.model;
        let pairs = match (&self.pair, self.random) {
            (Some(p), _) if p.len() == 2 => vec![(p[0], p[1])],
            (Some(p), _) => {
                return Err(Error::config(
                    "--pair",
                    format!("give two images, I,J; got {} numbers", p.len()),
                ))
            }
            (None, Some(n)) => {
                let mut rng = epoch_rng(self.input.common.seed, 0);
                (0..n)
                    .map(|_| {
                        (
                            rng.gen_range(0..images.len()),
                            rng.gen_range(0..images.len()),
                        )
                    })
                    .collect()
            }
            (None, None) => return Err(Error::config("--pair", "give --pair I,J or --random N")),
        };
        let row = self.steps + 2;
        picture("--steps", pairs.len() * row, model.config.input_dim)?;
        write_interpolations(
            model,
            &images,
            &pairs,
            (self.steps, self.spherical),
            &self.out,
        )?;
        say!("wrote {}", self.out.display())?;
        Ok(())
    }
}
