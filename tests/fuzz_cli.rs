//! Fuzz-style properties of the program as a shell user drives it, through the real
//! binary (a few dozen cases each by default, as each case starts the program;
//! `PROPTEST_CASES=N` tries more):
//!
//! - **Output paths**: every command that writes a file, its `--out` drawn from the
//!   command's own inputs under many spellings (`./`, `dir/../dir/`, a symbolic link,
//!   a doubled slash), other files of the run folder, paths inside `--data`, names of the
//!   wrong kind (`.pdf`, `.PNG.txt`, no extension) and fresh names of the right kind. An
//!   input is never changed, a refused output names its flag, and a fresh output is
//!   written.
//! - **Pipes**: a reader that takes a random number of bytes of a command's output and
//!   leaves: the command ends quietly (status 0, or 141 for the signal), never a panic,
//!   never an error message about the pipe.

mod support;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::{mnist_slice, s, tiny_run, vae};

fn runner(default_cases: u32) -> TestRunner {
    let cases = tensor::gradcheck::cases_from_env(default_cases);
    TestRunner::new(Config {
        failure_persistence: None,
        ..Config::with_cases(cases)
    })
}

/// The commands that write a file, with the extension each `--out` takes.
const WRITERS: [(&str, &str); 8] = [
    ("sample", "png"),
    ("reconstruct", "png"),
    ("manifold", "png"),
    ("interpolate", "png"),
    ("latent-map", "svg"),
    ("encode", "csv"),
    ("encode", "npy"),
    ("score", "csv"),
];

/// How a case spells its `--out`.
#[derive(Clone, Debug)]
enum Target {
    /// Input `i` (checkpoint, a state, an IDX data file, a `.npy` data file) under
    /// spelling `how`.
    Input(usize, u8),
    /// A path inside the data folder.
    InsideData,
    /// A fresh name of the wrong kind.
    WrongKind(&'static str),
    /// A fresh name of the right kind.
    Fresh,
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        4 => (0usize..4, 0u8..5).prop_map(|(i, how)| Target::Input(i, how)),
        1 => Just(Target::InsideData),
        1 => prop_oneof![Just("pdf"), Just("PNG.txt"), Just(""), Just("safetensors")]
            .prop_map(Target::WrongKind),
        2 => Just(Target::Fresh),
    ]
}

/// `path` spelled another way (`how`): as it is, through `./`, through its folder's
/// parent and back, with a doubled slash, or through a symbolic link to it.
fn spelled(path: &Path, how: u8, scratch: &Path) -> PathBuf {
    let (dir, name) = (path.parent().unwrap(), path.file_name().unwrap());
    let dir_name = dir.file_name().unwrap();
    match how {
        0 => path.to_path_buf(),
        1 => dir.join(".").join(name),
        2 => dir.join("..").join(dir_name).join(name),
        3 => PathBuf::from(format!("{}//{}", s(dir), name.to_str().unwrap())),
        _ => {
            let link = scratch.join(format!("link-{}", name.to_str().unwrap()));
            if !link.exists() {
                std::os::unix::fs::symlink(path, &link).unwrap();
            }
            link
        }
    }
}

#[test]
fn an_output_is_never_an_input_and_always_of_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 40);
    let run = tiny_run(dir.path(), &data);
    let inputs = [
        run.join("checkpoint.safetensors"),
        run.join("state-epoch-0001.safetensors"),
        data.join("t10k-images-idx3-ubyte"),
        dir.path().join("npy").join("d.npy"),
    ];
    fs::create_dir(dir.path().join("npy")).unwrap();
    let images = ndarray::Array3::<f32>::from_elem((20, 28, 28), 0.5);
    ndarray_npy::write_npy(&inputs[3], &images).unwrap();
    let before: Vec<Vec<u8>> = inputs.iter().map(|p| fs::read(p).unwrap()).collect();
    let fresh = std::cell::Cell::new(0);
    let strategy = (0..WRITERS.len(), target());
    runner(32)
        .run(&strategy, |(w, target)| {
            let (command, ext) = WRITERS[w];
            // As they were, whatever a failing case did (so that shrinking finds its cause).
            for (path, bytes) in inputs.iter().zip(&before) {
                fs::write(path, bytes).unwrap();
            }
            let out = match &target {
                Target::Input(i, how) => spelled(&inputs[*i], *how, dir.path()),
                Target::InsideData => data.join(format!("inside.{ext}")),
                Target::WrongKind(bad) => dir.path().join(format!("out{}.{bad}", fresh.get())),
                Target::Fresh => dir.path().join(format!("out{}.{ext}", fresh.get())),
            };
            fresh.set(fresh.get() + 1);
            let c = s(&inputs[0]);
            // The .npy is the data when it is the target (as `encode --data d.npy --out d.npy`).
            let source = match target {
                Target::Input(3, _) => &inputs[3],
                _ => &data,
            };
            let mut args = vec![command, "--checkpoint", c, "--data", s(source)];
            let reads_data = command != "sample";
            if !reads_data {
                args.truncate(3); // it reads no images: its output may go among them
            }
            if command == "interpolate" {
                args.extend(["--random", "2"]);
            }
            args.extend(["--out", s(&out)]);
            let (code, _, err) = vae(&args);
            prop_assert!(!err.contains("panicked"), "{args:?}: {err}");
            for (path, bytes) in inputs.iter().zip(&before) {
                prop_assert!(
                    &fs::read(path).unwrap() == bytes,
                    "{args:?} changed {path:?}"
                );
            }
            // Only a fresh name is written, or a name among images the command does not read.
            let written = match target {
                Target::Fresh => true,
                Target::InsideData => !reads_data,
                _ => false,
            };
            if written {
                prop_assert_eq!(code, 0, "{:?}: {}", args, err);
                prop_assert!(out.is_file());
            } else {
                prop_assert_eq!(code, 1, "{:?}: {}", args, err);
                prop_assert!(err.contains("--out"), "{args:?}: {err}");
                prop_assert!(!matches!(target, Target::WrongKind(_)) || !out.exists());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_reader_that_leaves_at_any_byte_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 60);
    let run = tiny_run(dir.path(), &data);
    let c = run.join("checkpoint.safetensors");
    let scores = s(&dir.path().join("scores.csv")).to_string();
    let commands: [Vec<&str>; 4] = [
        vec!["eval", "--checkpoint", s(&c), "--data", s(&data)],
        vec!["eval", "--checkpoint", s(&c), "--data", s(&data), "--json"],
        vec![
            "score",
            "--checkpoint",
            s(&c),
            "--data",
            s(&data),
            "--out",
            &scores,
        ],
        vec!["--help"],
    ];
    runner(24)
        .run(&(0..commands.len(), 0usize..400), |(i, take)| {
            let mut child = Command::new(env!("CARGO_BIN_EXE_vae"))
                .args(&commands[i])
                .env_remove(vae::io::faults::VARIABLE)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let mut buffer = vec![0; take];
            let _ = stdout.read_exact(&mut buffer);
            drop(stdout); // the reader leaves
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            prop_assert!(
                !err.contains("panicked"),
                "{:?} after {take}: {err}",
                commands[i]
            );
            prop_assert!(
                !err.to_lowercase().contains("pipe"),
                "{:?}: {err}",
                commands[i]
            );
            let code = out.status.code();
            prop_assert!(
                matches!(code, Some(0) | None),
                "{:?}: {code:?} {err}",
                commands[i]
            );
            Ok(())
        })
        .unwrap();
}
