//! Crashes: the real `vae` binary is killed with SIGKILL at every named point of a run
//! (inside each atomic write, between the state and the exports, before the test pass)
//! and at random moments, then `--resume`d. Each resume must either refuse with a clear
//! message or end with exactly the files of an uninterrupted run, byte for byte. A full
//! disk (an injected write error) must fail the run cleanly and leave the previous state
//! loadable. The figures are printed (`cargo test --release --test crash -- --nocapture`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
mod support;

const EPOCHS: usize = 3;
/// The files that must come out identical.
const COMPARED: [&str; 5] = [
    "checkpoint.safetensors",
    "state-epoch-0003.safetensors",
    "samples.png",
    "reconstructions.png",
    "loss_curve.svg",
];

fn vae(data: &Path, out: &Path, resume: bool, fault: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vae"));
    cmd.args([
        "train",
        "--quiet",
        "--hidden",
        "32",
        "--latent",
        "4",
        "--batch-size",
        "100",
    ])
    .args(["--epochs", &EPOCHS.to_string(), "--threads", "1"])
    .arg("--data")
    .arg(data)
    .arg("--out")
    .arg(out)
    .env_remove(vae::io::faults::VARIABLE)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if resume {
        cmd.arg("--resume");
    }
    if let Some(f) = fault {
        cmd.env(vae::io::faults::VARIABLE, f);
    }
    cmd
}

/// Runs to the end; returns (exit code, stderr).
fn finish(mut cmd: Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Starts the command with a `pause@POINT` fault, waits until it pauses there, and
/// kills it with SIGKILL. Returns false if it ended without reaching the point.
fn kill_at_point(mut cmd: Command) -> bool {
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("paused at") {
                let _ = tx.send(());
            }
        }
    });
    let paused = rx.recv_timeout(Duration::from_secs(60)).is_ok();
    child.kill().unwrap(); // SIGKILL on Unix: no destructors, no flushing
    child.wait().unwrap();
    paused
}

/// Kills the command with SIGKILL after `delay` (if it is still running).
fn kill_after(mut cmd: Command, delay: Duration) {
    let mut child = cmd.stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while started.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    child.wait().unwrap();
}

fn files(dir: &Path) -> Vec<Vec<u8>> {
    COMPARED
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap_or_default())
        .collect()
}

fn no_temporaries(dir: &Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |entries| {
        entries
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))
    })
}

#[derive(Default, Debug)]
struct Tally {
    kills: usize,
    identical: usize,
    refused: usize,
}

/// Resumes the run in `out` to the end and checks the outcome against `reference`.
fn resume_and_compare(
    data: &Path,
    out: &Path,
    reference: &[Vec<u8>],
    tally: &mut Tally,
    what: &str,
) {
    let (code, err) = finish(vae(data, out, true, None));
    assert!(!err.contains("panicked"), "{what}: {err}");
    if code == 0 {
        assert!(
            files(out) == reference,
            "{what}: the resumed run's files differ from the uninterrupted run's\n{err}"
        );
        assert!(no_temporaries(out), "{what}: temporary files left behind");
        tally.identical += 1;
    } else {
        assert!(
            code == 1 && err.starts_with("error: "),
            "{what}: exit {code}: {err}"
        );
        tally.refused += 1;
    }
}

fn named_points() -> Vec<String> {
    let stages = ["before-write", "mid-write", "before-rename", "after-rename"];
    let mut points = Vec::new();
    for epoch in 1..=EPOCHS {
        points.push(format!("epoch-{epoch}:trained"));
        points.push(format!("epoch-{epoch}:committed"));
        for file in [
            format!("state-epoch-{epoch:04}.safetensors"),
            "checkpoint.safetensors".into(),
            "metrics.jsonl".into(),
        ] {
            points.extend(stages.iter().map(|s| format!("{file}:{s}#1")));
        }
    }
    for file in ["samples.png", "reconstructions.png"] {
        points.extend(stages.iter().map(|s| format!("{file}:{s}")));
    }
    points
}

#[test]
fn sigkill_anywhere_then_resume_reproduces_the_uninterrupted_run() {
    let root = tempfile::tempdir().unwrap();
    let data = support::mnist_slice(&root.path().join("data"), 600, 100);
    let reference_dir = root.path().join("reference");
    let started = Instant::now();
    let (code, err) = finish(vae(&data, &reference_dir, false, None));
    let duration = started.elapsed();
    assert_eq!(code, 0, "{err}");
    let reference = files(&reference_dir);
    assert!(reference.iter().all(|f| !f.is_empty()));

    let mut tally = Tally::default();
    for (i, point) in named_points().iter().enumerate() {
        let out: PathBuf = root.path().join(format!("point-{i}"));
        let reached = kill_at_point(vae(&data, &out, false, Some(&format!("pause@{point}"))));
        assert!(reached, "the run never reached {point}");
        tally.kills += 1;
        resume_and_compare(&data, &out, &reference, &mut tally, point);
    }
    let named = tally.identical;

    // Random moments, several kills in a row (the resumes are killed too).
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    for trial in 0..30 {
        let out = root.path().join(format!("random-{trial}"));
        for k in 0..rng.gen_range(1..=3) {
            let delay = duration.mul_f64(rng.gen_range(0.05..1.0));
            kill_after(vae(&data, &out, k > 0 && out.exists(), None), delay);
            tally.kills += 1;
        }
        resume_and_compare(
            &data,
            &out,
            &reference,
            &mut tally,
            &format!("random trial {trial}"),
        );
    }
    println!(
        "crash test: {} kills ({} at named points); resumes identical to the uninterrupted run: {} ({named} after named points), refused: {}",
        tally.kills,
        named_points().len(),
        tally.identical,
        tally.refused
    );
    assert_eq!(
        named,
        named_points().len(),
        "every kill at a named point resumes exactly: {tally:?}"
    );
}

#[test]
fn a_full_disk_fails_the_run_cleanly_and_keeps_the_previous_state() {
    let root = tempfile::tempdir().unwrap();
    let data = support::mnist_slice(&root.path().join("data"), 600, 100);
    let reference_dir = root.path().join("reference");
    assert_eq!(finish(vae(&data, &reference_dir, false, None)).0, 0);
    let reference = files(&reference_dir);

    for point in [
        "state-epoch-0002.safetensors:mid-write",
        "checkpoint.safetensors:mid-write#2",
        "metrics.jsonl:before-rename#2",
    ] {
        let out = root.path().join(point.replace([':', '#'], "_"));
        let (code, err) = finish(vae(&data, &out, false, Some(&format!("fail@{point}"))));
        assert_eq!(code, 1, "{point}: {err}");
        assert!(
            err.contains("No space left on device") && err.contains(&out.display().to_string()),
            "{point}: {err}"
        );
        assert!(
            no_temporaries(&out),
            "{point}: the failed write left its temporary file"
        );
        let newest = vae::run::folder::RunFolder::new(&out)
            .states()
            .unwrap()
            .pop()
            .unwrap();
        let state = vae::run::state::load(&newest.1).expect("the previous state loads");
        let lines = std::fs::read_to_string(out.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count();
        assert!(
            lines >= 1 && lines <= state.record.epochs_done,
            "{point}: {lines} lines"
        );
        let mut tally = Tally::default();
        resume_and_compare(&data, &out, &reference, &mut tally, point);
        assert_eq!(tally.identical, 1, "{point}");
    }
}
