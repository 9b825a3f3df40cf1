//! Training: one step (forward, backward, Adam) and the epoch loop with metrics,
//! pictures and checkpoints.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use ndarray::Array2;
use optim::{clip_grad_norm, Adam, AdamConfig, Optimizer};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use tensor::{Tape, Tensor};

use crate::checkpoint::{self, TrainingState};
use crate::data::{shuffled, Dataset};
use crate::eval::{self, Scores};
use crate::images;
use crate::loss::elbo;
use crate::model::Vae;
pub use crate::settings::Settings;
use crate::{Error, Result};

/// One epoch's figures: a line of metrics.jsonl.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean training loss over the epoch (β as used in training).
    pub train_loss: f64,
    /// Mean training reconstruction term.
    pub train_recon: f64,
    /// Mean training KL term.
    pub train_kl: f64,
    /// Test loss (negative ELBO with the final β, z sampled).
    pub test_loss: f64,
    /// Test reconstruction term.
    pub test_recon: f64,
    /// Test KL term.
    pub test_kl: f64,
    /// Wall time of the epoch's training steps and test pass.
    pub seconds: f64,
    /// Training images per second (training steps only).
    pub samples_per_sec: f64,
    /// Learning rate used.
    pub lr: f64,
    /// β at the end of the epoch.
    pub beta: f64,
}

/// Loss terms of one step.
#[derive(Clone, Copy, Debug)]
pub struct StepStats {
    /// recon + β·KL (batch mean).
    pub loss: f64,
    /// Reconstruction term (batch mean).
    pub recon: f64,
    /// KL term (batch mean).
    pub kl: f64,
}

/// The model, its optimizer and a tape reused from step to step.
pub struct Trainer {
    /// The model being trained.
    pub model: Vae<f32>,
    /// Adam over the model's parameters, in order.
    pub optimizer: Adam<f32>,
    /// Clip the gradients' global norm to this before each update.
    pub clip_grad_norm: Option<f64>,
    tape: Tape<f32>,
}

impl Trainer {
    /// A trainer for `model` with Adam at learning rate `lr` (PyTorch's other defaults).
    pub fn new(model: Vae<f32>, lr: f64) -> Self {
        Self::with_adam(
            model,
            AdamConfig {
                lr,
                ..AdamConfig::default()
            },
        )
    }

    /// A trainer with the given Adam settings.
    pub fn with_adam(model: Vae<f32>, adam: AdamConfig) -> Self {
        Trainer {
            model,
            optimizer: Adam::new(adam),
            clip_grad_norm: None,
            tape: Tape::new(),
        }
    }

    /// One step on the batch `x` with noise `eps`: forward, backward, Adam. A
    /// non-finite loss is returned without updating the parameters.
    pub fn step(&mut self, x: Tensor<f32>, eps: Tensor<f32>, beta: f64) -> StepStats {
        self.tape.reset();
        let tape = &self.tape;
        // The parameters are moved onto the tape and back: no copies.
        let params = self.model.bind(tape);
        let x = tape.constant_owned(x);
        let out = self.model.forward(&params, x, tape.constant_owned(eps));
        let terms = elbo(&out, x, beta as f32);
        let stats = StepStats {
            loss: terms.loss.item() as f64,
            recon: terms.recon.item() as f64,
            kl: terms.kl.item() as f64,
        };
        let mut grads = tape.backward(terms.loss);
        let mut grads: Vec<Tensor<f32>> = params.iter().map(|&p| grads.wrt(p)).collect();
        self.model.unbind(tape, &params);
        if let Some(max_norm) = self.clip_grad_norm {
            clip_grad_norm(&mut grads.iter_mut().collect::<Vec<_>>(), max_norm);
        }
        if stats.loss.is_finite() {
            let mut refs: Vec<&mut Tensor<f32>> = self.model.params.iter_mut().collect();
            self.optimizer
                .step(&mut refs, &grads.iter().collect::<Vec<_>>());
        }
        stats
    }
}

/// Standard normal noise of shape `[rows, cols]`.
pub fn normal_noise(rows: usize, cols: usize, rng: &mut StdRng) -> Array2<f32> {
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(rng))
}

/// The random stream of one epoch: derived from (seed, epoch) alone, so a run resumed
/// at an epoch boundary draws exactly what the uninterrupted run would have.
pub fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Where a run writes, and how it reports.
pub struct RunOptions {
    /// The run folder.
    pub out: PathBuf,
    /// Continue from the run folder's checkpoint.
    pub resume: bool,
    /// Show a progress bar and per-epoch lines.
    pub progress: bool,
}

/// Trains on `train`, evaluates on `test` after every epoch, and writes the run folder.
pub fn run(
    settings: &Settings,
    train: &Dataset,
    test: &Dataset,
    options: &RunOptions,
) -> Result<Vec<EpochMetrics>> {
    let schedule = settings.schedule()?;
    fs::create_dir_all(&options.out).map_err(|e| Error::io(&options.out, e))?;
    let checkpoint_path = options.out.join("checkpoint.safetensors");
    let state_path = checkpoint::training_state_path(&checkpoint_path);
    let metrics_path = options.out.join("metrics.jsonl");
    let config = settings.model(train.pixels())?;
    let make_trainer = |model| {
        let adam = AdamConfig {
            lr: settings.lr,
            eps: settings.adam_eps,
            ..AdamConfig::default()
        };
        Trainer {
            clip_grad_norm: settings.clip_grad_norm,
            ..Trainer::with_adam(model, adam)
        }
    };
    if settings.batch_size == 0 {
        return Err(Error::config("--batch-size", "must be at least 1"));
    }

    let (mut trainer, first_epoch, mut history) = if options.resume {
        let (model, _) = checkpoint::load_model::<f32>(&checkpoint_path)?;
        let state = checkpoint::load_training_state(&state_path)?;
        let saved: Settings = serde_json::from_str(&state.settings).map_err(|e| {
            Error::invalid(&state_path, format!("settings are not valid JSON: {e}"))
        })?;
        if (Settings {
            epochs: settings.epochs,
            ..saved.clone()
        }) != *settings
        {
            return Err(Error::config(
                "--resume",
                format!(
                    "the run in {} used different settings: {saved:?}",
                    options.out.display()
                ),
            ));
        }
        if model.config != config {
            return Err(Error::invalid(
                &checkpoint_path,
                "the checkpoint's architecture differs from the run's settings",
            ));
        }
        let mut trainer = make_trainer(model);
        trainer
            .optimizer
            .load_state(state.optimizer)
            .map_err(|e| Error::invalid(&state_path, e.to_string()))?;
        let history = read_metrics(&metrics_path, state.epochs_done)?;
        (trainer, state.epochs_done + 1, history)
    } else {
        let model = Vae::new(config, &mut StdRng::seed_from_u64(settings.seed));
        let _ = fs::remove_file(&metrics_path);
        (make_trainer(model), 1, Vec::new())
    };

    let steps_per_epoch = train.len().div_ceil(settings.batch_size);
    for epoch in first_epoch..=settings.epochs {
        trainer
            .optimizer
            .set_lr(schedule.lr(settings.lr, epoch as u64 - 1));
        let mut rng = epoch_rng(settings.seed, epoch);
        let bar = progress_bar(options.progress, steps_per_epoch, epoch, settings.epochs);
        let started = Instant::now();
        let order = shuffled(train.len(), &mut rng);
        let (mut sum, mut seen) = ([0.0f64; 3], 0usize);
        let mut beta = settings.beta;
        for (step, indices) in order.chunks(settings.batch_size).enumerate() {
            beta =
                settings.beta_at(epoch as f64 - 1.0 + (step + 1) as f64 / steps_per_epoch as f64);
            let x = train.batch(indices, settings.pixels(), &mut rng).into_dyn();
            let eps = normal_noise(indices.len(), settings.latent, &mut rng).into_dyn();
            let stats = trainer.step(x, eps, beta);
            if !stats.loss.is_finite() {
                bar.abandon();
                return Err(Error::NonFinite {
                    epoch,
                    step: step + 1,
                });
            }
            let n = indices.len() as f64;
            sum = [
                sum[0] + stats.loss * n,
                sum[1] + stats.recon * n,
                sum[2] + stats.kl * n,
            ];
            seen += indices.len();
            bar.inc(1);
            if step % 20 == 0 {
                let rate = seen as f64 / started.elapsed().as_secs_f64();
                bar.set_message(format!("loss {:.2}  {rate:.0} img/s", sum[0] / seen as f64));
            }
        }
        let train_seconds = started.elapsed().as_secs_f64();
        bar.finish_and_clear();
        let scores: Scores = eval::elbo(
            &trainer.model,
            test,
            settings.beta,
            settings.pixels(),
            1000,
            &mut rng,
        );
        let seen = seen as f64;
        let metrics = EpochMetrics {
            epoch,
            train_loss: sum[0] / seen,
            train_recon: sum[1] / seen,
            train_kl: sum[2] / seen,
            test_loss: scores.loss,
            test_recon: scores.recon,
            test_kl: scores.kl,
            seconds: started.elapsed().as_secs_f64(),
            samples_per_sec: seen / train_seconds,
            lr: trainer.optimizer.lr(),
            beta,
        };
        if options.progress {
            println!(
                "epoch {epoch:>3}/{}  train {:.2}  test {:.2} (recon {:.2} + KL {:.2})  {:.1} s  {:.0} img/s",
                settings.epochs, metrics.train_loss, metrics.test_loss, metrics.test_recon, metrics.test_kl, metrics.seconds, metrics.samples_per_sec
            );
        }
        append_metrics(&metrics_path, &metrics)?;
        history.push(metrics);
        // The checkpoint of the last good epoch: written atomically, so a crash or a
        // later non-finite loss never leaves a half-written file.
        checkpoint::save_model(&checkpoint_path, &trainer.model, settings.beta)?;
        let settings_json = serde_json::to_string(settings).expect("settings serialize");
        let state = TrainingState {
            epochs_done: epoch,
            optimizer: trainer.optimizer.state(),
            settings: settings_json,
        };
        checkpoint::save_training_state(&state_path, &state)?;
        images::write_loss_curve(&options.out.join("loss_curve.svg"), &history)?;
    }
    let mut rng = epoch_rng(settings.seed, 0);
    eval::write_pictures(&trainer.model, test, &options.out, &mut rng)?;
    Ok(history)
}

fn progress_bar(show: bool, steps: usize, epoch: usize, epochs: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps as u64);
    let style = ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
        .expect("a valid template")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

fn append_metrics(path: &std::path::Path, metrics: &EpochMetrics) -> Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let line = serde_json::to_string(metrics).expect("metrics serialize");
    writeln!(file, "{line}").map_err(|e| Error::io(path, e))
}

/// Reads back the first `epochs` lines of metrics.jsonl (for a resumed run), dropping
/// lines of epochs that were not checkpointed.
fn read_metrics(path: &std::path::Path, epochs: usize) -> Result<Vec<EpochMetrics>> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let mut history = Vec::new();
    for (i, line) in text.lines().enumerate().take(epochs) {
        let m = serde_json::from_str(line)
            .map_err(|e| Error::invalid(path, format!("line {}: {e}", i + 1)))?;
        history.push(m);
    }
    let mut file = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    for m in &history {
        writeln!(
            file,
            "{}",
            serde_json::to_string(m).expect("metrics serialize")
        )
        .map_err(|e| Error::io(path, e))?;
    }
    Ok(history)
}
