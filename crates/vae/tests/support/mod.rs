//! Reading the golden fixtures made with PyTorch (`tests/fixtures/README.md` at the
//! repository's root describes them): every file with a given prefix, its model, and the
//! comparison every golden test makes.

// Each test crate compiles this module and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tensor::{Tape, Tensor, Var};
use vae::io::tensor_file::TensorFile;
use vae::model::conv_metadata::parse_conv;
use vae::objective::loss::elbo;
use vae::{Activation, ModelConfig, Vae};

/// Every `tests/fixtures/{prefix}*.safetensors` (at the repository's root, beside the
/// script that made them), sorted: a new file is a new case.
pub fn fixtures(prefix: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    files.sort();
    files
}

/// Metadata `key` of a fixture, as a string.
pub fn meta(file: &TensorFile<f64>, path: &Path, key: &str) -> String {
    file.meta(path, key).unwrap().to_string()
}

/// The model a fixture describes: its configuration from the metadata (an MLP, or a conv
/// model when the metadata has `channels`, read as checkpoints are read), its parameters
/// taken out of the file under their checkpoint names.
pub fn model(file: &mut TensorFile<f64>, path: &Path) -> Vae<f64> {
    let conv = parse_conv(path, &file.metadata).unwrap();
    let input_dim = match &conv {
        Some(c) => c.image.iter().product(),
        None => meta(file, path, "input_dim").parse().unwrap(),
    };
    let config = ModelConfig {
        input_dim,
        hidden: serde_json::from_str(&meta(file, path, "hidden")).unwrap(),
        latent: meta(file, path, "latent").parse().unwrap(),
        activation: meta(file, path, "activation")
            .parse::<Activation>()
            .unwrap(),
        conv,
    };
    let names: Vec<String> = config.param_shapes().into_iter().map(|(n, _)| n).collect();
    let params = names.iter().map(|n| file.take(path, n).unwrap()).collect();
    Vae { config, params }
}

/// The worst `|a − e| / allowance` over the elements (a value ≤ 1 passes), with the
/// allowance `1e-9·|e| + 4·√n·u·max|E|` (TESTING.md derives it): a relative part for the
/// elements of the tensor's own size, and the rounding of a float64 sum of `n` terms of
/// the tensor's scale (`u` = 2⁻⁵³), which is all an element much smaller than the
/// tensor's largest can be trusted to. `n` is the longest reduction the tensor comes
/// from ([`reduction_length`]).
pub fn worst_ratio(actual: &Tensor<f64>, expected: &Tensor<f64>, n: usize) -> f64 {
    assert_eq!(actual.shape(), expected.shape());
    let scale = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let rounding = 4.0 * (n as f64).sqrt() * f64::EPSILON / 2.0 * scale;
    actual
        .iter()
        .zip(expected.iter())
        .map(|(a, e)| (a - e).abs() / (1e-9 * e.abs() + rounding + 1e-300))
        .fold(0.0, f64::max)
}

/// The longest sum behind any figure of `model` on `rows` rows (a batch, or `K`·batch
/// samples): a weight's gradient sums over the rows, a layer's output over its widest
/// input.
pub fn reduction_length(model: &Vae<f64>, rows: usize) -> usize {
    let c = &model.config;
    let widest = c
        .hidden
        .iter()
        .copied()
        .chain([c.input_dim, c.latent])
        .max()
        .unwrap_or(1);
    rows * widest
}

/// Asserts each `(key, actual)` equals the fixture's `expected.{key}` within the allowance
/// of [`worst_ratio`] for reductions of length `n`, and that a change of 1e-6 relative to
/// each expected tensor would not be within it.
pub fn assert_matches(
    file: &mut TensorFile<f64>,
    path: &Path,
    checks: Vec<(String, Tensor<f64>)>,
    n: usize,
) {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    for (key, actual) in checks {
        let expected = file.take(path, &format!("expected.{key}")).unwrap();
        let ratio = worst_ratio(&actual, &expected, n);
        assert!(
            ratio <= 1.0,
            "{name}: {key} differs from PyTorch by {ratio:.2} times the allowance"
        );
        let nudged = expected.mapv(|e| e * (1.0 + 1e-6));
        if expected.iter().any(|&e| e != 0.0) {
            assert!(
                worst_ratio(&nudged, &expected, n) > 1.0,
                "{name}: {key}: a 1e-6 relative change would pass"
            );
        }
    }
}

/// One ELBO forward and backward of `model` on `x` (flat, `[batch, input_dim]`) with
/// noise `eps`, checked against the fixture's `expected.*` (`mu`, `logvar`, `logits` in
/// the fixture's own shape, `loss`, `recon`, `kl`, every `grad.<parameter>`) as
/// [`assert_matches`] compares. Returns the loss.
pub fn check_elbo(
    file: &mut TensorFile<f64>,
    path: &Path,
    model: &Vae<f64>,
    (x, eps): (&Tensor<f64>, &Tensor<f64>),
    beta: f64,
) -> f64 {
    let tape = Tape::<f64>::new();
    let vars = model.bind_copies(&tape);
    let (xv, epsv) = (tape.constant(x), tape.constant(eps));
    let out = model.forward(&vars, xv, epsv);
    let terms = elbo(&out, xv, beta);
    let mut grads = tape.backward(terms.loss);

    let scalar = |v: Var<'_, f64>| v.to_tensor().into_shape_with_order(vec![1]).unwrap();
    let logits_shape = file.tensors["expected.logits"].shape().to_vec();
    let logits = out.logits.to_tensor();
    let mut checks: Vec<(String, Tensor<f64>)> = vec![
        ("mu".into(), out.mu.to_tensor()),
        ("logvar".into(), out.logvar.to_tensor()),
        (
            "logits".into(),
            logits.into_shape_with_order(logits_shape).unwrap(),
        ),
        ("loss".into(), scalar(terms.loss)),
        ("recon".into(), scalar(terms.recon)),
        ("kl".into(), scalar(terms.kl)),
    ];
    for (name, &v) in model.names().iter().zip(&vars) {
        checks.push((format!("grad.{name}"), grads.wrt(v)));
    }
    assert_matches(file, path, checks, reduction_length(model, x.shape()[0]));
    terms.loss.item()
}
