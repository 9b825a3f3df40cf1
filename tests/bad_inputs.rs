//! Every input that once made the program panic, abort, run away, give a wrong result
//! with exit status 0, or lose a user's files — tried through the real binary. Each
//! must now end in a clear error (or notice) that names the flag or file, and exit 1.

mod support;

use support::{mnist_slice, refused, s, tiny_run, vae, vae_in};
use vae::data::idx::encode;
use vae::data::idx_folder::TEST_LABELS;

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
        // Its units fill every row of a batch: once blamed on --batch-size.
        ("--latent", "100000000", "available"),
        ("--batch-size", "1000000000000000", "available"),
    ] {
        refused(
            &["train", flag, value, "--out", s(&out)],
            &[&format!("error: {flag}: "), needle],
        );
        assert!(!out.exists(), "{flag} {value}: the run folder was created");
    }
    let conv = [
        "train",
        "--arch",
        "conv",
        "--channels",
        "5000,5000",
        "--out",
        s(&out),
    ];
    refused(&conv, &["error: --channels: ", "available"]);
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
    for size in ["9223372036854775836x2", "28", "0x5", "axb"] {
        // Refused while the flags are parsed (exit code 2, as for any malformed flag).
        let (code, _, err) = vae(&[
            "sample",
            "--checkpoint",
            s(&checkpoint),
            "--image-size",
            size,
        ]);
        assert_eq!(code, 2, "{size}: {err}");
        assert!(err.contains("--image-size") && err.contains(size), "{err}");
    }
    refused(
        &[
            "sample",
            "--checkpoint",
            s(&checkpoint),
            "--image-size",
            "27x27",
        ],
        &["--image-size: 27x27 = 729 pixels"],
    );
    refused(
        &["sample", "--checkpoint", s(&checkpoint), "--n", "0"],
        &["--n: must be 1 to 4096, got 0"],
    );
    refused(
        &["sample", "--checkpoint", s(&checkpoint), "--temperature=-1"],
        &["--temperature: must be a number ≥ 0, got -1"],
    );
    refused(
        &[
            "reconstruct",
            "--checkpoint",
            s(&checkpoint),
            "--data",
            s(&data),
            "--indices",
            "3,50",
        ],
        &["--indices: image 50 does not exist: the set has 50 images"],
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
fn damaged_data_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // A header claiming a million images (784 MB) over a few bytes of data, and one
    // claiming 21,913,098 (17 GB, past a data file's budget).
    let huge = mnist_slice(&dir.path().join("huge"), 100, 10);
    for (images, needle) in [
        (1_000_000, "the file has 784"),
        (21_913_098, "more than the 1024 MiB a data file may hold"),
    ] {
        std::fs::write(
            huge.join("train-images-idx3-ubyte"),
            encode(&[images, 28, 28], &[0; 784]),
        )
        .unwrap();
        refused(
            &["train", "--data", s(&huge), "--out", s(&out)],
            &["train-images-idx3-ubyte", needle],
        );
    }
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

/// Reads believed no size before checking it: a device as a checkpoint, a `.npy` whose
/// header claims far more than the file holds. Each is refused from its metadata or its
/// header, before anything is allocated.
#[test]
fn sizes_are_checked_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let c = run.join("checkpoint.safetensors");
    if std::path::Path::new("/dev/zero").exists() {
        refused(
            &["eval", "--checkpoint", "/dev/zero"],
            &["/dev/zero: not a regular file"],
        );
    }
    // 128 bytes whose header claims 10¹²×784 float32 values.
    let npy = dir.path().join("claims.npy");
    let mut header =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 784), }".to_string();
    while 10 + header.len() + 1 < 128 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    assert_eq!(bytes.len(), 128);
    std::fs::write(&npy, bytes).unwrap();
    let out = dir.path().join("e.csv");
    refused(
        &[
            "encode",
            "--checkpoint",
            s(&c),
            "--data",
            s(&npy),
            "--out",
            s(&out),
        ],
        &[
            "claims.npy: not a readable .npy file",
            "holds 0 bytes after it",
        ],
    );
    refused(
        &[
            "train",
            "--data",
            s(&npy),
            "--out",
            s(&dir.path().join("r")),
        ],
        &["claims.npy: not a readable .npy file"],
    );
}

/// Finite weights whose loss overflows: `eval` says so and exits 1, instead of printing
/// `inf` with status 0.
#[test]
fn a_loss_that_is_not_a_number_is_an_error() {
    use vae::io::tensor_file::TensorFile;
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let (mut file, _) = TensorFile::<f32>::read(&run.join("checkpoint.safetensors")).unwrap();
    file.tensors
        .get_mut("encoder.logvar.bias")
        .unwrap()
        .fill(1e30); // finite, but σ² = e^(10³⁰) is not
    let weights = dir.path().join("overflowing.safetensors");
    file.write(&weights).unwrap();
    refused(
        &["eval", "--checkpoint", s(&weights), "--data", s(&data)],
        &[
            "overflowing.safetensors",
            "the test loss on these images is",
            "not a number of nats",
        ],
    );
}

/// `--resume` from another folder than the run started in: the data path the run
/// recorded is relative to where it started; the error says where the path came from.
#[test]
fn a_resumed_runs_data_that_cannot_be_found_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    mnist_slice(&dir.path().join("small"), 200, 50);
    let run = |cwd: &std::path::Path, args: &[&str]| {
        let (code, _, err) = vae_in(cwd, args);
        (Some(code), err)
    };
    let args = [
        "train", "--quiet", "--data", "small", "--out", "r", "--hidden", "8", "--epochs", "1",
    ];
    let (code, err) = run(dir.path(), &args);
    assert_eq!(code, Some(0), "{err}");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let (code, err) = run(
        &elsewhere,
        &["train", "--resume", "--out", "../r", "--epochs", "2"],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--data: not given, and the run in ../r was started on small, which is not found from here"),
        "{err}"
    );
}

/// A tool that scores the test set reads only the test files of an IDX folder: a damaged
/// (or bomb-sized) training file costs it nothing, while `train` names it.
#[test]
fn the_tools_read_only_the_set_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let c = run.join("checkpoint.safetensors");
    let train_images = data.join("train-images-idx3-ubyte");
    std::fs::write(&train_images, b"not an IDX file").unwrap();
    let (code, out, err) = vae(&["eval", "--checkpoint", s(&c), "--data", s(&data), "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"test_images\":100"), "{out}");
    refused(
        &[
            "train",
            "--data",
            s(&data),
            "--out",
            s(&dir.path().join("r2")),
        ],
        &["train-images-idx3-ubyte"],
    );
}
