//! `vae train`: its flags, and the call into [`crate::run::lifecycle`].

use super::counts;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Args;

use super::data_args::{resolve_data_dir, DataArgs};
use crate::data::source;
use crate::error::{Error, Result};
use crate::io::console::{note, progress};
use crate::model::config::Arch;
use crate::model::init::{Init, OutputBias};
use crate::objective::loss::Objective;
use crate::run::folder::RunFolder;
use crate::run::interrupt;
use crate::run::lifecycle::run;
use crate::run::start::{RunOptions, Start, KEEP_CHECKPOINTS};
use crate::run::state;
use crate::train::fingerprint::TrainData;
use crate::train::settings::Settings;

#[derive(Args, Debug)]
pub(super) struct TrainArgs {
    /// Run folder to write (created if needed). A folder that already holds a run is
    /// refused unless --resume or --force is given.
    #[arg(long, value_name = "DIR", default_value = "runs/default")]
    out: PathBuf,
    /// Continue the run in --out from its newest training state. Flags not given keep
    /// the run's values; --epochs, --lr, --lr-schedule, --lr-warmup, --clip-grad-norm,
    /// --adam-eps and --pictures-every may change (each change is reported); the
    /// architecture, objective, seed, batch size and data may not.
    #[arg(long, conflicts_with = "force")]
    resume: bool,
    /// Replace the run in --out (its files are listed, then deleted) with a new one.
    #[arg(long)]
    force: bool,
    /// Training states to keep in the run folder, newest first (one per epoch).
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "N", default_value_t = KEEP_CHECKPOINTS)]
    keep_checkpoints: usize,
    /// Epochs to train (in all, counting those of a resumed run).
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().epochs)]
    epochs: usize,
    /// Images per training step.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().batch_size)]
    batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = Settings::default().lr)]
    lr: f64,
    /// The model: mlp (dense layers) or conv (conv layers, then dense ones; the decoder
    /// mirrors them with transposed convs).
    #[arg(long, value_enum, default_value_t = Settings::default().arch)]
    arch: Arch,
    /// Hidden (dense) sizes, comma-separated (the decoder mirrors them), e.g. 200,200;
    /// for --arch conv, the dense layers after the conv layers, or none. [default: 400
    /// for mlp, none for conv]
    #[arg(long, value_parser = parse_sizes, value_name = "SIZES")]
    hidden: Option<Sizes>,
    /// --arch conv: output channels of each conv layer, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = Settings::default().channels)]
    channels: Vec<usize>,
    /// --arch conv: the side of every conv layer's square kernel.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().kernel)]
    kernel: usize,
    /// --arch conv: every conv layer's stride.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().stride)]
    stride: usize,
    /// --arch conv: every conv layer's zero padding.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().padding)]
    padding: usize,
    /// Size of the latent code z.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().latent)]
    latent: usize,
    /// Hidden activation: relu, tanh, sigmoid, softplus or leaky_relu.
    #[arg(long, default_value_t = Settings::default().activation)]
    activation: String,
    /// Weight of the KL term (β-VAE; 1 is the ELBO).
    #[arg(long, default_value_t = Settings::default().beta)]
    beta: f64,
    /// Epochs over which β ramps up linearly from 0 (KL warm-up); 0 disables.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().kl_warmup)]
    kl_warmup: usize,
    /// Dynamically binarize pixels (a fresh Bernoulli draw per batch) instead of [0, 1].
    #[arg(long)]
    binarize: bool,
    /// Learning rate by epoch: constant, step:EVERY:GAMMA, exp:GAMMA, cosine:MIN_LR,
    /// piecewise:E1=LR1,E2=LR2,... or iwae (the IWAE paper's 3,280-epoch schedule).
    #[arg(long, default_value_t = Settings::default().lr_schedule, value_name = "SCHEDULE")]
    lr_schedule: String,
    /// Epochs of linear learning-rate warm-up in front of the schedule.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().lr_warmup, value_name = "EPOCHS")]
    lr_warmup: usize,
    /// Clip the gradients' global L2 norm to this value before each update.
    #[arg(long, value_name = "MAX_NORM")]
    clip_grad_norm: Option<f64>,
    /// Adam's ε (PyTorch's default; the IWAE paper used 1e-4).
    #[arg(long, default_value_t = Settings::default().adam_eps)]
    adam_eps: f64,
    /// What training minimises: elbo (the closed-form-KL ELBO) or iwae (the
    /// importance-weighted bound of Burda et al. with --k samples per image).
    #[arg(long, value_enum, default_value_t = Settings::default().objective)]
    objective: Objective,
    /// Importance samples per image for --objective iwae.
    #[arg(value_parser = counts::whole::<usize>, long, default_value_t = Settings::default().k)]
    k: usize,
    /// Initial weights: pytorch (uniform ±1/√fan_in, biases too) or glorot (uniform
    /// ±√(6/(fan_in+fan_out)), zero biases; the IWAE paper's).
    #[arg(long, value_enum, default_value_t = Settings::default().init)]
    init: Init,
    /// The decoder's output bias at the start: init (as --init draws it) or data-mean (the
    /// logit of each pixel's mean over the training set, clipped to [0.001, 0.999]).
    #[arg(long, value_enum, default_value_t = Settings::default().output_bias)]
    output_bias: OutputBias,
    /// No progress bar or per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// Train on the first N images of the training set only (before --valid-fraction).
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "N")]
    limit: Option<usize>,
    /// Hold out this fraction of the training images (drawn from --seed) and report the
    /// loss on them after every epoch, beside the test loss (or instead of it, for data
    /// without a test set).
    #[arg(long, value_name = "F", default_value_t = Settings::default().valid_fraction)]
    valid_fraction: f64,
    /// Write samples_epochNNNN.png and reconstructions_epochNNNN.png (from one fixed
    /// noise, so epochs compare), the interpolation strip and the latent map every N
    /// epochs and after the last; 0 draws them after the last epoch only.
    #[arg(value_parser = counts::whole::<usize>, long, value_name = "N", default_value_t = Settings::default().pictures_every)]
    pictures_every: usize,
    #[command(flatten)]
    pub common: DataArgs,
}

impl TrainArgs {
    /// The run's settings as these flags give them.
    fn settings(&self) -> Settings {
        let hidden = match (&self.hidden, self.arch) {
            (Some(Sizes(sizes)), _) => sizes.clone(),
            (None, Arch::Mlp) => Settings::default().hidden,
            (None, Arch::Conv) => vec![],
        };
        Settings {
            arch: self.arch,
            channels: self.channels.clone(),
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding,
            hidden,
            latent: self.latent,
            activation: self.activation.clone(),
            beta: self.beta,
            kl_warmup: self.kl_warmup,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            seed: self.common.seed,
            binarize: self.binarize,
            lr_schedule: self.lr_schedule.clone(),
            lr_warmup: self.lr_warmup,
            clip_grad_norm: self.clip_grad_norm,
            adam_eps: self.adam_eps,
            objective: self.objective,
            k: self.k,
            init: self.init,
            output_bias: self.output_bias,
            limit: self.limit,
            valid_fraction: self.valid_fraction,
            image_size: self.common.image_size,
            pictures_every: self.pictures_every,
        }
    }
}

impl TrainArgs {
    /// Trains; `given` holds the ids of the flags typed on the command line.
    pub(super) fn run(mut self, given: &BTreeSet<String>) -> Result<()> {
        let settings = self.settings();
        settings.validate()?;
        interrupt::watch()?;
        if !given.contains("out") && !self.resume && !self.force {
            self.out = free_default_folder(&self.out)?;
        }
        let start = match (self.resume, self.force) {
            (true, _) => Start::Resume,
            (false, true) => Start::Force,
            _ => Start::New,
        };
        // A resumed run reads the data it was started with (the source, and the size its
        // images were brought to), unless --data or --image-size say otherwise. A state
        // that cannot be read is reported by the run itself, with its remedy.
        let (mut data_dir, mut image_size) = (self.common.data_or_default(), settings.image_size);
        if start == Start::Resume {
            let newest = RunFolder::new(&self.out).states()?.pop();
            if let Some(saved) = newest.and_then(|(_, path)| state::load(&path).ok()) {
                if !given.contains("data") {
                    data_dir = PathBuf::from(saved.record.data.source);
                    if !resolve_data_dir(&data_dir).exists() {
                        return Err(Error::config(
                            "--data",
                            format!(
                                "not given, and the run in {} was started on {}, which is not \
                                 found from here (a path relative to where it started?); give \
                                 --data",
                                self.out.display(),
                                data_dir.display()
                            ),
                        ));
                    }
                }
                if !given.contains("image_size") {
                    image_size = saved.record.settings.image_size;
                }
            }
        }
        let loaded = source::load_data(&resolve_data_dir(&data_dir), image_size)?;
        // The fingerprint records the source as given, not where it was found.
        let data = TrainData::new(&data_dir, loaded.train, loaded.test)?;
        let options = RunOptions {
            out: self.out.clone(),
            start,
            keep_checkpoints: self.keep_checkpoints,
            progress: !self.quiet,
            given: Some(given.clone()),
        };
        let history = run(&settings, &data, &options)?;
        if let (Some(last), false) = (history.last(), self.quiet) {
            let held_out = match (last.test_loss, last.valid_loss) {
                (Some(l), _) => format!("final test loss {l:.2} nats per image; "),
                (None, Some(l)) => format!("final validation loss {l:.2} nats per image; "),
                _ => String::new(),
            };
            progress(format_args!("{held_out}run folder {}", self.out.display()));
        }
        Ok(())
    }
}

/// Where a new run goes when no `--out` is given: `runs/default`, or the first of
/// `runs/default-2`, `runs/default-3`, … that holds no run, saying so (the quick start's
/// command, run twice, would otherwise stop at the first run it wrote).
fn free_default_folder(default: &Path) -> Result<PathBuf> {
    let holds_run = |dir: &Path| -> Result<bool> {
        Ok(dir.is_dir() && !RunFolder::new(dir).run_files()?.is_empty())
    };
    if !holds_run(default)? {
        return Ok(default.to_path_buf());
    }
    for n in 2..10_000 {
        let mut name = default.as_os_str().to_owned();
        name.push(format!("-{n}"));
        let candidate = PathBuf::from(name);
        if !holds_run(&candidate)? {
            note!(
                "note: {} holds a run already; this one goes to {} (--out chooses the \
                 folder, --resume continues the other)",
                default.display(),
                candidate.display()
            );
            return Ok(candidate);
        }
    }
    Err(Error::config(
        "--out",
        format!(
            "{}-2 … -9999 all hold runs; choose a folder",
            default.display()
        ),
    ))
}

/// Layer sizes as typed: `200,200`, or `none` (or nothing) for no layer.
#[derive(Clone, Debug)]
pub(super) struct Sizes(Vec<usize>);

fn parse_sizes(text: &str) -> std::result::Result<Sizes, String> {
    if text.is_empty() || text == "none" {
        return Ok(Sizes(vec![]));
    }
    text.split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("'{s}' is not a size: give sizes like 200,200, or none"))
        })
        .collect::<std::result::Result<_, _>>()
        .map(Sizes)
}
