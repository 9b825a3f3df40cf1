//! The IWAE bound against PyTorch: every `iwae_golden_*.safetensors` in the root's tests/fixtures/
//! holds a model, a batch `x`, the noise `eps [K, batch, latent]`, and PyTorch's float64
//! loss, log-weights and parameter gradients. Ours must agree within float64 rounding
//! (`support::worst_ratio`; TESTING.md derives the allowance).

mod support;

use support::{assert_matches, fixtures, meta, model, reduction_length};
use tensor::{Tape, Tensor};
use vae::io::tensor_file::TensorFile;
use vae::objective::iwae::iwae;

#[test]
fn every_iwae_golden_file_matches_pytorch() {
    let files = fixtures("iwae_golden_");
    assert!(
        files.len() >= 2,
        "expected the IWAE fixtures, found {files:?}"
    );
    for path in files {
        let (mut file, _) = TensorFile::<f64>::read(&path).unwrap();
        let k: usize = meta(&file, &path, "k").parse().unwrap();
        let model = model(&mut file, &path);
        let names = model.names();
        let x = file.take(&path, "x").unwrap();
        let eps = file.take(&path, "eps").unwrap();
        assert_eq!(eps.shape()[0], k);

        let tape = Tape::<f64>::new();
        let vars = model.bind_copies(&tape);
        let bound = iwae(&model, &vars, tape.constant(&x), tape.constant(&eps));
        let mut grads = tape.backward(bound.loss);
        let loss = bound
            .loss
            .to_tensor()
            .into_shape_with_order(vec![1])
            .unwrap();
        let mut checks: Vec<(String, Tensor<f64>)> = vec![
            ("loss".into(), loss),
            ("log_w".into(), bound.log_w.to_tensor()),
        ];
        for (name, &v) in names.iter().zip(&vars) {
            checks.push((format!("grad.{name}"), grads.wrt(v)));
        }
        let n = reduction_length(&model, k * x.shape()[0]);
        assert_matches(&mut file, &path, checks, n);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        eprintln!(
            "{name}: IWAE loss {:.6} (K = {k}) matches PyTorch",
            bound.loss.item()
        );
    }
}
