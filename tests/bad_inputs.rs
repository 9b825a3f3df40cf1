//! Every input that once made the program panic, abort, run away, give a wrong result
//! with exit status 0, or lose a user's files — tried through the real binary. Each
//! must now end in a clear error (or notice) that names the flag or file, and exit 1.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use support::mnist_slice;
use vae::data::TEST_LABELS;
use vae::idx::encode;
use vae::tensor_file::TensorFile;

/// Runs `vae ARGS`; returns (exit code, stdout, stderr).
fn vae(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vae"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove(vae::faults::VARIABLE)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Exit 1 with an error that contains every one of `needles`, and no panic.
fn refused(args: &[&str], needles: &[&str]) {
    let (code, _, err) = vae(args);
    assert_eq!(code, 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{args:?}: '{needle}' not in: {err}");
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const TINY: [&str; 7] = [
    "--quiet", "--hidden", "16", "--latent", "2", "--epochs", "1",
];

/// A finished tiny run in `dir/run` trained on `data`.
fn tiny_run(dir: &Path, data: &Path) -> PathBuf {
    let out = dir.join("run");
    let mut args = vec!["train", "--data", s(data), "--out", s(&out)];
    args.extend(TINY);
    let (code, _, err) = vae(&args);
    assert_eq!(code, 0, "{err}");
    out
}

#[test]
fn sizes_that_overflowed_or_filled_memory_are_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never");
    for (flag, value, needle) in [
        (
            "--hidden",
            "18446744073709551615",
            "more parameters than this machine can count",
        ),
        ("--hidden", "10000000000", "GB available"),
        ("--latent", "1000000000000", "available"),
        ("--batch-size", "1000000000000000", "available"),
    ] {
        refused(&["train", flag, value, "--out", s(&out)], &[flag, needle]);
        assert!(!out.exists(), "{flag} {value}: the run folder was created");
    }
}

#[test]
fn empty_data_epochs_0_and_iw_images_0_are_errors_not_zero_losses() {
    let dir = tempfile::tempdir().unwrap();
    let no_test = mnist_slice(&dir.path().join("no-test"), 100, 0);
    let no_train = mnist_slice(&dir.path().join("no-train"), 0, 50);
    let data = mnist_slice(&dir.path().join("data"), 200, 50);
    let out = dir.path().join("r");
    refused(
        &["train", "--data", s(&no_test), "--out", s(&out)],
        &["no-test", "the test set holds no images"],
    );
    refused(
        &["train", "--data", s(&no_train), "--out", s(&out)],
        &["no-train", "the training set holds no images"],
    );
    refused(
        &["train", "--epochs", "0", "--out", s(&out)],
        &["--epochs: must be at least 1"],
    );
    let run = tiny_run(dir.path(), &data);
    let checkpoint = run.join("checkpoint.safetensors");
    refused(
        &[
            "eval",
            "--checkpoint",
            s(&checkpoint),
            "--data",
            s(&no_test),
        ],
        &["the test set holds no images"],
    );
    for (args, needle) in [
        (
            vec!["--iw-samples", "10", "--iw-images", "0"],
            "--iw-images: must be at least 1",
        ),
        (
            vec!["--iw-samples", "18446744073709551615", "--iw-images", "1"],
            "--iw-samples",
        ),
        (
            vec!["--iw-samples", "1000000000000"],
            "more than 1000000 samples per image",
        ),
        (
            vec!["--iw-samples", "0"],
            "--iw-samples: must be at least 1",
        ),
    ] {
        let mut all = vec!["eval", "--checkpoint", s(&checkpoint), "--data", s(&data)];
        all.extend(args);
        refused(&all, &[needle]);
    }
    refused(
        &[
            "sample",
            "--checkpoint",
            s(&checkpoint),
            "--side",
            "9223372036854775836",
        ],
        &["--side", "does not fit"],
    );
    refused(
        &["sample", "--checkpoint", s(&checkpoint), "--side", "27"],
        &["--side: 27×27 = 729 pixels"],
    );
}

#[test]
fn threads_far_above_the_cores_are_capped_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 50);
    let run = tiny_run(dir.path(), &data);
    let checkpoint = run.join("checkpoint.safetensors");
    let (code, out, err) = vae(&[
        "eval",
        "--checkpoint",
        s(&checkpoint),
        "--data",
        s(&data),
        "--threads",
        "10000",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("--threads 10000 is more than this machine's") && out.contains("test loss"),
        "{err}"
    );
}

#[test]
fn damaged_and_mislabelled_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 50);
    let run = tiny_run(dir.path(), &data);
    let checkpoint = run.join("checkpoint.safetensors");
    let bytes = std::fs::read(&checkpoint).unwrap();

    // A relu checkpoint relabelled tanh (same length, so the file stays well-formed).
    let relabelled = dir.path().join("relabelled.safetensors");
    let at = bytes.windows(6).position(|w| w == b"\"relu\"").unwrap();
    let mut edited = bytes.clone();
    edited[at + 1..at + 5].copy_from_slice(b"tanh");
    std::fs::write(&relabelled, edited).unwrap();
    refused(
        &["eval", "--checkpoint", s(&relabelled), "--data", s(&data)],
        &[
            "relabelled.safetensors",
            "the metadata does not match its SHA-256",
        ],
    );

    // One byte of tensor data changed.
    let flipped = dir.path().join("flipped.safetensors");
    let mut edited = bytes.clone();
    let last = edited.len() - 3;
    edited[last] ^= 0x10;
    std::fs::write(&flipped, edited).unwrap();
    refused(
        &["sample", "--checkpoint", s(&flipped)],
        &["flipped.safetensors", "does not match its SHA-256"],
    );

    // Files made elsewhere (no digests): bad β and non-finite weights are still refused.
    let (file, _) = TensorFile::<f32>::read(&checkpoint).unwrap();
    let foreign = |name: &str, edit: &dyn Fn(&mut TensorFile<f32>)| {
        let mut file = file.clone();
        edit(&mut file);
        let data: Vec<(String, Vec<u8>, Vec<usize>)> = file
            .tensors
            .iter()
            .map(|(n, t)| {
                (
                    n.clone(),
                    t.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    t.shape().to_vec(),
                )
            })
            .collect();
        let views = data.iter().map(|(n, b, shape)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), b)
                    .unwrap(),
            )
        });
        let meta = file.metadata.clone().into_iter().collect();
        let path = dir.path().join(name);
        std::fs::write(&path, safetensors::serialize(views, &Some(meta)).unwrap()).unwrap();
        path
    };
    for beta in ["-1", "NaN", "inf"] {
        let path = foreign("beta.safetensors", &|f| {
            f.metadata.insert("beta".into(), beta.into());
        });
        refused(
            &["eval", "--checkpoint", s(&path), "--data", s(&data)],
            &["beta.safetensors", &format!("metadata 'beta' = '{beta}'")],
        );
    }
    let path = foreign("nan.safetensors", &|f| {
        f.tensors.get_mut("decoder.out.bias").unwrap()[3] = f32::NAN;
    });
    refused(
        &["sample", "--checkpoint", s(&path)],
        &[
            "nan.safetensors",
            "tensor 'decoder.out.bias' holds 1 NaN or infinite values",
        ],
    );
}

#[test]
fn damaged_data_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // A header claiming 21,913,098 images (17 GB) over a few bytes of data.
    let huge = mnist_slice(&dir.path().join("huge"), 100, 10);
    std::fs::write(
        huge.join("train-images-idx3-ubyte"),
        encode(&[21_913_098, 28, 28], &[0; 784]),
    )
    .unwrap();
    refused(
        &["train", "--data", s(&huge), "--out", s(&out)],
        &["train-images-idx3-ubyte", "truncated", "the file has 784"],
    );
    // Garbage after a gzip stream.
    let trailing = mnist_slice(&dir.path().join("trailing"), 100, 10);
    let raw = std::fs::read(trailing.join("t10k-labels-idx1-ubyte")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &raw).unwrap();
    let mut bytes = gz.finish().unwrap();
    bytes.extend_from_slice(b"\0garbage");
    std::fs::remove_file(trailing.join("t10k-labels-idx1-ubyte")).unwrap();
    std::fs::write(trailing.join(TEST_LABELS), bytes).unwrap();
    refused(
        &["train", "--data", s(&trailing), "--out", s(&out)],
        &[TEST_LABELS, "trailing bytes after the gzip stream"],
    );
}

#[test]
fn a_finished_run_is_never_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 50);
    let other = mnist_slice(&dir.path().join("other"), 150, 50);
    let run = tiny_run(dir.path(), &data);
    let metrics = std::fs::read(run.join("metrics.jsonl")).unwrap();

    let mut again = vec!["train", "--data", s(&data), "--out", s(&run)];
    again.extend(TINY);
    refused(
        &again,
        &["--out", "already holds a run", "--resume", "--force"],
    );
    assert_eq!(
        std::fs::read(run.join("metrics.jsonl")).unwrap(),
        metrics,
        "metrics.jsonl was touched"
    );

    refused(
        &[
            "train",
            "--out",
            s(&run),
            "--resume",
            "--data",
            s(&other),
            "--epochs",
            "2",
        ],
        &["--data: the run in", "150 training"],
    );
    refused(
        &["train", "--out", s(&run), "--resume", "--latent", "3"],
        &["--latent", "trained with --latent 2; this command gives 3"],
    );
    refused(
        &["train", "--out", s(&dir.path().join("absent")), "--resume"],
        &["--resume", "does not exist"],
    );

    // Resuming without flags keeps the saved settings and data; changes are reported.
    let (code, _, err) = vae(&[
        "train",
        "--out",
        s(&run),
        "--resume",
        "--epochs",
        "3",
        "--lr",
        "5e-4",
        "--keep-checkpoints",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("--epochs: 1 → 3") && err.contains("--lr: 0.001 → 0.0005"),
        "{err}"
    );
    let states = vae::run_folder::RunFolder::new(&run).states().unwrap();
    assert_eq!(
        states.iter().map(|s| s.0).collect::<Vec<_>>(),
        vec![2, 3],
        "--keep-checkpoints 2"
    );
    assert_eq!(
        std::fs::read_to_string(run.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count(),
        3
    );

    // --force says what it replaces.
    again.push("--force");
    let (code, _, err) = vae(&again);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("--force: replacing the run in")
            && err.contains("state-epoch-0003.safetensors"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(run.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn a_damaged_newest_state_or_an_old_format_run_is_refused_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 50);
    let run = tiny_run(dir.path(), &data);
    let (code, _, err) = vae(&[
        "train",
        "--out",
        s(&run),
        "--resume",
        "--epochs",
        "2",
        "--keep-checkpoints",
        "2",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let newest = run.join("state-epoch-0002.safetensors");
    let mut bytes = std::fs::read(&newest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&newest, bytes).unwrap();
    refused(
        &["train", "--out", s(&run), "--resume", "--epochs", "3"],
        &[
            "state-epoch-0002.safetensors",
            "does not match its SHA-256",
            "An older state, state-epoch-0001.safetensors, remains",
        ],
    );

    // A run folder of an earlier version: weights and optimizer state in two files.
    let old = dir.path().join("old");
    std::fs::create_dir(&old).unwrap();
    std::fs::copy(
        run.join("checkpoint.safetensors"),
        old.join("checkpoint.safetensors"),
    )
    .unwrap();
    std::fs::write(old.join("checkpoint.train.safetensors"), b"old").unwrap();
    refused(
        &["train", "--out", s(&old), "--resume"],
        &["checkpoint.train.safetensors", "earlier version", "--force"],
    );
}
