//! Ctrl-C and SIGTERM during a run: a note that says how many epochs are committed and
//! the command that continues the run, the shell's status for the signal, and a resume
//! that finishes the run.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use support::{mnist_slice, s, vae};

#[test]
fn an_interrupted_run_says_where_it_resumes_from() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    for (signal, status) in [("TERM", 143), ("INT", 130)] {
        let out = dir.path().join(format!("run-{signal}"));
        let args = [
            "train",
            "--quiet",
            "--data",
            s(&data),
            "--out",
            s(&out),
            "--hidden",
            "16",
            "--latent",
            "2",
            "--epochs",
            "3",
        ];
        let mut child = Command::new(env!("CARGO_BIN_EXE_vae"))
            .args(args)
            // Epoch 1 committed, epoch 2 trained but not committed: paused there.
            .env(vae::io::faults::VARIABLE, "pause@epoch-2:trained")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.contains("paused at") {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "ended before pausing"
            );
        }
        let sent = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let mut said = String::new();
        stderr.read_to_string(&mut said).unwrap();
        let code = child.wait().unwrap().code();
        assert_eq!(code, Some(status), "SIG{signal}: {said}");
        assert!(
            said.contains(&format!("interrupted by SIG{signal}")),
            "{said}"
        );
        assert!(said.contains("1 of 3 epochs committed"), "{said}");
        assert!(
            said.contains(&format!("vae train --resume --out {}", out.display())),
            "{said}"
        );
        // The command it names finishes the run.
        let (code, _, err) = vae(&["train", "--quiet", "--resume", "--out", s(&out)]);
        assert_eq!(code, 0, "{err}");
        assert!(out.join("state-epoch-0003.safetensors").exists(), "{err}");
    }
}
