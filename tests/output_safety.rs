//! No command writes over its own input, writes a file of another kind than its name
//! says, or writes into a run folder while a run is training there. Each case is refused
//! before any work, naming the flag, and the file it would have destroyed is unchanged.

mod support;

use std::fs;

use ndarray::Array3;
use ndarray_npy::write_npy;
use support::{mnist_slice, paused_run, refused, s, tiny_run};

#[test]
fn outputs_never_overwrite_inputs_or_change_kind() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let checkpoint = run.join("checkpoint.safetensors");
    let state = run.join("state-epoch-0001.safetensors");
    let npy = dir.path().join("d.npy");
    write_npy(&npy, &Array3::<f32>::from_elem((20, 28, 28), 0.5)).unwrap();
    let before: Vec<Vec<u8>> = [&checkpoint, &state, &npy]
        .map(|p| fs::read(p).unwrap())
        .into();
    let c = s(&checkpoint);
    let dotted = format!(
        "{}/../{}/checkpoint.safetensors",
        s(&run),
        run.file_name().unwrap().to_str().unwrap()
    );
    for (args, needles) in [
        (
            vec!["sample", "--checkpoint", c, "--out", c],
            vec!["--out", ".png"],
        ),
        (
            vec!["sample", "--checkpoint", c, "--out", &dotted],
            vec!["--out", ".png"],
        ),
        (
            vec![
                "reconstruct",
                "--checkpoint",
                c,
                "--data",
                s(&data),
                "--out",
                s(&state),
            ],
            vec!["--out", ".png"],
        ),
        (
            vec![
                "encode",
                "--checkpoint",
                c,
                "--data",
                s(&npy),
                "--out",
                s(&npy),
            ],
            vec!["--out", "the same file as --data"],
        ),
        (
            vec![
                "latent-map",
                "--checkpoint",
                c,
                "--data",
                s(&data),
                "--out",
                "l.pdf",
            ],
            vec!["--out", ".png or .svg"],
        ),
        (
            vec![
                "score",
                "--checkpoint",
                c,
                "--data",
                s(&data),
                "--out",
                "s.png",
            ],
            vec!["--out", ".csv"],
        ),
        (
            vec![
                "score",
                "--checkpoint",
                c,
                "--data",
                s(&data),
                "--out",
                "s.csv",
                "--top",
                "3",
                "--top-out",
                "t.csv",
            ],
            vec!["--top-out", ".png"],
        ),
        (
            vec![
                "manifold",
                "--checkpoint",
                c,
                "--data",
                s(&data),
                "--out",
                &format!("{}/m.png", s(&data)),
            ],
            vec!["--out", "inside --data"],
        ),
        (
            vec![
                "interpolate",
                "--checkpoint",
                c,
                "--data",
                s(&data),
                "--out",
                s(&run),
            ],
            vec!["--out", ".png"],
        ),
    ] {
        refused(&args, &needles);
    }
    let after: Vec<Vec<u8>> = [&checkpoint, &state, &npy]
        .map(|p| fs::read(p).unwrap())
        .into();
    assert!(before == after, "an input was changed");
    assert!(!std::path::Path::new("l.pdf").exists() && !std::path::Path::new("s.png").exists());
}

#[test]
fn a_picture_waits_for_the_run_training_in_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let finished = tiny_run(dir.path(), &data);
    let out = dir.path().join("training");
    let (mut child, _stderr) = paused_run(&data, &out, 3);
    let checkpoint = finished.join("checkpoint.safetensors");
    let picture = out.join("samples.png");
    let before = fs::read(&picture).ok();
    refused(
        &[
            "sample",
            "--checkpoint",
            s(&checkpoint),
            "--out",
            s(&picture),
        ],
        &["another vae process is writing this run folder"],
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(
        fs::read(&picture).ok(),
        before,
        "the run folder is untouched"
    );
    // Once the run has stopped, the picture may be replaced.
    let (code, _, err) = support::vae(&[
        "sample",
        "--checkpoint",
        s(&checkpoint),
        "--out",
        s(&picture),
    ]);
    assert_eq!(code, 0, "{err}");
}

/// Counts past their range, or pictures past the pixel budget, are refused naming the
/// flag and its limit (they wrapped round, panicked or allocated without end).
#[test]
fn counts_are_bounded_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let c = run.join("checkpoint.safetensors");
    let out = |name: &str| dir.path().join(name);
    let (png, csv) = (out("p.png"), out("s.csv"));
    let model_and_data = ["--checkpoint", s(&c), "--data", s(&data)];
    let max = usize::MAX.to_string();
    for (command, extra, needles) in [
        (
            "sample",
            vec!["--n", "10000000000"],
            vec!["--n: must be 1 to 4096"],
        ),
        ("sample", vec!["--n", "0"], vec!["--n: must be 1 to 4096"]),
        (
            "interpolate",
            vec!["--pair", "0,1", "--steps", &max],
            vec!["--steps: must be 0 to 256"],
        ),
        (
            "interpolate",
            vec!["--random", "100000000"],
            vec!["--random: must be 1 to 1024"],
        ),
        (
            "interpolate",
            vec!["--random", "1000", "--steps", "256"],
            vec!["--steps: asks for a picture of 258000 images"],
        ),
        (
            "manifold",
            vec!["--grid", "100"],
            vec!["--grid: asks for a picture of 10000 images"],
        ),
        (
            "score",
            vec!["--top", &max, "--top-out", s(&png)],
            vec!["--top: must be 1 to 4096"],
        ),
    ] {
        let mut args = vec![command];
        if command == "sample" {
            args.extend(["--checkpoint", s(&c)]);
        } else {
            args.extend(model_and_data);
        }
        let target = if command == "score" { &csv } else { &png };
        args.extend(["--out", s(target)]);
        args.extend(extra.iter().map(|a| &**a));
        refused(&args, &needles);
    }
    assert!(!png.exists() && !csv.exists(), "nothing was written");
}
