//! Training: one step (forward, backward, Adam) and one epoch (the shuffled batches,
//! then the test pass). The run around the epochs (its folder, states and resume) is in
//! [`crate::run::lifecycle`].

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use optim::{clip_grad_norm, Adam, AdamConfig, Optimizer};
use rand::rngs::StdRng;
use tensor::{Tape, Tensor};

use crate::data::batch::shuffled;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::io::faults;
use crate::model::vae::{normal_noise, Vae};
use crate::objective::eval;
use crate::objective::iwae::iwae;
use crate::objective::loss::{elbo, Objective};
use crate::train::fingerprint::RunSets;
use crate::train::metrics::EpochMetrics;
use crate::train::settings::{epoch_rng, Settings};

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
    /// The ELBO, or the IWAE bound (then `eps` is `[K, batch, latent]`).
    pub objective: Objective,
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

    /// A trainer for `model` configured by a run's settings (learning rate, Adam's ε,
    /// clipping); the learning rate is then set per epoch by the schedule.
    pub fn for_settings(model: Vae<f32>, settings: &Settings) -> Self {
        let adam = AdamConfig {
            lr: settings.lr,
            eps: settings.adam_eps,
            ..AdamConfig::default()
        };
        Trainer {
            clip_grad_norm: settings.clip_grad_norm,
            objective: settings.objective,
            ..Trainer::with_adam(model, adam)
        }
    }

    /// A trainer with the given Adam settings.
    pub fn with_adam(model: Vae<f32>, adam: AdamConfig) -> Self {
        Trainer {
            model,
            optimizer: Adam::new(adam),
            clip_grad_norm: None,
            objective: Objective::Elbo,
            tape: Tape::new(),
        }
    }

    /// One step on the batch `x` with noise `eps` (`[batch, latent]`, or `[K, batch,
    /// latent]` for the IWAE bound): forward, backward, Adam. A non-finite loss is
    /// returned without updating the parameters.
    pub fn step(&mut self, x: Tensor<f32>, eps: Tensor<f32>, beta: f64) -> StepStats {
        self.tape.reset();
        let tape = &self.tape;
        // The parameters are moved onto the tape and back: no copies.
        let params = self.model.bind(tape);
        let x = tape.constant_owned(x);
        let eps = tape.constant_owned(eps);
        let (loss, recon, kl) = match self.objective {
            Objective::Elbo => {
                let terms = elbo(&self.model.forward(&params, x, eps), x, beta as f32);
                (terms.loss, terms.recon, terms.kl)
            }
            Objective::Iwae => {
                let bound = iwae(&self.model, &params, x, eps);
                (bound.loss, bound.recon, bound.kl)
            }
        };
        let stats = StepStats {
            loss: loss.item() as f64,
            recon: recon.item() as f64,
            kl: kl.item() as f64,
        };
        let mut grads = tape.backward(loss);
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

/// Trains one epoch (1-based `epoch`) over the training set in shuffled batches, then
/// scores the model on the test set and the validation set, whichever there are. The
/// random stream is [`epoch_rng`]`(seed, epoch)`, so an epoch draws the same numbers
/// whether or not the run was resumed before it. A non-finite loss
/// stops the epoch with [`Error::NonFinite`] before the parameters are updated with it.
pub fn train_epoch(
    trainer: &mut Trainer,
    settings: &Settings,
    sets: &RunSets<'_>,
    epoch: usize,
    progress: bool,
) -> Result<EpochMetrics> {
    let started = Instant::now();
    let mut rng = epoch_rng(settings.seed, epoch);
    let pass = training_pass(
        trainer,
        settings,
        sets.train.as_ref(),
        epoch,
        progress,
        &mut rng,
    )?;
    faults::point(&format!("epoch-{epoch}:trained")).map_err(faults::as_error)?;
    // (Test first, then the active units, then validation: the order of the draws from
    // the epoch's stream, which fixes the figures of runs made before validation sets.)
    let score = |set, rng: &mut StdRng| {
        let (beta, pixels) = (settings.beta, settings.pixels());
        eval::elbo_scores(&trainer.model, set, beta, pixels, 1000, rng)
    };
    let test = sets.test.map(|test| score(test, &mut rng));
    let held_out = sets.held_out();
    let active_units = eval::active_units(&trainer.model, held_out, settings.pixels(), &mut rng);
    let valid = sets.valid.as_ref().map(|valid| score(valid, &mut rng));
    let seen = pass.seen as f64;
    Ok(EpochMetrics {
        epoch,
        train_loss: pass.sums[0] / seen,
        train_recon: pass.sums[1] / seen,
        train_kl: pass.sums[2] / seen,
        test_loss: test.map(|s| s.loss),
        test_recon: test.map(|s| s.recon),
        test_kl: test.map(|s| s.kl),
        valid_loss: valid.map(|s| s.loss),
        valid_recon: valid.map(|s| s.recon),
        valid_kl: valid.map(|s| s.kl),
        seconds: Some(started.elapsed().as_secs_f64()),
        samples_per_sec: Some(seen / pass.seconds),
        lr: trainer.optimizer.lr(),
        beta: pass.beta,
        active_units,
    })
}

/// What one pass over the training set leaves: the sums of the loss and its two terms
/// weighted by batch size, the images seen, the last step's β and the seconds it took.
struct TrainingPass {
    sums: [f64; 3],
    seen: usize,
    beta: f64,
    seconds: f64,
}

/// The epoch's steps: the training set in shuffled batches, each drawn from `rng` (the
/// order, the binarization, the noise). A non-finite loss stops it with the step named.
fn training_pass(
    trainer: &mut Trainer,
    settings: &Settings,
    train: &Dataset,
    epoch: usize,
    progress: bool,
    rng: &mut StdRng,
) -> Result<TrainingPass> {
    let schedule = settings.schedule()?;
    trainer
        .optimizer
        .set_lr(schedule.lr(settings.lr, epoch as u64 - 1));
    let steps_per_epoch = train.len().div_ceil(settings.batch_size);
    let bar = progress_bar(progress, steps_per_epoch, epoch, settings.epochs);
    let started = Instant::now();
    let order = shuffled(train.len(), rng);
    let (mut sums, mut seen, mut beta) = ([0.0f64; 3], 0usize, settings.beta);
    for (step, indices) in order.chunks(settings.batch_size).enumerate() {
        beta = settings.beta_at(epoch as f64 - 1.0 + (step + 1) as f64 / steps_per_epoch as f64);
        let x = train.batch(indices, settings.pixels(), rng).into_dyn();
        let eps = normal_noise(indices.len() * settings.k, settings.latent, rng);
        let eps = match settings.objective {
            Objective::Elbo => eps.into_dyn(),
            Objective::Iwae => eps
                .into_shape_with_order((settings.k, indices.len(), settings.latent))
                .expect("K·batch rows")
                .into_dyn(),
        };
        let stats = trainer.step(x, eps, beta);
        if !stats.loss.is_finite() {
            bar.abandon();
            return Err(Error::NonFinite {
                epoch,
                step: step + 1,
            });
        }
        let n = indices.len() as f64;
        sums = [
            sums[0] + stats.loss * n,
            sums[1] + stats.recon * n,
            sums[2] + stats.kl * n,
        ];
        seen += indices.len();
        bar.inc(1);
        if step % 20 == 0 {
            let rate = seen as f64 / started.elapsed().as_secs_f64();
            bar.set_message(format!(
                "loss {:.2}  {rate:.0} img/s",
                sums[0] / seen as f64
            ));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    Ok(TrainingPass {
        sums,
        seen,
        beta,
        seconds,
    })
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
