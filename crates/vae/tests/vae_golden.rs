//! The VAE against PyTorch: every `vae_golden_*.safetensors` in the root's tests/fixtures/ holds a
//! model (configuration in its metadata, parameters under their checkpoint names), an
//! input batch `x`, the noise `eps`, and PyTorch's float64 forward values and parameter
//! gradients. Ours must agree within float64 rounding (TESTING.md). A new file is a new case, no code change.

mod support;

use support::{check_elbo, fixtures, meta, model};
use vae::io::tensor_file::TensorFile;

#[test]
fn every_golden_file_matches_pytorch() {
    let files = fixtures("vae_golden_");
    assert!(
        files.len() >= 2,
        "expected the golden fixtures in tests/fixtures, found {files:?}"
    );
    for path in files {
        let (mut file, _) = TensorFile::<f64>::read(&path).unwrap();
        let beta: f64 = meta(&file, &path, "beta").parse().unwrap();
        let batch: usize = meta(&file, &path, "batch").parse().unwrap();
        let model = model(&mut file, &path);
        let x = file.take(&path, "x").unwrap();
        let eps = file.take(&path, "eps").unwrap();
        assert_eq!(x.shape()[0], batch);
        let loss = check_elbo(&mut file, &path, &model, (&x, &eps), beta);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        eprintln!("{name}: loss {:.6} matches PyTorch", loss);
    }
}
