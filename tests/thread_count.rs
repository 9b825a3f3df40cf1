//! The thread count changes nothing but the speed: a run on one thread and the same run on
//! two write the same weights and training state, byte for byte, and a run stopped on one
//! thread count and resumed on another continues exactly. It holds because every element
//! of a matrix product is summed by one thread in one fixed order whatever the split (our
//! kernel and matrixmultiply's alike), the elementwise loops work element by element, and
//! no reduction's order depends on the pool. A long run (the Burda protocol) can therefore
//! move between one core and two without changing its result.

use std::path::Path;
use std::process::Command;

mod support;

/// `vae train` on the small slice, `threads` threads, to `epochs` epochs in all.
fn train(data: &Path, out: &Path, threads: usize, epochs: usize, resume: bool, case: &Case) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vae"));
    cmd.args(["train", "--quiet", "--hidden", "32", "--latent", "4"])
        .args(["--batch-size", "100", "--seed", "3"])
        .args([
            "--epochs",
            &epochs.to_string(),
            "--threads",
            &threads.to_string(),
        ])
        .args(case.flags)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .env_remove(vae::io::faults::VARIABLE);
    match case.kernel {
        Some(kernel) => cmd.env("TENSOR_GEMM", kernel),
        None => cmd.env_remove("TENSOR_GEMM"),
    };
    if resume {
        cmd.arg("--resume");
    }
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}: {}",
        case.name,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The files that must come out identical.
fn files(dir: &Path) -> Vec<Vec<u8>> {
    ["checkpoint.safetensors", "state-epoch-0002.safetensors"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect()
}

struct Case {
    name: &'static str,
    kernel: Option<&'static str>,
    flags: &'static [&'static str],
}

#[test]
fn one_and_two_threads_write_the_same_bits_and_resume_across_counts() {
    let root = tempfile::tempdir().unwrap();
    let data = support::mnist_slice(&root.path().join("data"), 600, 100);
    let cases = [
        Case {
            name: "ELBO, ReLU, our GEMM",
            kernel: None,
            flags: &[],
        },
        Case {
            name: "IWAE k = 3, tanh, binarized, matrixmultiply (the Burda runs' kernel)",
            kernel: Some("matrixmultiply"),
            flags: &[
                "--objective",
                "iwae",
                "--k",
                "3",
                "--activation",
                "tanh",
                "--binarize",
            ],
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let dir = |name: &str| root.path().join(format!("{i}-{name}"));
        train(&data, &dir("one"), 1, 2, false, case);
        train(&data, &dir("two"), 2, 2, false, case);
        let reference = files(&dir("one"));
        assert!(
            files(&dir("two")) == reference,
            "{}: two threads wrote different bits from one",
            case.name
        );
        train(&data, &dir("moved"), 2, 1, false, case);
        train(&data, &dir("moved"), 1, 2, true, case);
        assert!(
            files(&dir("moved")) == reference,
            "{}: a run resumed on another thread count diverged",
            case.name
        );
    }
}
