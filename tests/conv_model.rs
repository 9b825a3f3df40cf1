//! The convolutional VAE through the `vae` program: everything the MLP does, the conv
//! model does too. Training and resuming bit for bit (on another thread count), the IWAE
//! objective and the importance-weighted evaluation, every latent tool, users' own data
//! of other sizes (8×8 arrays, non-square PNGs), and the sizes it cannot serve refused
//! before the run folder is touched.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use image::{GrayImage, Luma};
use ndarray::Array2;
use ndarray_npy::write_npy;
use support::{mnist_slice, refused, s, vae};
use vae::model::checkpoint::load_model;

/// A small conv model: 4 and 8 channels, 8 dense units, 2 latent.
const SMALL_CONV: [&str; 13] = [
    "--quiet",
    "--arch",
    "conv",
    "--channels",
    "4,8",
    "--hidden",
    "8",
    "--latent",
    "2",
    "--batch-size",
    "50",
    "--threads",
    "2",
];

fn ok(args: &[&str]) -> String {
    let (code, out, err) = vae(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
    out
}

fn train(data: &Path, out: &Path, epochs: &str, extra: &[&str]) {
    let mut args = vec![
        "train",
        "--data",
        s(data),
        "--out",
        s(out),
        "--epochs",
        epochs,
    ];
    args.extend(SMALL_CONV);
    args.extend(extra);
    ok(&args);
}

/// The files of a run folder that hold no timings (the metrics' seconds and the report
/// differ from run to run), by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let timed = ["report.html", "metrics.jsonl"];
    names
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .filter(|(name, _)| !timed.contains(&name.as_str()))
        .map(|(name, p)| (name, fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn a_conv_run_resumes_bit_for_bit_and_records_its_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 300, 100);
    let whole = dir.path().join("whole");
    train(&data, &whole, "2", &[]);
    let halves = dir.path().join("halves");
    train(&data, &halves, "1", &[]);
    // Resumed on one thread: the same bits.
    ok(&[
        "train",
        "--resume",
        "--out",
        s(&halves),
        "--epochs",
        "2",
        "--threads",
        "1",
        "--quiet",
    ]);
    let (a, b) = (files(&whole), files(&halves));
    assert_eq!(a.len(), b.len());
    assert!(a
        .iter()
        .any(|(name, _)| name == "state-epoch-0002.safetensors"));
    for ((name, x), (other, y)) in a.iter().zip(&b) {
        assert_eq!(name, other);
        assert!(x == y, "{name} differs after the resume");
    }
    let checkpoint = load_model::<f32>(&whole.join("checkpoint.safetensors")).unwrap();
    let conv = checkpoint.model.config.conv.clone().expect("a conv model");
    assert_eq!(
        (conv.channels, conv.kernel, conv.image),
        (vec![4, 8], 4, [1, 28, 28])
    );
    assert_eq!(checkpoint.image_size, Some((28, 28)));
    // The architecture is refused as a change on resume, naming the flag.
    refused(
        &[
            "train",
            "--resume",
            "--out",
            s(&halves),
            "--epochs",
            "3",
            "--channels",
            "8,8",
        ],
        &["--channels", "4,8", "8,8"],
    );
}

#[test]
fn the_iwae_objective_the_bound_and_every_latent_tool_serve_the_conv_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 60);
    let run = dir.path().join("run");
    let iwae = [
        "--objective",
        "iwae",
        "--k",
        "3",
        "--binarize",
        "--output-bias",
        "data-mean",
    ];
    train(&data, &run, "1", &iwae);
    let c = run.join("checkpoint.safetensors");
    let c = s(&c);
    let out = ok(&[
        "eval",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--binarize",
        "--iw-samples",
        "20",
    ]);
    assert!(out.contains("20"), "{out}");
    let out_file = |name: &str| dir.path().join(name);
    ok(&[
        "sample",
        "--checkpoint",
        c,
        "--out",
        s(&out_file("s.png")),
        "--n",
        "4",
    ]);
    ok(&[
        "reconstruct",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out_file("r.png")),
    ]);
    ok(&[
        "encode",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out_file("z.csv")),
    ]);
    let rows = fs::read_to_string(out_file("z.csv"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(rows, 61, "a header and one row per test image");
    ok(&[
        "interpolate",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--pair",
        "0,5",
        "--out",
        s(&out_file("i.png")),
    ]);
    ok(&[
        "manifold",
        "--checkpoint",
        c,
        "--grid",
        "3",
        "--out",
        s(&out_file("m.png")),
    ]);
    ok(&[
        "latent-map",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out_file("l.png")),
    ]);
    for picture in ["s.png", "r.png", "i.png", "m.png", "l.png"] {
        assert!(image::open(out_file(picture)).is_ok(), "{picture}");
    }
}

#[test]
fn own_data_of_other_sizes_trains_and_what_the_strides_cannot_serve_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // scikit-learn's digits are 8×8: kernel 3, stride 2, padding 1 takes them 8 → 4 → 2.
    let npy = dir.path().join("digits.npy");
    let images = Array2::<u8>::from_shape_fn((40, 64), |(i, p)| ((i * 31 + p * 17) % 256) as u8);
    write_npy(&npy, &images).unwrap();
    let run = dir.path().join("digits");
    let small = ["--kernel", "3"];
    train(&npy, &run, "1", &small);
    let checkpoint = run.join("checkpoint.safetensors");
    let model = load_model::<f32>(&checkpoint).unwrap().model;
    assert_eq!(
        model.config.conv.unwrap().sizes().unwrap(),
        [[8, 8], [4, 4], [2, 2]]
    );

    // Non-square PNGs, 6×9: 6 → 3 → 2 and 9 → 5 → 3; on the way back the last transpose
    // needs an output padding of 1 in height and 0 in width.
    let pngs = dir.path().join("pngs");
    fs::create_dir_all(&pngs).unwrap();
    for i in 0..12u32 {
        let img = GrayImage::from_fn(9, 6, |c, r| Luma([((c * 20 + r * 7 + i * 3) % 256) as u8]));
        img.save(pngs.join(format!("{i:02}.png"))).unwrap();
    }
    let wide = dir.path().join("wide");
    train(&pngs, &wide, "1", &small);
    let wide_checkpoint = wide.join("checkpoint.safetensors");
    let wide_model = load_model::<f32>(&wide_checkpoint).unwrap();
    assert_eq!(wide_model.image_size, Some((6, 9)));
    let shape = wide_model.model.config.conv.unwrap();
    assert_eq!(shape.output_padding(), [[0, 0], [1, 0]]);
    ok(&[
        "eval",
        "--checkpoint",
        s(&wide_checkpoint),
        "--data",
        s(&pngs),
        "--iw-samples",
        "5",
    ]);

    // A model of 8×8 images does not read 6×9 ones.
    refused(
        &["eval", "--checkpoint", s(&checkpoint), "--data", s(&pngs)],
        &["8×8 images", "6×9"],
    );
    // Five stride-2 layers take 8×8 to nothing: refused before the folder exists.
    let too_deep = dir.path().join("too-deep");
    refused(
        &[
            "train",
            "--data",
            s(&npy),
            "--out",
            s(&too_deep),
            "--arch",
            "conv",
            "--channels",
            "4,4,4,4,4",
            "--kernel",
            "4",
            "--padding",
            "0",
        ],
        &["--channels", "8×8 → 3×3"],
    );
    refused(
        &[
            "train",
            "--data",
            s(&npy),
            "--out",
            s(&too_deep),
            "--arch",
            "conv",
            "--kernel",
            "11",
        ],
        &["--kernel", "11×11 kernel"],
    );
    assert!(!too_deep.exists(), "nothing written for a refused model");
}

#[test]
fn a_weights_file_written_elsewhere_evaluates_here() {
    // The tiny golden model's parameters, as a PyTorch script writes them: PyTorch's
    // names, the fixture's metadata keys (no `arch`, no `input_dim`), no digests.
    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/conv_vae_golden_tiny.safetensors");
    let bytes = fs::read(&fixture).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let golden = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let params: Vec<(String, safetensors::tensor::TensorView)> = golden
        .tensors()
        .into_iter()
        .filter(|(name, _)| name.starts_with("encoder.") || name.starts_with("decoder."))
        .collect();
    let keys = [
        "image",
        "channels",
        "kernel",
        "stride",
        "padding",
        "hidden",
        "latent",
        "activation",
    ];
    let all = header.metadata().clone().unwrap();
    let metadata: std::collections::HashMap<String, String> = keys
        .iter()
        .map(|&k| (k.to_string(), all[k].clone()))
        .collect();
    let weights = dir.path().join("made-elsewhere.safetensors");
    fs::write(
        &weights,
        safetensors::serialize(params, &Some(metadata)).unwrap(),
    )
    .unwrap();

    let loaded = load_model::<f32>(&weights).unwrap();
    let conv = loaded.model.config.conv.unwrap();
    assert_eq!(
        (conv.image, conv.channels, conv.kernel),
        ([1, 8, 8], vec![2, 3], 3)
    );
    assert_eq!(loaded.image_size, Some((8, 8)));

    let npy = dir.path().join("eights.npy");
    let images = Array2::<u8>::from_shape_fn((12, 64), |(i, p)| ((i * 13 + p * 7) % 256) as u8);
    write_npy(&npy, &images).unwrap();
    let (code, out, err) = vae(&["eval", "--checkpoint", s(&weights), "--data", s(&npy)]);
    assert_eq!(code, 0, "{err}");
    let loss: f64 = out
        .strip_prefix("test loss ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no loss in: {out}"));
    assert!(loss.is_finite() && loss > 0.0, "{out}");
    assert!(err.contains("no SHA-256 digests"), "{err}");
}
