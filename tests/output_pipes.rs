//! Ordinary shell use of the program's output: a reader that leaves early (`| head -1`)
//! ends a command quietly and never loses a training run; a stdout that cannot be
//! written (a full device) is an error naming stdout for a command whose output is its
//! result, and no reason to stop a training run.

mod support;

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use support::{mnist_slice, s, tiny_run};

/// Runs `vae ARGS` with its stdout already closed by its reader (`closed`) or on
/// /dev/full; returns (exit code, stderr).
fn vae_with_stdout(args: &[&str], closed: bool) -> (i32, String) {
    let stdout = if closed {
        Stdio::piped()
    } else {
        Stdio::from(File::create("/dev/full").unwrap())
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_vae"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove(vae::io::faults::VARIABLE)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader leaves before the first line
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    (out.status.code().unwrap_or(-1), err)
}

#[test]
fn a_reader_that_leaves_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let checkpoint = run.join("checkpoint.safetensors");
    for args in [
        vec!["eval", "--checkpoint", s(&checkpoint), "--data", s(&data)],
        vec![
            "eval",
            "--checkpoint",
            s(&checkpoint),
            "--data",
            s(&data),
            "--json",
        ],
        vec![
            "encode",
            "--checkpoint",
            s(&checkpoint),
            "--data",
            s(&data),
            "--out",
        ],
    ] {
        let mut args = args;
        let codes = dir.path().join("codes.npy");
        if args[0] == "encode" {
            args.push(s(&codes));
        }
        let (code, err) = vae_with_stdout(&args, true);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: nothing to say, but: {err}");
    }
}

#[test]
fn a_training_run_survives_its_reader_leaving_and_a_full_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    for closed in [true, false] {
        if !closed && !Path::new("/dev/full").exists() {
            continue;
        }
        let out = dir.path().join(format!("run-{closed}"));
        let args = [
            "train",
            "--data",
            s(&data),
            "--out",
            s(&out),
            "--hidden",
            "16",
            "--latent",
            "2",
            "--epochs",
            "2",
        ];
        let (code, err) = vae_with_stdout(&args, closed);
        assert_eq!(code, 0, "closed {closed}: {err}");
        assert!(out.join("state-epoch-0002.safetensors").exists(), "{err}");
        assert!(out.join("checkpoint.safetensors").exists(), "{err}");
        let said = err.contains("stdout: ") && err.contains("goes on without printing");
        assert_eq!(
            said, !closed,
            "a full device is worth a note, a reader leaving not: {err}"
        );
    }
}

#[test]
fn a_full_stdout_is_an_error_naming_it() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let checkpoint = run.join("checkpoint.safetensors");
    let (code, err) = vae_with_stdout(
        &["eval", "--checkpoint", s(&checkpoint), "--data", s(&data)],
        false,
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.starts_with("error: stdout: "), "{err}");
}
