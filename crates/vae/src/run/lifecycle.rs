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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::error::{Error, Result};
use crate::io::faults;
use crate::model::config::ModelConfig;
use crate::model::init::OutputBias;
use crate::model::vae::Vae;
use crate::run::folder as run_folder;
use crate::run::folder::RunFolder;
use crate::run::outputs::{write_epoch_outputs, write_final_pictures};
use crate::run::state::{self, RunRecord};
use crate::train::fingerprint::TrainData;
use crate::train::limits::check_training_memory;
use crate::train::metrics::{self, EpochMetrics};
use crate::train::settings::Settings;
use crate::train::trainer::{train_epoch, Trainer};
use optim::Optimizer;

/// How a run starts in its folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// A new run; refused if the folder already holds one.
    New,
    /// A new run that replaces the one in the folder (`--force`).
    Force,
    /// Continue the run in the folder from its newest state (`--resume`).
    Resume,
}

/// Training states kept by default: the newest one.
pub const KEEP_CHECKPOINTS: usize = 1;

/// Where a run writes, and how it reports.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The run folder.
    pub out: PathBuf,
    /// New, replacing, or resumed.
    pub start: Start,
    /// Training states to keep (the newest ones); at least 1.
    pub keep_checkpoints: usize,
    /// Show a progress bar and per-epoch lines.
    pub progress: bool,
    /// The settings given on the command line (field names); a resumed run keeps its
    /// saved values for the others. `None`: all of them were given.
    pub given: Option<BTreeSet<String>>,
}

impl RunOptions {
    /// Options for a new run in `out`, quiet, keeping one state.
    pub fn new(out: &Path, start: Start) -> Self {
        RunOptions {
            out: out.to_path_buf(),
            start,
            keep_checkpoints: KEEP_CHECKPOINTS,
            progress: false,
            given: None,
        }
    }
}

/// A run under way: the trainer, where it stands, and the folder's lock.
struct Run {
    trainer: Trainer,
    record: RunRecord,
    _lock: std::fs::File,
}

/// Trains on `data`'s training set, scores its test and validation sets after every
/// epoch, and writes the run folder as the module docs say. Returns the figures of every epoch of the run.
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
    let config = settings.model(data.train.pixels())?;
    check_training_memory(&config, settings.rows_per_step())?;
    let folder = RunFolder::new(&options.out);
    let mut run = start_or_resume(settings, config, data, options, &folder)?;
    let epochs = run.record.settings.epochs;
    let sets = data.sets(&run.record.settings)?;
    if run.record.epochs_done > 0 {
        // A crash between the state and the exports leaves the exports one epoch behind.
        write_epoch_outputs(&folder, &run.trainer.model, &run.record, sets.held_out())?;
    }
    if options.progress {
        let (config, s) = (&run.trainer.model.config, &run.record.settings);
        println!(
            "training {} {} ({} parameters) on {} images, {epochs} epochs, batch {}, {} threads → {}",
            config.name(),
            config.activation,
            config.param_count(),
            sets.train.len(),
            s.batch_size,
            rayon::current_num_threads(),
            folder.dir().display()
        );
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
            println!("{}", m.summary(epochs));
        }
        commit_epoch(&mut run, m, &folder, options.keep_checkpoints)?;
        write_epoch_outputs(&folder, &run.trainer.model, &run.record, sets.held_out())?;
    }
    write_final_pictures(&folder, &run.trainer.model, &run.record, sets.held_out())?;
    Ok(run.record.history)
}

fn note(message: impl std::fmt::Display) {
    eprintln!("note: {message}");
}

fn start_or_resume(
    settings: &Settings,
    config: ModelConfig,
    data: &TrainData,
    options: &RunOptions,
    folder: &RunFolder,
) -> Result<Run> {
    let dir = folder.dir();
    if options.start == Start::Resume && !dir.is_dir() {
        return Err(Error::config(
            "--resume",
            format!(
                "{} does not exist: there is no run to resume",
                dir.display()
            ),
        ));
    }
    let lock = folder.lock()?;
    let removed = folder.remove_temporaries()?;
    if !removed.is_empty() {
        note(format!(
            "removed what interrupted writes left in {}: {}",
            dir.display(),
            removed.join(", ")
        ));
    }
    let existing = folder.run_files()?;
    let listing = || {
        existing
            .iter()
            .map(|p| {
                p.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match options.start {
        Start::Resume => {
            let mut states = folder.states()?;
            if let Some((_, path)) = states.pop() {
                return resume(&path, settings, data, options, folder, lock).map_err(|e| {
                    match (e, states.last()) {
                        // A damaged newest state: say that an older one remains.
                        (Error::Invalid { path: bad, problem }, Some((_, older))) if bad == path => {
                            let older = older.file_name().unwrap_or_default().to_string_lossy();
                            Error::invalid(&bad, format!("{problem}. An older state, {older}, remains: move this one away to resume from it"))
                        }
                        (e, _) => e,
                    }
                });
            }
            let old = folder.file(run_folder::OLD_STATE);
            if old.exists() {
                return Err(Error::invalid(
                    &old,
                    "was written by an earlier version, which kept the weights and the optimizer state in two files that a crash could leave from different epochs; it cannot be resumed safely. Start the run again with --force",
                ));
            }
            if !existing.is_empty() {
                return Err(Error::config(
                    "--resume",
                    format!(
                        "{} holds a run's files ({}) but no training state (state-epoch-*.safetensors) to resume from; replace it with --force or choose another --out",
                        dir.display(),
                        listing()
                    ),
                ));
            }
            note(format!(
                "nothing to resume in {}: no epoch was completed there; starting the run from epoch 1",
                dir.display()
            ));
        }
        Start::New if !existing.is_empty() => {
            return Err(Error::config(
                "--out",
                format!(
                    "{} already holds a run ({}); continue it with --resume, replace it with --force, or choose another --out",
                    dir.display(),
                    listing()
                ),
            ));
        }
        Start::Force if !existing.is_empty() => {
            note(format!(
                "--force: replacing the run in {} ({})",
                dir.display(),
                listing()
            ));
            folder.clear()?;
        }
        _ => {}
    }
    let mut model = Vae::with_init(
        config,
        settings.init,
        &mut StdRng::seed_from_u64(settings.seed),
    );
    if settings.output_bias == OutputBias::DataMean {
        model.set_output_bias_to_means(&data.sets(settings)?.train.pixel_means());
    }
    Ok(Run {
        trainer: Trainer::for_settings(model, settings),
        record: RunRecord {
            epochs_done: 0,
            settings: settings.clone(),
            data: data.fingerprint.clone(),
            history: Vec::new(),
        },
        _lock: lock,
    })
}

fn resume(
    path: &Path,
    settings: &Settings,
    data: &TrainData,
    options: &RunOptions,
    folder: &RunFolder,
    lock: std::fs::File,
) -> Result<Run> {
    let saved = state::load(path)?;
    let dir = folder.dir();
    if saved.record.data.sha256 != data.fingerprint.sha256 {
        return Err(Error::config(
            "--data",
            format!(
                "the run in {} was trained on {}; this command reads {}. Resume it with the same data",
                dir.display(),
                saved.record.data,
                data.fingerprint
            ),
        ));
    }
    let is_given = |field: &str| options.given.as_ref().is_none_or(|g| g.contains(field));
    let (settings, changes) = settings.resumed(&saved.record.settings, &is_given, dir)?;
    settings.validate()?;
    let done = saved.record.epochs_done;
    if settings.epochs < done {
        return Err(Error::config(
            "--epochs",
            format!(
                "the run in {} has already trained {done} epochs; give --epochs above {done} to train more",
                dir.display()
            ),
        ));
    }
    check_training_memory(&saved.model.config, settings.rows_per_step())?;
    for change in &changes {
        note(format!("resuming with {change}"));
    }
    let mut trainer = Trainer::for_settings(saved.model, &settings);
    trainer
        .optimizer
        .load_state(saved.optimizer)
        .map_err(|e| Error::invalid(path, e.to_string()))?;
    let mut record = RunRecord {
        settings,
        data: data.fingerprint.clone(),
        ..saved.record
    };
    metrics::restore_timings(&mut record.history, &folder.file(run_folder::METRICS));
    if options.progress {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        note(format!(
            "resuming {} after epoch {done} of {} ({name})",
            dir.display(),
            record.settings.epochs
        ));
    }
    if done == record.settings.epochs {
        note(format!(
            "the run in {} has completed its {done} epochs; its outputs are rewritten from {}",
            dir.display(),
            path.display()
        ));
    }
    Ok(Run {
        trainer,
        record,
        _lock: lock,
    })
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
    folder.prune_states(keep)
}
