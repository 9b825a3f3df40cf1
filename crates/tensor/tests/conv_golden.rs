//! `conv2d` and `conv_transpose2d` against PyTorch: every case of every
//! `conv_op_golden*.safetensors` in the repository's tests/fixtures/ (computed with
//! `F.conv2d` / `F.conv_transpose2d` in float64; the format is in that folder's README)
//! must give PyTorch's output and its three gradients, of `sum(y ⊙ grad_out)`, to 1e-9 of
//! each tensor's largest value. A new file, or a new case in one, is a new test.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use safetensors::SafeTensors;
use serde_json::Value;
use tensor::Tape;

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("conv_op_golden") && name.ends_with(".safetensors")
        })
        .collect();
    files.sort();
    files
}

fn pair(spec: &Value, key: &str) -> [usize; 2] {
    let v = &spec[key];
    [
        v[0].as_u64().expect(key) as usize,
        v[1].as_u64().expect(key) as usize,
    ]
}

fn assert_matches(what: &str, ours: &ArrayD<f64>, theirs: &ArrayD<f64>) {
    assert_eq!(ours.shape(), theirs.shape(), "{what}: shape");
    let scale = theirs.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-300);
    for (i, (a, e)) in ours.iter().zip(theirs.iter()).enumerate() {
        assert!(
            (a - e).abs() <= 1e-9 * scale,
            "{what}[{i}]: ours {a}, PyTorch {e} (largest value {scale})"
        );
    }
}

#[test]
fn every_conv_case_matches_pytorch() {
    let files = fixtures();
    assert!(!files.is_empty(), "no conv_op_golden*.safetensors found");
    let mut cases = 0;
    for path in &files {
        let bytes = std::fs::read(path).expect("the fixture reads");
        let (_, header) = SafeTensors::read_metadata(&bytes).expect("a safetensors file");
        let metadata = header.metadata().clone().expect("metadata");
        let file = SafeTensors::deserialize(&bytes).expect("a safetensors file");
        let tensor = |name: &str| -> ArrayD<f64> {
            let view = file.tensor(name).expect(name);
            assert_eq!(view.dtype(), safetensors::Dtype::F64, "{name}");
            let values = view.data().chunks_exact(8);
            let values = values.map(|b| f64::from_le_bytes(b.try_into().unwrap()));
            ArrayD::from_shape_vec(IxDyn(view.shape()), values.collect()).expect(name)
        };
        let names: Vec<String> = serde_json::from_str(&metadata["cases"]).expect("cases");
        for case in names {
            let spec: Value = serde_json::from_str(&metadata[&case]).expect("a case's settings");
            let at = |name: &str| tensor(&format!("{case}.{name}"));
            let tape = Tape::<f64>::new();
            let (x, w, b) = (
                tape.param(&at("x")),
                tape.param(&at("weight")),
                tape.param(&at("bias")),
            );
            let (stride, padding, dilation) = (
                pair(&spec, "stride"),
                pair(&spec, "padding"),
                pair(&spec, "dilation"),
            );
            let y = match spec["op"].as_str() {
                Some("conv2d") => x.conv2d(w, b, stride, padding, dilation),
                Some("conv_transpose2d") => {
                    let output_padding = pair(&spec, "output_padding");
                    x.conv_transpose2d(w, b, stride, padding, output_padding, dilation)
                }
                other => panic!("{case}: unknown op {other:?}"),
            };
            let what = |name: &str| format!("{} {case} {name}", path.display());
            assert_matches(&what("y"), &y.to_tensor(), &at("expected.y"));
            let grads = tape.backward_with(y, at("grad_out"));
            for (name, v) in [("x", x), ("weight", w), ("bias", b)] {
                let expected = at(&format!("expected.grad.{name}"));
                assert_matches(
                    &what(&format!("grad.{name}")),
                    grads.get(v).unwrap(),
                    &expected,
                );
            }
            cases += 1;
        }
    }
    assert!(cases >= 6, "only {cases} cases read");
}
