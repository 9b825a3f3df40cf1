//! How a run starts in its folder: a new run (refused where one is already), a new run
//! that replaces the one there (`--force`), or the run there continued from its newest
//! training state (`--resume`, which refuses other data or another run's settings).

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use optim::Optimizer;
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::error::{Error, Result};
use crate::model::config::ModelConfig;
use crate::model::init::OutputBias;
use crate::model::vae::Vae;
use crate::run::folder::{self as run_folder, RunFolder};
use crate::run::state::{self, RunRecord};
use crate::train::fingerprint::TrainData;
use crate::train::limits::check_training_memory;
use crate::train::metrics;
use crate::train::settings::Settings;
use crate::train::trainer::Trainer;

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
pub(super) struct Run {
    pub(super) trainer: Trainer,
    pub(super) record: RunRecord,
    _lock: File,
}

/// Prints a note on stderr: what the program did on the user's behalf.
pub(super) fn note(message: impl std::fmt::Display) {
    crate::io::console::note_line(format_args!("note: {message}"));
}

/// The run `options.start` asks for in `folder`: locked, cleared of what interrupted
/// writes left, then resumed, or new (refused, or replacing the run there, as asked).
pub(super) fn start_or_resume(
    settings: &Settings,
    config: ModelConfig,
    data: &TrainData,
    options: &RunOptions,
    folder: &RunFolder,
) -> Result<Run> {
    let dir = folder.dir();
    if options.start == Start::Resume && !dir.is_dir() {
        let problem = format!(
            "{} does not exist: there is no run to resume",
            dir.display()
        );
        return Err(Error::config("--resume", problem));
    }
    let lock = folder.lock()?;
    let removed = folder.remove_temporaries()?;
    if !removed.is_empty() {
        let removed = removed.join(", ");
        note(format!(
            "removed what interrupted writes left in {}: {removed}",
            dir.display()
        ));
    }
    if options.start == Start::Resume {
        if let Some((trainer, record)) = resume_newest(settings, data, options, folder)? {
            return Ok(Run {
                trainer,
                record,
                _lock: lock,
            });
        }
    }
    make_room(folder, options.start)?;
    let (trainer, record) = new_run(settings, config, data)?;
    Ok(Run {
        trainer,
        record,
        _lock: lock,
    })
}

/// Before a new run: a folder that holds a run's files is refused (`New`, or `Resume`
/// with no state to resume from) or cleared (`Force`).
fn make_room(folder: &RunFolder, start: Start) -> Result<()> {
    let dir = folder.dir().display();
    let existing = folder.run_files()?;
    let listing = existing
        .iter()
        .map(|p| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        })
        .collect::<Vec<_>>()
        .join(", ");
    if existing.is_empty() {
        if start == Start::Resume {
            note(format!(
                "nothing to resume in {dir}: no epoch was completed there; starting the run \
                 from epoch 1"
            ));
        }
        return Ok(());
    }
    // A run is a folder with a training state; files that merely share a run's names
    // (a user's own report.html) are not ours to replace, --force or not.
    if start == Start::Force && folder.states()?.is_empty() {
        return Err(Error::config(
            "--force",
            format!(
                "{dir} holds files named like a run's ({listing}) but no training state \
                 (state-epoch-*.safetensors): it is not a run this program wrote, so nothing \
                 was deleted; choose another --out, or move those files yourself"
            ),
        ));
    }
    match start {
        Start::Resume => {
            return Err(Error::config(
                "--resume",
                format!(
                    "{dir} holds a run's files ({listing}) but no training state \
                     (state-epoch-*.safetensors) to resume from; replace it with --force or \
                     choose another --out"
                ),
            ))
        }
        Start::New => {
            let problem = match folder.states()?.last() {
                Some((epoch, state)) => format!(
                    "{dir} already holds a run of {epoch} epoch{} (its newest state: {}); \
                     continue it with --resume, replace it with --force, or choose another \
                     --out",
                    if *epoch == 1 { "" } else { "s" },
                    state.file_name().unwrap_or_default().to_string_lossy()
                ),
                None => format!(
                    "{dir} holds files named like a run's ({listing}) but no training state: \
                     not a run this program wrote; choose another --out"
                ),
            };
            return Err(Error::config("--out", problem));
        }
        Start::Force => {
            note(format!("--force: replacing the run in {dir} ({listing})"));
            folder.clear()?;
        }
    }
    Ok(())
}

/// A new run's model (initialised from the seed) and its empty record.
fn new_run(
    settings: &Settings,
    config: ModelConfig,
    data: &TrainData,
) -> Result<(Trainer, RunRecord)> {
    let mut model = Vae::with_init(
        config,
        settings.init,
        &mut StdRng::seed_from_u64(settings.seed),
    );
    if settings.output_bias == OutputBias::DataMean {
        model.set_output_bias_to_means(&data.sets(settings)?.train.pixel_means());
    }
    let record = RunRecord {
        epochs_done: 0,
        settings: settings.clone(),
        data: data.fingerprint.clone(),
        history: Vec::new(),
    };
    Ok((Trainer::for_settings(model, settings), record))
}

/// The folder's newest state resumed (`Some`), or `None` when there is no state to
/// resume. A damaged newest state is an error that says whether an older one remains;
/// a state of the old two-file format is refused.
fn resume_newest(
    settings: &Settings,
    data: &TrainData,
    options: &RunOptions,
    folder: &RunFolder,
) -> Result<Option<(Trainer, RunRecord)>> {
    let mut states = folder.states()?;
    if let Some((epoch, path)) = states.pop() {
        let resumed = resume((epoch, &path), settings, data, options, folder).map_err(|e| {
            match (e, states.last()) {
                (Error::Invalid { path: bad, problem }, Some((_, older))) if bad == path => {
                    let older = older.file_name().unwrap_or_default().to_string_lossy();
                    let problem = format!(
                        "{problem}. An older state, {older}, remains: move this one away \
                         to resume from it"
                    );
                    Error::invalid(&bad, problem)
                }
                (e, _) => e,
            }
        });
        return resumed.map(Some);
    }
    let old = folder.file(run_folder::OLD_STATE);
    if old.exists() {
        return Err(Error::invalid(
            &old,
            "was written by an earlier version, which kept the weights and the optimizer \
             state in two files that a crash could leave from different epochs; it cannot \
             be resumed safely. Start the run again with --force",
        ));
    }
    Ok(None)
}

/// The run of the state at `path`, checked against this command's data and settings.
fn resume(
    (named, path): (usize, &Path),
    settings: &Settings,
    data: &TrainData,
    options: &RunOptions,
    folder: &RunFolder,
) -> Result<(Trainer, RunRecord)> {
    let saved = state::load(path)?;
    let done = saved.record.epochs_done;
    if done != named {
        return Err(Error::invalid(
            path,
            format!(
                "is named for epoch {named} but holds the state after epoch {done} (copied \
                 or renamed?); resuming from it would trust the name: move it away, or name \
                 it state-epoch-{done:04}.safetensors"
            ),
        ));
    }
    let dir = folder.dir();
    if saved.record.data.sha256 != data.fingerprint.sha256 {
        return Err(Error::config(
            "--data",
            format!(
                "the run in {} was trained on {}; this command reads {}. Resume it with the \
                 same data",
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
                "the run in {} has already trained {done} epochs; give --epochs above \
                 {done} to train more",
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
    Ok((trainer, record))
}
