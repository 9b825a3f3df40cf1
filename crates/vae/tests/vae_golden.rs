//! The VAE against PyTorch: every `vae_golden_*.safetensors` in the root's tests/fixtures/ holds a
//! model (configuration in its metadata, parameters under their checkpoint names), an
//! input batch `x`, the noise `eps`, and PyTorch's float64 forward values and parameter
//! gradients. Ours must agree to 1e-9 relative. A new file is a new case, no code change.

mod support;

use support::{assert_matches, fixtures, meta, model};
use tensor::{Tape, Tensor};
use vae::io::tensor_file::TensorFile;
use vae::objective::loss::elbo;

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
        let names = model.names();
        let x = file.take(&path, "x").unwrap();
        let eps = file.take(&path, "eps").unwrap();
        assert_eq!(x.shape()[0], batch);

        let tape = Tape::<f64>::new();
        let vars = model.bind_copies(&tape);
        let (xv, epsv) = (tape.constant(&x), tape.constant(&eps));
        let out = model.forward(&vars, xv, epsv);
        let terms = elbo(&out, xv, beta);
        let mut grads = tape.backward(terms.loss);

        let scalar =
            |v: tensor::Var<'_, f64>| v.to_tensor().into_shape_with_order(vec![1]).unwrap();
        let mut checks: Vec<(String, Tensor<f64>)> = vec![
            ("mu".into(), out.mu.to_tensor()),
            ("logvar".into(), out.logvar.to_tensor()),
            ("logits".into(), out.logits.to_tensor()),
            ("loss".into(), scalar(terms.loss)),
            ("recon".into(), scalar(terms.recon)),
            ("kl".into(), scalar(terms.kl)),
        ];
        for (name, &v) in names.iter().zip(&vars) {
            checks.push((format!("grad.{name}"), grads.wrt(v)));
        }
        assert_matches(&mut file, &path, checks);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        eprintln!("{name}: loss {:.6} matches PyTorch", terms.loss.item());
    }
}
