//! Helpers shared by the tests that run the `vae` binary.

// Each test crate compiles this module and uses only some of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use vae::data::dataset::Intensities;
use vae::data::idx::encode;
use vae::data::idx_folder::{load_folder, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};

/// A folder of raw IDX files cut from the bundled MNIST: the first `train` training and
/// `test` test images, so that a run takes a fraction of a second.
pub fn mnist_slice(dir: &Path, train: usize, test: usize) -> PathBuf {
    let (all_train, all_test) =
        load_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist"))
            .expect("bundled MNIST");
    std::fs::create_dir_all(dir).unwrap();
    for (set, n, images, labels) in [
        (&all_train, train, TRAIN_IMAGES, TRAIN_LABELS),
        (&all_test, test, TEST_IMAGES, TEST_LABELS),
    ] {
        let raw = |name: &str| dir.join(name.trim_end_matches(".gz"));
        let part = set.first(n);
        let Intensities::Bytes(pixels) = &part.images else {
            panic!("MNIST is bytes")
        };
        std::fs::write(raw(images), encode(&[n, 28, 28], pixels)).unwrap();
        std::fs::write(raw(labels), encode(&[n], part.labels.as_ref().unwrap())).unwrap();
    }
    dir.to_path_buf()
}

/// Runs `vae ARGS`; returns (exit code, stdout, stderr).
pub fn vae(args: &[&str]) -> (i32, String, String) {
    vae_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// Runs `vae ARGS` in the folder `cwd`; returns (exit code, stdout, stderr).
pub fn vae_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vae"))
        .args(args)
        .current_dir(cwd)
        .env_remove(vae::io::faults::VARIABLE)
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
pub fn refused(args: &[&str], needles: &[&str]) {
    let (code, _, err) = vae(args);
    assert_eq!(code, 1, "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    for needle in needles {
        assert!(err.contains(needle), "{args:?}: '{needle}' not in: {err}");
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub const TINY: [&str; 7] = [
    "--quiet", "--hidden", "16", "--latent", "2", "--epochs", "1",
];

/// A finished tiny run in `dir/run` trained on `data`.
pub fn tiny_run(dir: &Path, data: &Path) -> PathBuf {
    let out = dir.join("run");
    let mut args = vec!["train", "--data", s(data), "--out", s(&out)];
    args.extend(TINY);
    let (code, _, err) = vae(&args);
    assert_eq!(code, 0, "{err}");
    out
}

/// `vae train` of a tiny model on `data` into `out` for `epochs` epochs, paused (with the
/// fault point `pause@epoch-2:trained`) after its first epoch is committed and its second
/// trained; returns the paused process and the rest of its stderr.
pub fn paused_run(
    data: &Path,
    out: &Path,
    epochs: usize,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vae"))
        .args(["train", "--quiet", "--data", s(data), "--out", s(out)])
        .args([
            "--hidden",
            "16",
            "--latent",
            "2",
            "--epochs",
            &epochs.to_string(),
        ])
        .env(vae::io::faults::VARIABLE, "pause@epoch-2:trained")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("paused at") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "ended before pausing"
        );
    }
    (child, stderr)
}
