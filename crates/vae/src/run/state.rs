//! The training state: the one file `--resume` reads.
//!
//! After every epoch the run writes `state-epoch-NNNN.safetensors`, by one atomic rename
//! ([`write_atomically`](crate::io::atomic::write_atomically)). It holds everything the
//! next epoch needs, so a run is always either at the end of epoch N (the file is there,
//! whole and verified) or at the end of epoch N − 1; never between the two:
//!
//! | part | where in the file |
//! |---|---|
//! | the weights | tensors under PyTorch's names, as in `checkpoint.safetensors` |
//! | Adam's moments | tensors `optimizer.m.0`, `optimizer.v.0`, … |
//! | step count, epochs done | metadata `step`, `epochs_done` |
//! | the settings | metadata `settings` (JSON) |
//! | the training data's fingerprint | metadata `data` (JSON, with a SHA-256) |
//! | the figures of every epoch so far | metadata `history` (JSON, without wall times) |
//! | the random stream | metadata `rng`: every epoch draws from its own stream, derived from (seed, epoch), so the next epoch's is fixed by the two |
//! | digests | `sha256.*`: every tensor and the metadata, verified on load |
//!
//! Nothing in it depends on the clock, so identical runs write identical files. The
//! architecture keys (`input_dim`, `hidden`, `latent`, `activation`, `beta`) are those of a
//! weights file: `vae eval --checkpoint state-epoch-0007.safetensors` evaluates that epoch.

use std::path::Path;

use optim::State;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::io::tensor_file::{check_finite, TensorFile, Verification};
use crate::model::checkpoint::{
    model_file, model_from_file, TrainedOn, OPTIMIZER_PREFIX, STATE_FORMAT,
};
use crate::model::vae::Vae;
use crate::train::fingerprint::DataFingerprint;
use crate::train::metrics::EpochMetrics;
use crate::train::settings::Settings;

/// Where a run stands after an epoch: everything but the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// Epochs completed.
    pub epochs_done: usize,
    /// The run's settings.
    pub settings: Settings,
    /// The data it is trained on.
    pub data: DataFingerprint,
    /// The figures of epochs 1..=epochs_done (wall times are not kept here).
    pub history: Vec<EpochMetrics>,
}

impl RunRecord {
    /// The data the run trains on, as its checkpoints record it.
    pub fn trained_on(&self) -> TrainedOn {
        TrainedOn {
            source: self.data.source.clone(),
            binarize: self.settings.binarize,
        }
    }
}

/// A training state read back.
#[derive(Clone, Debug)]
pub struct TrainingState {
    /// The weights.
    pub model: Vae<f32>,
    /// Adam's state (its step count is the global step).
    pub optimizer: State<f32>,
    /// Counters, settings, data, history.
    pub record: RunRecord,
}

/// Writes the training state to `path` (atomically, with digests).
pub fn save(
    path: &Path,
    model: &Vae<f32>,
    optimizer: &State<f32>,
    record: &RunRecord,
) -> Result<()> {
    let [h, w] = record.data.image_size;
    let mut file = model_file(
        model,
        record.settings.beta,
        Some((h, w)),
        Some(&record.trained_on()),
    );
    for (name, t) in &optimizer.tensors {
        file.tensors
            .insert(format!("{OPTIMIZER_PREFIX}{name}"), t.clone());
    }
    let history: Vec<EpochMetrics> = record
        .history
        .iter()
        .map(EpochMetrics::without_timings)
        .collect();
    let meta = [
        ("format", STATE_FORMAT.to_string()),
        ("epochs_done", record.epochs_done.to_string()),
        ("step", optimizer.step.to_string()),
        ("settings", json(&record.settings)),
        ("data", json(&record.data)),
        ("history", json(&history)),
        (
            "rng",
            format!(
                "one stream per epoch from (seed {}, epoch); the next epoch is {}",
                record.settings.seed,
                record.epochs_done + 1
            ),
        ),
    ];
    file.metadata
        .extend(meta.into_iter().map(|(k, v)| (k.to_string(), v)));
    file.write(path)
}

/// Reads a training state written by [`save`], refusing anything it cannot verify.
pub fn load(path: &Path) -> Result<TrainingState> {
    let (mut file, verification) = TensorFile::<f32>::read(path)?;
    if verification == Verification::Unverified {
        return Err(Error::invalid(
            path,
            "records no SHA-256 digests, so it cannot be verified: it is not a training state \
                written by this program",
        ));
    }
    let format = file.meta(path, "format")?;
    if format != STATE_FORMAT {
        return Err(Error::invalid(
            path,
            format!("format '{format}' is not a training state ('{STATE_FORMAT}')"),
        ));
    }
    let mut optimizer = Vec::new();
    let names: Vec<String> = file.tensors.keys().cloned().collect();
    for name in names.iter().filter(|n| n.starts_with(OPTIMIZER_PREFIX)) {
        let t = file.take(path, name)?;
        check_finite(path, name, &t)?;
        optimizer.push((name[OPTIMIZER_PREFIX.len()..].to_string(), t));
    }
    let (model, _) = model_from_file(path, &mut file)?;
    if let Some(extra) = file.tensors.keys().next() {
        return Err(Error::invalid(path, format!("unexpected tensor '{extra}'")));
    }
    let record = RunRecord {
        epochs_done: parse(path, &file, "epochs_done")?,
        settings: parse(path, &file, "settings")?,
        data: parse(path, &file, "data")?,
        history: parse(path, &file, "history")?,
    };
    let optimizer = State {
        step: parse(path, &file, "step")?,
        tensors: optimizer,
    };
    let expected = record
        .settings
        .model((record.data.image_size[0], record.data.image_size[1]))
        .map_err(|e| Error::invalid(path, format!("the saved settings are invalid: {e}")))?;
    if model.config != expected || record.history.len() != record.epochs_done {
        return Err(Error::invalid(
            path,
            "the weights, settings and history disagree with each other",
        ));
    }
    Ok(TrainingState {
        model,
        optimizer,
        record,
    })
}

fn json<V: Serialize>(value: &V) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

/// Metadata `key` parsed as JSON into `V`.
fn parse<V: DeserializeOwned>(path: &Path, file: &TensorFile<f32>, key: &str) -> Result<V> {
    let text = file.meta(path, key)?;
    serde_json::from_str(text)
        .map_err(|e| Error::invalid(path, format!("metadata '{key}' cannot be read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::checkpoint::save_model;
    use rand::SeedableRng;

    fn saved(dir: &Path) -> (std::path::PathBuf, Vae<f32>, RunRecord) {
        let settings = Settings {
            hidden: vec![5],
            latent: 2,
            ..Settings::default()
        };
        let model = Vae::<f32>::new(
            settings.model((2, 3)).unwrap(),
            &mut rand::rngs::StdRng::seed_from_u64(1),
        );
        let optimizer = State {
            step: 7,
            tensors: vec![("m.0".into(), ndarray::array![1.0f32, 2.0].into_dyn())],
        };
        let record = RunRecord {
            epochs_done: 0,
            settings,
            data: DataFingerprint {
                source: "somewhere".into(),
                train_images: 3,
                test_images: 1,
                image_size: [2, 3],
                sha256: "ab".repeat(32),
            },
            history: vec![],
        };
        let path = dir.join("state-epoch-0000.safetensors");
        save(&path, &model, &optimizer, &record).unwrap();
        (path, model, record)
    }

    #[test]
    fn round_trips_and_is_a_weights_file_too() {
        let dir = tempfile::tempdir().unwrap();
        let (path, model, record) = saved(dir.path());
        let state = load(&path).unwrap();
        assert_eq!(state.model.params, model.params);
        assert_eq!((state.optimizer.step, state.record), (7, record));
        assert_eq!(state.optimizer.tensors[0].0, "m.0");
        let weights = crate::model::checkpoint::load_model::<f32>(&path).unwrap();
        assert_eq!(weights.model.params, model.params);
    }

    #[test]
    fn a_weights_file_or_an_unverified_file_is_not_a_state() {
        let dir = tempfile::tempdir().unwrap();
        let (_, model, _) = saved(dir.path());
        let weights = dir.path().join("checkpoint.safetensors");
        save_model(&weights, &model, 1.0, None, None).unwrap();
        let err = load(&weights).unwrap_err().to_string();
        assert!(err.contains("is not a training state"), "{err}");

        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0, 0, 0, 0])
                .unwrap();
        std::fs::write(
            &weights,
            safetensors::serialize([("x", view)], &None).unwrap(),
        )
        .unwrap();
        let err = load(&weights).unwrap_err().to_string();
        assert!(err.contains("cannot be verified"), "{err}");
    }
}
