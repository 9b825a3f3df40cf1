//! Checkpoints: a weights file that PyTorch can load, and a sibling with training state.
//!
//! `checkpoint.safetensors` holds the parameters under PyTorch's state-dict names
//! (`encoder.hidden.0.weight` `[out, in]`, …, `decoder.out.bias`) and the architecture in
//! its metadata under the golden fixtures' keys: `input_dim`, `hidden` (a JSON list),
//! `latent`, `activation`, `beta`. Any file with those names and keys, F32 or F64, made
//! here or elsewhere, can be evaluated and sampled by this program.
//!
//! `checkpoint.train.safetensors` holds what `--resume` needs: the optimizer's state
//! tensors (`m.0`, `v.0`, …), and in its metadata the step count, the number of epochs
//! completed, the seed and the training settings as JSON. The random streams are derived
//! from (seed, epoch), so nothing else is needed to continue exactly.

use std::path::{Path, PathBuf};

use optim::State;
use tensor::Float;

use crate::model::{Activation, ModelConfig, Vae};
use crate::tensor_file::TensorFile;
use crate::{Error, Result};

/// The metadata `format` value of our weights files.
pub const FORMAT: &str = "vae-checkpoint-v1";

/// Writes the model's weights and architecture (atomically).
pub fn save_model<T: Float>(path: &Path, model: &Vae<T>, beta: f64) -> Result<()> {
    let mut file = TensorFile::<T>::default();
    for (name, p) in model.names().into_iter().zip(&model.params) {
        file.tensors.insert(name, p.clone());
    }
    let c = &model.config;
    let meta = [
        ("format", FORMAT.to_string()),
        ("input_dim", c.input_dim.to_string()),
        (
            "hidden",
            serde_json::to_string(&c.hidden).expect("a list of numbers"),
        ),
        ("latent", c.latent.to_string()),
        ("activation", c.activation.to_string()),
        ("beta", beta.to_string()),
    ];
    file.metadata = meta.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    file.write(path)
}

/// Reads a weights file: the architecture from its metadata, then every parameter,
/// checking names and shapes. Returns the model and its `beta`.
pub fn load_model<T: Float>(path: &Path) -> Result<(Vae<T>, f64)> {
    let mut file = TensorFile::<T>::read(path)?;
    let parse = |key: &str| -> Result<String> { Ok(file.meta(path, key)?.to_string()) };
    let bad = |key: &str, value: &str, why: &str| {
        Error::invalid(path, format!("metadata '{key}' = '{value}': {why}"))
    };
    let int = |key: &str| -> Result<usize> {
        let v = parse(key)?;
        v.parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad(key, &v, "expected a positive integer"))
    };
    let hidden_text = parse("hidden")?;
    let hidden: Vec<usize> = serde_json::from_str(&hidden_text)
        .ok()
        .filter(|h: &Vec<usize>| h.iter().all(|&n| n > 0))
        .ok_or_else(|| {
            bad(
                "hidden",
                &hidden_text,
                "expected a JSON list of positive integers, e.g. [400]",
            )
        })?;
    let activation_text = parse("activation")?;
    let activation: Activation = activation_text
        .parse()
        .map_err(|e: String| bad("activation", &activation_text, &e))?;
    let beta_text = file
        .metadata
        .get("beta")
        .cloned()
        .unwrap_or_else(|| "1.0".into());
    let beta: f64 = beta_text
        .parse()
        .map_err(|_| bad("beta", &beta_text, "expected a number"))?;
    let config = ModelConfig {
        input_dim: int("input_dim")?,
        hidden,
        latent: int("latent")?,
        activation,
    };

    let mut params = Vec::new();
    for (name, shape) in config.param_shapes() {
        let tensor = file.tensors.remove(&name).ok_or_else(|| {
            Error::invalid(
                path,
                format!(
                    "tensor '{name}' is missing (expected shape {shape:?} for {})",
                    describe(&config)
                ),
            )
        })?;
        if tensor.shape() != shape.as_slice() {
            return Err(Error::invalid(
                path,
                format!(
                    "tensor '{name}' has shape {:?}, expected {shape:?} for {}",
                    tensor.shape(),
                    describe(&config)
                ),
            ));
        }
        params.push(tensor);
    }
    if !file.tensors.is_empty() {
        let extra: Vec<&String> = file.tensors.keys().collect();
        return Err(Error::invalid(
            path,
            format!("unexpected tensors {extra:?} for {}", describe(&config)),
        ));
    }
    Ok((Vae { config, params }, beta))
}

/// "input 784, hidden [400], latent 20, relu" for messages.
fn describe(c: &ModelConfig) -> String {
    format!(
        "input_dim {}, hidden {:?}, latent {}, {}",
        c.input_dim, c.hidden, c.latent, c.activation
    )
}

/// The sibling file holding training state: `X.safetensors` → `X.train.safetensors`.
pub fn training_state_path(checkpoint: &Path) -> PathBuf {
    let stem = checkpoint
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    checkpoint.with_file_name(format!("{stem}.train.safetensors"))
}

/// What `--resume` needs beyond the weights.
#[derive(Clone, Debug)]
pub struct TrainingState {
    /// Epochs completed.
    pub epochs_done: usize,
    /// The optimizer's state (its step count is the global step).
    pub optimizer: State<f32>,
    /// The run's settings as JSON (the seed among them).
    pub settings: String,
}

/// Writes the training state (atomically).
pub fn save_training_state(path: &Path, state: &TrainingState) -> Result<()> {
    let mut file = TensorFile::<f32> {
        tensors: state.optimizer.tensors.iter().cloned().collect(),
        ..Default::default()
    };
    file.metadata
        .insert("format".into(), "vae-training-state-v1".into());
    file.metadata
        .insert("epochs_done".into(), state.epochs_done.to_string());
    file.metadata
        .insert("step".into(), state.optimizer.step.to_string());
    file.metadata
        .insert("settings".into(), state.settings.clone());
    file.write(path)
}

/// Reads the training state written by [`save_training_state`].
pub fn load_training_state(path: &Path) -> Result<TrainingState> {
    let file = TensorFile::<f32>::read(path)?;
    let number = |key: &str| -> Result<u64> {
        let v = file.meta(path, key)?;
        v.parse()
            .map_err(|_| Error::invalid(path, format!("metadata '{key}' = '{v}' is not a number")))
    };
    Ok(TrainingState {
        epochs_done: number("epochs_done")? as usize,
        optimizer: State {
            step: number("step")?,
            tensors: file.tensors.clone().into_iter().collect(),
        },
        settings: file.meta(path, "settings")?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn small() -> ModelConfig {
        ModelConfig {
            input_dim: 6,
            hidden: vec![5, 4],
            latent: 2,
            activation: Activation::Tanh,
        }
    }

    #[test]
    fn round_trips_weights_and_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let model = Vae::<f32>::new(small(), &mut rand::rngs::StdRng::seed_from_u64(3));
        save_model(&path, &model, 0.5).unwrap();
        let (back, beta) = load_model::<f32>(&path).unwrap();
        assert_eq!((back.config, beta), (small(), 0.5));
        assert_eq!(back.params, model.params);
    }

    #[test]
    fn wrong_shapes_and_missing_tensors_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let mut model = Vae::<f32>::new(small(), &mut rand::rngs::StdRng::seed_from_u64(3));
        model.params[2] = tensor::Tensor::zeros(vec![3, 3]);
        save_model(&path, &model, 1.0).unwrap();
        let err = load_model::<f32>(&path).unwrap_err().to_string();
        assert!(
            err.contains("'encoder.hidden.1.weight' has shape [3, 3], expected [4, 5]"),
            "{err}"
        );

        let mut file = TensorFile::<f32>::read(&path).unwrap();
        file.tensors.remove("decoder.out.bias");
        file.write(&path).unwrap();
        let err = load_model::<f32>(&path).unwrap_err().to_string();
        assert!(
            err.contains("'encoder.hidden.1.weight'")
                || err.contains("'decoder.out.bias' is missing"),
            "{err}"
        );
    }

    #[test]
    fn bad_metadata_is_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let model = Vae::<f32>::new(small(), &mut rand::rngs::StdRng::seed_from_u64(3));
        save_model(&path, &model, 1.0).unwrap();
        let mut file = TensorFile::<f32>::read(&path).unwrap();
        file.metadata.insert("hidden".into(), "400".into());
        file.write(&path).unwrap();
        let err = load_model::<f32>(&path).unwrap_err().to_string();
        assert!(
            err.contains("metadata 'hidden' = '400'") && err.contains("JSON list"),
            "{err}"
        );
    }

    #[test]
    fn sibling_path() {
        assert_eq!(
            training_state_path(Path::new("run/checkpoint.safetensors")),
            Path::new("run/checkpoint.train.safetensors")
        );
    }
}
