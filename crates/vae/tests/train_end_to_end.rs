//! Training end to end on a slice of the bundled MNIST: the loss falls, the run folder
//! has everything it should, runs are reproducible, and a resumed run matches an
//! uninterrupted one bit for bit.

use std::path::Path;

use vae::data::idx_folder::load_folder;
use vae::model::checkpoint::load_model;
use vae::run::lifecycle::run;
use vae::run::start::{RunOptions, Start};
use vae::train::fingerprint::TrainData;
use vae::train::metrics::EpochMetrics;
use vae::train::settings::Settings;
use vae::Error;

fn small_data() -> TrainData {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist");
    let (train, test) = load_folder(&dir).expect("bundled MNIST");
    assert_eq!(
        (train.len(), test.len(), train.pixels()),
        (60_000, 10_000, 784)
    );
    TrainData::new(&dir, train.first(2000), Some(test.first(500))).unwrap()
}

fn settings(epochs: usize) -> Settings {
    Settings {
        hidden: vec![64],
        latent: 8,
        epochs,
        batch_size: 100,
        ..Settings::default()
    }
}

fn train(dir: &Path, settings: &Settings, resume: bool) -> Result<Vec<EpochMetrics>, Error> {
    let start = if resume { Start::Resume } else { Start::Force };
    run(settings, &small_data(), &RunOptions::new(dir, start))
}

#[test]
fn training_lowers_the_loss_and_writes_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let history = train(dir.path(), &settings(3), false).unwrap();
    assert_eq!(history.len(), 3);
    // an untrained model scores ~545 nats; three small epochs get far below
    let test = |e: usize| {
        let m = &history[e];
        (
            m.test_loss.unwrap(),
            m.test_recon.unwrap(),
            m.test_kl.unwrap(),
        )
    };
    assert!(test(2).0 < 250.0, "{history:?}");
    assert!(test(2).0 < test(0).0);
    assert!((test(2).0 - (test(2).1 + test(2).2)).abs() < 1e-3);
    assert!(
        history.iter().all(|m| m.valid_loss.is_none()),
        "no validation set asked for"
    );
    for file in [
        "metrics.jsonl",
        "samples.png",
        "reconstructions.png",
        "loss_curve.svg",
        "checkpoint.safetensors",
        "state-epoch-0003.safetensors",
    ] {
        assert!(dir.path().join(file).exists(), "{file} is missing");
    }
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for key in [
        "epoch",
        "train_loss",
        "test_loss",
        "test_recon",
        "test_kl",
        "seconds",
        "samples_per_sec",
    ] {
        assert!(lines[2][key].is_number(), "metrics.jsonl lacks {key}");
    }
    let checkpoint = load_model::<f32>(&dir.path().join("checkpoint.safetensors")).unwrap();
    let (model, beta) = (checkpoint.model, checkpoint.beta);
    assert_eq!(
        (model.config.hidden.clone(), model.config.latent, beta),
        (vec![64], 8, 1.0)
    );
}

#[test]
fn same_seed_same_model_and_resume_matches_an_uninterrupted_run() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let straight = train(a.path(), &settings(2), false).unwrap();
    let again = train(b.path(), &settings(2), false).unwrap();
    train(c.path(), &settings(1), false).unwrap();
    let resumed = train(c.path(), &settings(2), true).unwrap();

    let params = |dir: &Path| {
        load_model::<f32>(&dir.join("checkpoint.safetensors"))
            .unwrap()
            .model
            .params
    };
    assert_eq!(params(a.path()), params(b.path()), "same seed, same model");
    assert_eq!(
        params(a.path()),
        params(c.path()),
        "resumed run differs from the uninterrupted one"
    );
    assert_eq!(resumed.len(), 2);
    assert_eq!(straight[1].test_loss, resumed[1].test_loss);
    assert_eq!(straight[1].train_loss, again[1].train_loss);
    // Identical runs write identical files, byte for byte: the exported weights and the
    // training state (no clock, no per-process ordering inside).
    for file in ["checkpoint.safetensors", "state-epoch-0002.safetensors"] {
        let bytes = |dir: &Path| std::fs::read(dir.join(file)).unwrap();
        assert!(
            bytes(a.path()) == bytes(b.path()),
            "{file} differs between identical runs"
        );
        assert!(
            bytes(a.path()) == bytes(c.path()),
            "{file} differs after a resume"
        );
    }
}

#[test]
fn resume_refuses_different_settings() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &settings(1), false).unwrap();
    let other = Settings {
        latent: 4,
        ..settings(2)
    };
    let err = train(dir.path(), &other, true).unwrap_err().to_string();
    assert!(
        err.starts_with("--latent: the run in")
            && err.contains("trained with --latent 8; this command gives 4"),
        "{err}"
    );
}

#[test]
fn a_diverging_run_stops_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = train(
        dir.path(),
        &Settings {
            lr: 1e30,
            ..settings(1)
        },
        false,
    )
    .unwrap_err();
    assert!(matches!(err, Error::NonFinite { epoch: 1, .. }), "{err}");
    assert!(err.to_string().contains("non-finite"));
}

#[test]
fn a_run_that_fails_leaves_the_last_complete_state_metrics_and_pictures() {
    let dir = tempfile::tempdir().unwrap();
    train(dir.path(), &settings(1), false).unwrap();
    let read = |f: &str| std::fs::read(dir.path().join(f)).unwrap();
    let before: Vec<Vec<u8>> = ["metrics.jsonl", "samples.png", "checkpoint.safetensors"]
        .iter()
        .map(|f| read(f))
        .collect();
    // Resumed with a learning rate that makes epoch 2 diverge.
    let diverging = Settings {
        lr: 1e30,
        ..settings(2)
    };
    let err = train(dir.path(), &diverging, true).unwrap_err();
    assert!(matches!(err, Error::NonFinite { epoch: 2, .. }), "{err}");
    let after: Vec<Vec<u8>> = ["metrics.jsonl", "samples.png", "checkpoint.safetensors"]
        .iter()
        .map(|f| read(f))
        .collect();
    assert!(before == after, "the failed epoch changed the run's files");
    let state = vae::run::state::load(&dir.path().join("state-epoch-0001.safetensors")).unwrap();
    assert_eq!(state.record.epochs_done, 1);
    // ... and the run goes on from there once the learning rate is sane again.
    assert_eq!(train(dir.path(), &settings(2), true).unwrap().len(), 2);
}

#[test]
fn the_learning_rate_follows_the_schedule_and_clipping_keeps_training_finite() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        lr_schedule: "step:1:0.5".into(),
        clip_grad_norm: Some(50.0),
        ..settings(3)
    };
    let history = train(dir.path(), &settings, false).unwrap();
    let lrs: Vec<f64> = history.iter().map(|m| m.lr).collect();
    assert_eq!(lrs, vec![1e-3, 5e-4, 2.5e-4]);
    assert!(history[2].test_loss < history[0].test_loss);

    let err = train(
        dir.path(),
        &Settings {
            lr_schedule: "linear".into(),
            ..settings
        },
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--lr-schedule"), "{err}");
}

#[test]
fn a_validation_split_is_scored_beside_the_test_set_and_fixed_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    let split = Settings {
        valid_fraction: 0.2,
        limit: Some(1000),
        ..settings(1)
    };
    let history = train(dir.path(), &split, false).unwrap();
    let m = &history[0];
    assert!(
        m.test_loss.is_some() && m.valid_loss.is_some_and(|v| v.is_finite() && v > 0.0),
        "{m:?}"
    );
    // 1000 images, 200 held out: 800 trained on, in 8 steps of 100.
    let data = small_data();
    let sets = data.sets(&split).unwrap();
    assert_eq!(
        (sets.train.len(), sets.valid.as_ref().unwrap().len()),
        (800, 200)
    );
    // A resumed run holds out the same images; another fraction is another run.
    let again = Settings {
        epochs: 2,
        ..split.clone()
    };
    assert_eq!(train(dir.path(), &again, true).unwrap().len(), 2);
    let other = Settings {
        valid_fraction: 0.3,
        epochs: 3,
        ..split
    };
    let err = train(dir.path(), &other, true).unwrap_err().to_string();
    assert!(err.starts_with("--valid-fraction"), "{err}");
}
