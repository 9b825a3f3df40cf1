//! The VAE against PyTorch: every `vae_golden_*.safetensors` in tests/fixtures/ holds a
//! model (configuration in its metadata, parameters under their checkpoint names), an
//! input batch `x`, the noise `eps`, and PyTorch's float64 forward values and parameter
//! gradients. Ours must agree to 1e-9 relative. A new file is a new case, no code change.

use std::path::{Path, PathBuf};

use tensor::{Tape, Tensor};
use vae::loss::elbo;
use vae::tensor_file::TensorFile;
use vae::{Activation, ModelConfig, Vae};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("vae_golden_")
        })
        .collect();
    files.sort();
    files
}

/// Largest |a − e| / max(|e|, floor) over the elements, with a floor so that values that
/// are zero in PyTorch (a dead relu's gradient) are compared absolutely.
fn worst_relative(actual: &Tensor<f64>, expected: &Tensor<f64>) -> f64 {
    assert_eq!(actual.shape(), expected.shape());
    let floor = expected.iter().fold(0.0f64, |m, e| m.max(e.abs())) * 1e-6 + 1e-300;
    actual
        .iter()
        .zip(expected.iter())
        .map(|(a, e)| (a - e).abs() / e.abs().max(floor))
        .fold(0.0, f64::max)
}

#[test]
fn every_golden_file_matches_pytorch() {
    let files = fixtures();
    assert!(
        files.len() >= 2,
        "expected the golden fixtures in tests/fixtures, found {files:?}"
    );
    for path in files {
        let (mut file, _) = TensorFile::<f64>::read(&path).unwrap();
        let meta = |key: &str| file.meta(&path, key).unwrap().to_string();
        let config = ModelConfig {
            input_dim: meta("input_dim").parse().unwrap(),
            hidden: serde_json::from_str(&meta("hidden")).unwrap(),
            latent: meta("latent").parse().unwrap(),
            activation: meta("activation").parse::<Activation>().unwrap(),
        };
        let beta: f64 = meta("beta").parse().unwrap();
        let batch: usize = meta("batch").parse().unwrap();
        let names: Vec<String> = config.param_shapes().into_iter().map(|(n, _)| n).collect();
        let params = names.iter().map(|n| file.take(&path, n).unwrap()).collect();
        let model = Vae { config, params };
        let x = file.take(&path, "x").unwrap();
        let eps = file.take(&path, "eps").unwrap();
        assert_eq!(x.shape()[0], batch);

        let tape = Tape::<f64>::new();
        let vars = model.bind_copies(&tape);
        let (xv, epsv) = (tape.constant(&x), tape.constant(&eps));
        let out = model.forward(&vars, xv, epsv);
        let terms = elbo(&out, xv, beta);
        let mut grads = tape.backward(terms.loss);

        let mut checks: Vec<(String, Tensor<f64>)> = vec![
            ("mu".into(), out.mu.to_tensor()),
            ("logvar".into(), out.logvar.to_tensor()),
            ("logits".into(), out.logits.to_tensor()),
            (
                "loss".into(),
                terms
                    .loss
                    .to_tensor()
                    .into_shape_with_order(vec![1])
                    .unwrap(),
            ),
            (
                "recon".into(),
                terms
                    .recon
                    .to_tensor()
                    .into_shape_with_order(vec![1])
                    .unwrap(),
            ),
            (
                "kl".into(),
                terms.kl.to_tensor().into_shape_with_order(vec![1]).unwrap(),
            ),
        ];
        for (name, &v) in names.iter().zip(&vars) {
            checks.push((format!("grad.{name}"), grads.wrt(v)));
        }
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for (key, actual) in checks {
            let expected = file.take(&path, &format!("expected.{key}")).unwrap();
            let rel = worst_relative(&actual, &expected);
            assert!(
                rel <= 1e-9,
                "{name}: {key} differs from PyTorch by {rel:.2e} relative"
            );
        }
        eprintln!("{name}: loss {:.6} matches PyTorch", terms.loss.item());
    }
}
