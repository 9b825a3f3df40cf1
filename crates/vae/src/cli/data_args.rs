//! The flags every subcommand that reads data shares, and what they read.

use super::counts;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::data::dataset::Dataset;
use crate::data::source::{self, parse_image_size, Part};
use crate::error::{Error, Result};
use crate::io::console::note;
use crate::io::tensor_file::Verification;
use crate::model::checkpoint::{load_model, Checkpoint};
use crate::model::config::ModelConfig;

/// The bundled MNIST, relative to the project's root.
pub(super) const DEFAULT_DATA: &str = "datasets/mnist";

#[derive(Args, Debug, Clone)]
pub(super) struct DataArgs {
    /// The data: a folder with MNIST-style IDX files (gzipped or raw; Fashion-MNIST and
    /// KMNIST ship the same four), a folder of PNG/JPEG images (subfolders are labels;
    /// train/ and test/ subfolders are the two sets), or a .npy file ([N, D] or [N, H, W],
    /// uint8 or floats in [0, 1]; labels in NAME_labels.npy beside it). Default: for
    /// train, the bundled MNIST (datasets/mnist); for the tools, the data the model was
    /// trained on, as its checkpoint records it (else MNIST).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Resize a folder's images to HEIGHTxWIDTH (needed when their sizes differ), or
    /// shape a .npy of flat [N, D] images (H·W = D).
    #[arg(long, value_name = "HxW", value_parser = parse_image_size)]
    pub image_size: Option<(usize, usize)>,
    /// Worker threads for the matrix kernel and elementwise ops (default: all cores;
    /// more than the cores are never faster, and are capped to them).
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "N")]
    pub threads: Option<usize>,
    /// Seed of every random choice.
    #[arg(value_parser = counts::whole::<u64>, long, default_value_t = crate::train::settings::Settings::default().seed)]
    pub seed: u64,
}

/// Which images of `--data` a command reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum WhichSet {
    /// The test set, or all the images of a source without one.
    Auto,
    /// The training set (all the images of a source without a test set).
    Train,
    /// The test set (an error for a source without one).
    Test,
}

/// A checkpoint and the images to use it on: the flags of every subcommand that reads both.
#[derive(Args, Debug)]
pub(super) struct ModelAndData {
    /// The weights file (checkpoint.safetensors of a run, a training state, or a file
    /// made elsewhere).
    #[arg(long, value_name = "FILE")]
    pub checkpoint: PathBuf,
    /// Which images of --data: auto (the test set, or all the images of data without
    /// one), train or test.
    #[arg(long, value_enum, default_value_t = WhichSet::Auto)]
    pub set: WhichSet,
    #[command(flatten)]
    pub common: DataArgs,
}

impl ModelAndData {
    /// The model, and the images of --data it takes (checked to be of its size).
    pub(super) fn load(&self) -> Result<(Checkpoint<f32>, Dataset)> {
        let checkpoint = load_checkpoint(&self.checkpoint)?;
        let images = self
            .common
            .images(self.set, &checkpoint, &self.checkpoint)?;
        Ok((checkpoint, images))
    }
}

impl ModelAndData {
    /// The files and folders a command reads: what it may never write over.
    pub(super) fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        let mut inputs = vec![("--checkpoint", self.checkpoint.clone())];
        inputs.extend(self.common.inputs());
        inputs
    }
}

impl DataArgs {
    /// The data `--data` reads: the folder or file, and a `.npy`'s labels beside it.
    pub(super) fn inputs(&self) -> Vec<(&'static str, PathBuf)> {
        let data = resolve_data_dir(&self.data_or_default());
        let npy = data
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        let mut inputs = vec![("--data", data.clone())];
        if npy {
            inputs.push(("--data", crate::data::npy::labels_path(&data)));
        }
        inputs
    }

    /// The images `which` names, checked to fit the model `config` read from
    /// `checkpoint`: as many pixels for an MLP, the very height and width for a conv model.
    pub(super) fn images(
        &self,
        which: WhichSet,
        model: &Checkpoint<f32>,
        checkpoint: &Path,
    ) -> Result<Dataset> {
        let path = self.data_for(model, checkpoint)?;
        let fits = |size| fits_model(&model.model.config, checkpoint, &path, size);
        let (set, test) = source::load_part(&path, self.image_size, which.part(), &fits)?;
        if set.is_empty() {
            let what = if test { "test" } else { "training" };
            return Err(Error::invalid(
                &path,
                format!("the {what} set holds no images"),
            ));
        }
        fits((set.rows, set.cols))?;
        Ok(set)
    }
}

impl WhichSet {
    fn part(self) -> Part {
        match self {
            WhichSet::Auto => Part::Auto,
            WhichSet::Train => Part::Train,
            WhichSet::Test => Part::Test,
        }
    }
}

/// Whether images of `(height, width)` from `data` fit the model `config` of
/// `checkpoint`: as many pixels for an MLP, the very height and width for a conv model.
fn fits_model(
    config: &ModelConfig,
    checkpoint: &Path,
    data: &Path,
    (rows, cols): (usize, usize),
) -> Result<()> {
    if let Some([_, h, w]) = config.conv.as_ref().map(|c| c.image) {
        if (rows, cols) != (h, w) {
            return Err(Error::invalid(
                checkpoint,
                format!(
                    "the conv model takes {h}×{w} images, those in {} are {rows}×{cols} (give \
                     --image-size {h}x{w} to resize a folder's images)",
                    data.display(),
                ),
            ));
        }
    }
    let input_dim = config.input_dim;
    if rows * cols != input_dim {
        return Err(Error::invalid(
            checkpoint,
            format!(
                "the model takes {input_dim} pixels per image, the images in {} have \
                 {rows}×{cols} = {}",
                data.display(),
                rows * cols
            ),
        ));
    }
    Ok(())
}

/// A model and what its file says, with one stderr note when the file carries no
/// digests to verify it by.
pub(super) fn load_checkpoint(path: &Path) -> Result<Checkpoint<f32>> {
    let checkpoint = load_model::<f32>(path)?;
    if checkpoint.verification == Verification::Unverified {
        let config = &checkpoint.model.config;
        let images = checkpoint
            .image_size
            .map_or("no image size".into(), |(h, w)| format!("{h}×{w} images"));
        note!(
            "note: {} records no SHA-256 digests (made elsewhere?): it could not be verified, \
             and its settings are taken as its metadata states them: {} activation, β = {}, {images}",
            path.display(),
            config.activation,
            checkpoint.beta
        );
    }
    Ok(checkpoint)
}

/// The (height, width) pictures of `checkpoint`'s model are drawn at: `--image-size` if
/// given, else what the file says (or a square), else an error that asks for the flag.
pub(super) fn picture_size(
    given: Option<(usize, usize)>,
    checkpoint: &Checkpoint<f32>,
    path: &Path,
) -> Result<(usize, usize)> {
    let input_dim = checkpoint.model.config.input_dim;
    let conv_image = checkpoint
        .model
        .config
        .conv
        .as_ref()
        .map(|c| [c.image[1], c.image[2]]);
    match given.or(checkpoint.image_size) {
        Some((h, w)) if conv_image.is_some_and(|image| image != [h, w]) => Err(Error::config(
            "--image-size",
            format!(
                "{h}x{w}, but the conv model in {} draws {:?} images",
                path.display(),
                conv_image.unwrap_or_default()
            ),
        )),
        Some((h, w)) if h * w == input_dim => Ok((h, w)),
        Some((h, w)) => Err(Error::config(
            "--image-size",
            format!(
                "{h}x{w} = {} pixels, but {} takes {input_dim}",
                h * w,
                path.display()
            ),
        )),
        None => Err(Error::config(
            "--image-size",
            format!(
                "{} does not say its images' size ({input_dim} pixels): give HEIGHTxWIDTH",
                path.display()
            ),
        )),
    }
}

impl DataArgs {
    /// `--data` as given, or MNIST's folder.
    pub(super) fn data_or_default(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA))
    }

    /// The data a tool reads for the model in `checkpoint`: `--data` if given, else the
    /// data it was trained on as the file records it (saying so, and an error naming the
    /// flag when it cannot be found from here), else MNIST.
    fn data_for(&self, model: &Checkpoint<f32>, checkpoint: &Path) -> Result<PathBuf> {
        if let Some(given) = &self.data {
            return Ok(resolve_data_dir(given));
        }
        let Some(trained_on) = &model.trained_on else {
            return Ok(resolve_data_dir(Path::new(DEFAULT_DATA)));
        };
        let source = resolve_data_dir(Path::new(&trained_on.source));
        if !source.exists() {
            return Err(Error::config(
                "--data",
                format!(
                    "not given, and {} was trained on {}, which is not found from here; \
                     give --data",
                    checkpoint.display(),
                    trained_on.source
                ),
            ));
        }
        if Path::new(&trained_on.source) != Path::new(DEFAULT_DATA) {
            note!(
                "note: reading {}, the data {} was trained on (--data reads other data)",
                source.display(),
                checkpoint.display()
            );
        }
        Ok(source)
    }
}

/// The default `datasets/mnist` is relative to the current folder; when the program runs
/// from elsewhere, fall back to the copy bundled with the source tree it was built from.
pub(super) fn resolve_data_dir(dir: &Path) -> PathBuf {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(DEFAULT_DATA);
    if !dir.exists() && dir == Path::new(DEFAULT_DATA) && bundled.exists() {
        bundled.canonicalize().unwrap_or(bundled) // printed without `crates/vae/../..`
    } else {
        dir.to_path_buf()
    }
}
