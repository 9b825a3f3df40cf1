//! Weights files: what `eval`, `sample` and `reconstruct` read, and what PyTorch loads.
//!
//! `checkpoint.safetensors` holds the parameters under PyTorch's state-dict names
//! (`encoder.hidden.0.weight` `[out, in]`, …, `decoder.out.bias`) and the architecture in
//! its metadata under the golden fixtures' keys: `input_dim`, `hidden` (a JSON list),
//! `latent`, `activation`, `beta`, and `image_size` (`[height, width]`, for pictures;
//! optional: without it, square images are assumed where the input size is a square).
//! A conv model adds its geometry under the keys of [`crate::model::conv_metadata`]
//! (`arch`, `image`, `channels`, `kernel`, `stride`, `padding`).
//! Any file with those names and keys, F32 or F64, made
//! here or elsewhere, can be evaluated and sampled by this program. A training state
//! (`state-epoch-*.safetensors`, see [`crate::run::state`]) is also a weights file: it holds
//! the same tensors and keys, plus the optimizer's.
//!
//! Loading trusts nothing: the digests are verified ([`TensorFile::read`]), the metadata
//! must describe the tensors exactly (names, shapes), `beta` must be finite and ≥ 0, and
//! every weight must be finite.

use std::path::Path;

use tensor::Float;

pub use super::trained_on::TrainedOn;
use crate::data::dataset::square_image;
use crate::error::{Error, Result};
use crate::io::tensor_file::{check_finite, TensorFile, Verification};
use crate::model::activation::Activation;
use crate::model::config::ModelConfig;
use crate::model::conv_metadata::{conv_metadata, parse_conv};
use crate::model::vae::Vae;

/// The metadata `format` value of our weights files.
pub const FORMAT: &str = "vae-checkpoint-v1";
/// The metadata `format` value of training states ([`crate::run::state`]): weights files
/// that also hold the optimizer's tensors, under [`OPTIMIZER_PREFIX`].
pub const STATE_FORMAT: &str = "vae-training-state-v2";
/// Prefix of the optimizer's tensors in a training state.
pub const OPTIMIZER_PREFIX: &str = "optimizer.";

/// A model read from a file.
#[derive(Clone, Debug)]
pub struct Checkpoint<T: Float> {
    /// The model.
    pub model: Vae<T>,
    /// The β it was trained with (1 when the file does not say).
    pub beta: f64,
    /// Whether the file's digests were checked (files made elsewhere have none).
    pub verification: Verification,
    /// The images' (height, width), when the file says or the input size is a square.
    pub image_size: Option<(usize, usize)>,
    /// The data it was trained on, when the file says (runs of this program do).
    pub trained_on: Option<TrainedOn>,
}

/// The weights file of `model`: its tensors and its architecture in the metadata, with
/// the (height, width) of its images when known.
pub fn model_file<T: Float>(
    model: &Vae<T>,
    beta: f64,
    image_size: Option<(usize, usize)>,
    trained_on: Option<&TrainedOn>,
) -> TensorFile<T> {
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
    file.metadata.extend(conv_metadata(c.conv.as_ref()));
    if let Some((h, w)) = image_size {
        file.metadata
            .insert("image_size".into(), format!("[{h},{w}]"));
    }
    if let Some(data) = trained_on {
        data.write_to(&mut file.metadata);
    }
    file
}

/// Writes the model's weights and architecture (atomically, with digests).
pub fn save_model<T: Float>(
    path: &Path,
    model: &Vae<T>,
    beta: f64,
    image_size: Option<(usize, usize)>,
    trained_on: Option<&TrainedOn>,
) -> Result<()> {
    model_file(model, beta, image_size, trained_on).write(path)
}

/// Reads a weights file (or a training state's weights), verified as the module says.
pub fn load_model<T: Float>(path: &Path) -> Result<Checkpoint<T>> {
    let (mut file, verification) = TensorFile::<T>::read(path)?;
    let ours = file
        .metadata
        .get("format")
        .filter(|f| [FORMAT, STATE_FORMAT].contains(&f.as_str()));
    if let (Some(format), Verification::Unverified) = (ours, verification) {
        // Our writer always records the digests: someone took them out, and what the
        // metadata says (activation, β, image size) may have been changed with them.
        return Err(Error::invalid(
            path,
            format!(
                "its metadata says this program wrote it ('format' {format}), but its SHA-256 \
                 digests were removed: its settings cannot be trusted. Use the file as the run \
                 wrote it (a file made elsewhere does not claim our 'format')"
            ),
        ));
    }
    if file.metadata.get("format").map(String::as_str) == Some(STATE_FORMAT) {
        file.tensors
            .retain(|name, _| !name.starts_with(OPTIMIZER_PREFIX));
    }
    let image_size = match file.metadata.get("image_size") {
        None => None,
        Some(text) => Some(parse_image_size(path, text)?),
    };
    let (model, beta) = model_from_file(path, &mut file)?;
    let pixels = |(h, w): &(usize, usize)| h.checked_mul(*w);
    if let Some((h, w)) = image_size.filter(|size| pixels(size) != Some(model.config.input_dim)) {
        return Err(Error::invalid(
            path,
            format!(
                "metadata 'image_size' = [{h},{w}] is not {} pixels (input_dim)",
                model.config.input_dim
            ),
        ));
    }
    let conv_image = model.config.conv.as_ref().map(|c| (c.image[1], c.image[2]));
    let image_size = conv_image
        .or(image_size)
        .or(square_image(model.config.input_dim));
    if !file.tensors.is_empty() {
        let extra: Vec<&String> = file.tensors.keys().collect();
        return Err(Error::invalid(
            path,
            format!(
                "unexpected tensors {extra:?} for {}",
                describe(&model.config)
            ),
        ));
    }
    let trained_on = TrainedOn::read_from(path, &file.metadata)?;
    Ok(Checkpoint {
        model,
        beta,
        verification,
        image_size,
        trained_on,
    })
}

/// `[height, width]`, both positive.
fn parse_image_size(path: &Path, text: &str) -> Result<(usize, usize)> {
    match serde_json::from_str::<[usize; 2]>(text) {
        Ok([h, w]) if h > 0 && w > 0 => Ok((h, w)),
        _ => Err(Error::invalid(
            path,
            format!("metadata 'image_size' = '{text}': expected [height, width], e.g. [28,28]"),
        )),
    }
}

/// Takes the model's tensors out of `file`, checking them against its metadata.
pub(crate) fn model_from_file<T: Float>(
    path: &Path,
    file: &mut TensorFile<T>,
) -> Result<(Vae<T>, f64)> {
    let text = |key: &str| -> Result<String> { Ok(file.meta(path, key)?.to_string()) };
    let bad = |key: &str, value: &str, why: &str| {
        Error::invalid(path, format!("metadata '{key}' = '{value}': {why}"))
    };
    let int = |key: &str| -> Result<usize> {
        let v = text(key)?;
        v.parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| bad(key, &v, "expected a positive integer"))
    };
    let hidden_text = text("hidden")?;
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
    let activation_text = text("activation")?;
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
        .ok()
        .filter(|b: &f64| b.is_finite() && *b >= 0.0)
        .ok_or_else(|| bad("beta", &beta_text, "expected a finite number ≥ 0"))?;
    let conv = parse_conv(path, &file.metadata)?;
    let input_dim = match (&conv, file.metadata.contains_key("input_dim")) {
        (Some(c), false) => c.image.iter().product(),
        _ => int("input_dim")?,
    };
    if let Some(c) = conv
        .as_ref()
        .filter(|c| c.image.iter().product::<usize>() != input_dim)
    {
        return Err(Error::invalid(
            path,
            format!(
                "metadata 'input_dim' = {input_dim} is not the {} pixels of 'image'",
                c.image.iter().product::<usize>()
            ),
        ));
    }
    let config = ModelConfig {
        input_dim,
        hidden,
        latent: int("latent")?,
        activation,
        conv,
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
        check_finite(path, &name, &tensor)?;
        params.push(tensor);
    }
    Ok((Vae { config, params }, beta))
}

/// "input_dim 784, hidden [400], latent 20, relu" for messages.
fn describe(c: &ModelConfig) -> String {
    let conv = c.conv.as_ref().map(|c| c.describe() + ", ");
    format!(
        "{}input_dim {}, hidden {:?}, latent {}, {}",
        conv.unwrap_or_default(),
        c.input_dim,
        c.hidden,
        c.latent,
        c.activation
    )
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
            conv: None,
        }
    }

    fn model() -> Vae<f32> {
        Vae::<f32>::new(small(), &mut rand::rngs::StdRng::seed_from_u64(3))
    }

    /// Saves `model()`, lets `edit` change the file's contents (digests recomputed, as a
    /// tool that rewrites the file would), and returns the load error.
    fn load_error(edit: impl FnOnce(&mut TensorFile<f32>)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let mut file = model_file(&model(), 1.0, Some((2, 3)), None);
        edit(&mut file);
        file.write(&path).unwrap();
        load_model::<f32>(&path).unwrap_err().to_string()
    }

    #[test]
    fn round_trips_weights_and_config() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        save_model(&path, &model(), 0.5, Some((3, 2)), None).unwrap();
        let back = load_model::<f32>(&path).unwrap();
        assert_eq!((back.model.config, back.beta), (small(), 0.5));
        assert_eq!(back.image_size, Some((3, 2)));
        save_model(&path, &model(), 0.5, None, None).unwrap();
        assert_eq!(
            load_model::<f32>(&path).unwrap().image_size,
            None,
            "6 is not a square"
        );
        assert_eq!(back.model.params, model().params);
        assert_eq!(back.verification, Verification::Verified);
    }

    #[test]
    fn wrong_shapes_and_missing_tensors_are_explained() {
        let err = load_error(|f| {
            f.tensors.insert(
                "encoder.hidden.1.weight".into(),
                tensor::Tensor::zeros(vec![3, 3]),
            );
        });
        assert!(
            err.contains("'encoder.hidden.1.weight' has shape [3, 3], expected [4, 5]"),
            "{err}"
        );
        let err = load_error(|f| {
            f.tensors.remove("decoder.out.bias");
        });
        assert!(err.contains("'decoder.out.bias' is missing"), "{err}");
        let err = load_error(|f| {
            f.tensors
                .insert("extra".into(), tensor::Tensor::zeros(vec![1]));
        });
        assert!(err.contains("unexpected tensors [\"extra\"]"), "{err}");
    }

    #[test]
    fn bad_metadata_is_explained() {
        let err = load_error(|f| {
            f.metadata.insert("hidden".into(), "400".into());
        });
        assert!(
            err.contains("metadata 'hidden' = '400'") && err.contains("JSON list"),
            "{err}"
        );
        for beta in ["-1", "NaN", "inf", "x"] {
            let err = load_error(|f| {
                f.metadata.insert("beta".into(), beta.into());
            });
            assert!(
                err.contains(&format!("metadata 'beta' = '{beta}'"))
                    && err.contains("finite number ≥ 0"),
                "{err}"
            );
        }
        // 2·(2⁶³ + 3) wraps round to the model's 6 pixels in unchecked arithmetic.
        for size in ["[4,4]", "[0,6]", "6x1", "[2,9223372036854775811]"] {
            let err = load_error(|f| {
                f.metadata.insert("image_size".into(), size.into());
            });
            assert!(err.contains("'image_size' = "), "{err}");
        }
        let err = load_error(|f| {
            f.metadata.insert("activation".into(), "gelu".into());
        });
        assert!(err.contains("unknown activation 'gelu'"), "{err}");
    }

    #[test]
    fn non_finite_weights_are_refused_by_name() {
        let err = load_error(|f| {
            let w = f.tensors.get_mut("encoder.mu.weight").unwrap();
            w[[1, 2]] = f32::NAN;
        });
        assert!(
            err.contains("tensor 'encoder.mu.weight' holds 1 NaN or infinite values"),
            "{err}"
        );
    }
}
