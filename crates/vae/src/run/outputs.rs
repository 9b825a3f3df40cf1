//! What a run folder shows after each epoch, all rewritten from the training state (so
//! a resumed run rewrites what a crash interrupted): the weights, the metrics, the loss
//! curves, the pictures when the epoch is a pictures epoch, and `report.html`.

use crate::data::dataset::Dataset;
use crate::error::Result;
use crate::model::checkpoint::save_model;
use crate::model::vae::Vae;
use crate::outputs::latent::write_latent_map;
use crate::outputs::pictures::{
    write_interpolations, write_pictures, write_reconstructions, write_samples,
};
use crate::outputs::plots;
use crate::run::folder as run_folder;
use crate::run::folder::{RunFolder, EPOCH_PICTURES};
use crate::run::report::write_report;
use crate::run::state::RunRecord;
use crate::train::metrics;
use crate::train::settings::epoch_rng;

/// Images on the latent map of a run folder: enough to see the clusters, quick to draw.
const MAP_IMAGES: usize = 5000;
/// Pairs of images on the interpolation strip.
const STRIP_PAIRS: usize = 4;

/// The random stream of a run's pictures: the same z for the samples of every epoch.
fn picture_rng(seed: u64) -> rand::rngs::StdRng {
    epoch_rng(seed, 0)
}

/// True when `epoch` (1-based) is one whose pictures are drawn.
pub fn is_pictures_epoch(record: &RunRecord, epoch: usize) -> bool {
    let every = record.settings.pictures_every;
    epoch == record.settings.epochs || (every > 0 && epoch.is_multiple_of(every))
}

/// The files rewritten from the state after every epoch. `held_out` is the set whose
/// images the pictures show.
pub fn write_epoch_outputs(
    folder: &RunFolder,
    model: &Vae<f32>,
    record: &RunRecord,
    held_out: &Dataset,
) -> Result<()> {
    let [h, w] = record.data.image_size;
    save_model(
        &folder.file(run_folder::CHECKPOINT),
        model,
        record.settings.beta,
        Some((h, w)),
        Some(&record.trained_on()),
    )?;
    metrics::write_jsonl(&folder.file(run_folder::METRICS), &record.history)?;
    plots::write_loss_curves(&folder.file(run_folder::LOSS_CURVE), &record.history)?;
    let epoch = record.epochs_done;
    if epoch > 0 && is_pictures_epoch(record, epoch) {
        write_epoch_pictures(folder, model, record, held_out)?;
    }
    write_report(folder, record)
}

/// The pictures of the latest epoch: samples (from the run's fixed noise) and
/// reconstructions numbered by epoch, the interpolation strip and the latent map.
fn write_epoch_pictures(
    folder: &RunFolder,
    model: &Vae<f32>,
    record: &RunRecord,
    held_out: &Dataset,
) -> Result<()> {
    let (epoch, seed) = (record.epochs_done, record.settings.seed);
    let shape = (held_out.rows, held_out.cols);
    let mut rng = picture_rng(seed);
    write_samples(
        model,
        shape,
        (64, 1.0),
        &folder.epoch_picture(EPOCH_PICTURES[0], epoch),
        &mut rng,
    )?;
    let first: Vec<usize> = (0..held_out.len().min(16)).collect();
    write_reconstructions(
        model,
        held_out,
        &first,
        &folder.epoch_picture(EPOCH_PICTURES[1], epoch),
        &mut rng,
    )?;
    // Pairs of consecutive images: in MNIST's order, mostly two different digits.
    let pairs: Vec<(usize, usize)> = (0..STRIP_PAIRS)
        .map(|p| (2 * p % held_out.len(), (2 * p + 1) % held_out.len()))
        .collect();
    write_interpolations(
        model,
        held_out,
        &pairs,
        (8, false),
        &folder.file(run_folder::INTERPOLATION),
    )?;
    write_latent_map(
        &folder.file(run_folder::LATENT_MAP),
        model,
        &held_out.first(MAP_IMAGES),
    )
}

/// The pictures written once the run is done: samples.png and reconstructions.png.
pub fn write_final_pictures(
    folder: &RunFolder,
    model: &Vae<f32>,
    record: &RunRecord,
    held_out: &Dataset,
) -> Result<()> {
    write_pictures(
        model,
        held_out,
        folder.dir(),
        &mut picture_rng(record.settings.seed),
    )
}
