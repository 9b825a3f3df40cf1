//! Ctrl-C and SIGTERM during a run: a note that says how many epochs are committed and
//! the command that continues the run, the shell's status for the signal, and a resume
//! that finishes the run.

mod support;

use std::io::Read;
use std::process::Command;

use support::{mnist_slice, paused_run, s, vae};

#[test]
fn an_interrupted_run_says_where_it_resumes_from() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    for (signal, status) in [("TERM", 143), ("INT", 130)] {
        let out = dir.path().join(format!("run-{signal}"));
        let (mut child, mut stderr) = paused_run(&data, &out, 3);
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
