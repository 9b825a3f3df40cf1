//! The convolutional VAE against PyTorch: every `conv_vae_golden_*.safetensors` in the
//! root's tests/fixtures/ holds a model (its geometry in the metadata, read as a
//! checkpoint's is; its parameters under PyTorch's state-dict names), a batch `x`
//! `[B, C, H, W]`, the noise `eps`, and PyTorch's float64 forward values and parameter
//! gradients. Ours must agree within float64 rounding (TESTING.md), and the layer sizes and output paddings
//! our model computes itself must be the ones the metadata records. A new file is a new
//! case, no code change.

mod support;

use support::{check_elbo, fixtures, meta, model};
use vae::io::tensor_file::TensorFile;

#[test]
fn every_conv_golden_file_matches_pytorch() {
    let files = fixtures("conv_vae_golden_");
    assert!(
        files.len() >= 3,
        "expected the conv golden fixtures in tests/fixtures, found {files:?}"
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (mut file, _) = TensorFile::<f64>::read(&path).unwrap();
        let beta: f64 = meta(&file, &path, "beta").parse().unwrap();
        let batch: usize = meta(&file, &path, "batch").parse().unwrap();
        let model = model(&mut file, &path);
        let shape = model.config.conv.clone().expect("a conv fixture");

        // The geometry our model derives must be PyTorch's.
        let sizes: Vec<[usize; 2]> =
            serde_json::from_str(&meta(&file, &path, "encoder_sizes")).unwrap();
        let pads: Vec<[usize; 2]> =
            serde_json::from_str(&meta(&file, &path, "output_padding")).unwrap();
        assert_eq!(
            shape.sizes().unwrap()[1..],
            sizes[..],
            "{name}: encoder sizes"
        );
        assert_eq!(shape.output_padding(), pads, "{name}: output padding");

        let x = file.take(&path, "x").unwrap();
        assert_eq!(x.shape()[0], batch);
        let flat = x
            .into_shape_with_order(vec![batch, model.config.input_dim])
            .unwrap();
        let eps = file.take(&path, "eps").unwrap();
        let loss = check_elbo(&mut file, &path, &model, (&flat, &eps), beta);
        eprintln!("{name}: loss {:.6} matches PyTorch", loss);
    }
}
