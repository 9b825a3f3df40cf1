//! A training run in its folder: start it, or resume it exactly; train its epochs; after
//! each one commit the training state and rewrite the exports.
//!
//! The order of the writes is what makes a run survive a crash at any moment:
//!
//! 1. `state-epoch-N.safetensors` (one atomic rename: the epoch is now done, whatever
//!    happens next);
//! 2. older states beyond `--keep-checkpoints` are deleted;
//! 3. the exports, each atomic ([`crate::run::outputs`]): `checkpoint.safetensors`,
//!    `metrics.jsonl`, `loss_curve.svg` and `.png`, the pictures of a pictures epoch,
//!    `report.html`; after the last epoch, `samples.png` and `reconstructions.png`.
//!
//! `--resume` reads only the newest state, checks it was made from the same data and
//! settings, rewrites the exports from it (a crash may have come between 1 and 3) and
//! goes on. Each epoch draws from its own random stream, derived from (seed, epoch), so
//! the resumed run ends with exactly the weights of an uninterrupted one.

use crate::error::{Error, Result};
use crate::io::console::progress;
use crate::io::faults;
use crate::run::folder::RunFolder;
use crate::run::interrupt;
use crate::run::outputs::{write_epoch_outputs, write_final_pictures};
use crate::run::start::{start_or_resume, Run, RunOptions};
use crate::run::state;
use crate::train::fingerprint::TrainData;
use crate::train::limits::check_training_memory;
use crate::train::metrics::EpochMetrics;
use crate::train::settings::Settings;
use crate::train::trainer::train_epoch;
use optim::Optimizer;

/// Trains on `data`'s training set, scores its test and validation sets after every
/// epoch, and writes the run folder as the module docs say. Returns the figures of every
/// epoch of the run.
pub fn run(
    settings: &Settings,
    data: &TrainData,
    options: &RunOptions,
) -> Result<Vec<EpochMetrics>> {
    settings.validate()?;
    if options.keep_checkpoints == 0 {
        return Err(Error::config("--keep-checkpoints", "must be at least 1"));
    }
    // Sizes first: an impossible model is refused before the run folder is touched.
    let config = settings.model((data.train.rows, data.train.cols))?;
    check_training_memory(&config, settings.rows_per_step())?;
    let folder = RunFolder::new(&options.out);
    let mut run = start_or_resume(settings, config, data, options, &folder)?;
    let epochs = run.record.settings.epochs;
    interrupt::committed(folder.dir(), run.record.epochs_done, epochs);
    let sets = data.sets(&run.record.settings)?;
    if run.record.epochs_done > 0 {
        // A crash between the state and the exports leaves the exports one epoch behind.
        write_epoch_outputs(&folder, &run.trainer.model, &run.record, sets.held_out())?;
    }
    if options.progress {
        let (config, s) = (&run.trainer.model.config, &run.record.settings);
        progress(format_args!(
            "training {} {} ({} parameters) on {} images, {epochs} epochs, batch {}, \
             {} threads → {}",
            config.name(),
            config.activation,
            config.param_count(),
            sets.train.len(),
            s.batch_size,
            rayon::current_num_threads(),
            folder.dir().display()
        ));
    }
    for epoch in run.record.epochs_done + 1..=epochs {
        let m = train_epoch(
            &mut run.trainer,
            &run.record.settings,
            &sets,
            epoch,
            options.progress,
        )?;
        if options.progress {
            progress(format_args!("{}", m.summary(epochs)));
        }
        commit_epoch(&mut run, m, &folder, options.keep_checkpoints)?;
        interrupt::committed(folder.dir(), epoch, epochs);
        write_epoch_outputs(&folder, &run.trainer.model, &run.record, sets.held_out())?;
    }
    write_final_pictures(&folder, &run.trainer.model, &run.record, sets.held_out())?;
    Ok(run.record.history)
}

/// The end of an epoch: the state (the commit point), then the pruning of old states
/// (the exports follow).
fn commit_epoch(
    run: &mut Run,
    metrics: EpochMetrics,
    folder: &RunFolder,
    keep: usize,
) -> Result<()> {
    let epoch = metrics.epoch;
    run.record.history.push(metrics);
    run.record.epochs_done = epoch;
    let model = &run.trainer.model;
    let optimizer = run.trainer.optimizer.state();
    state::save(&folder.state(epoch), model, &optimizer, &run.record)?;
    faults::point(&format!("epoch-{epoch}:committed")).map_err(faults::as_error)?;
    folder.prune_states(keep, epoch)
}
