//! A user's files are never lost or trusted blindly: a finished run is not overwritten
//! without --force, a resumed run keeps its settings and data or says why not, and damaged,
//! relabelled or foreign checkpoints are refused by name — all through the real binary.

mod support;

use support::{mnist_slice, refused, s, tiny_run, vae, vae_in, TINY};
use vae::io::tensor_file::TensorFile;

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
        file.metadata.remove("format"); // made elsewhere: not claiming our format
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
    let states = vae::run::folder::RunFolder::new(&run).states().unwrap();
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

/// A state copied in under a later epoch's name is questioned, not trusted: `--resume`
/// refuses it by name (saying what it holds and that an older state remains), and no
/// real state was deleted for it.
#[test]
fn a_state_whose_name_disagrees_with_its_contents_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 50);
    let out = dir.path().join("run");
    let mut args = vec!["train", "--data", s(&data), "--out", s(&out)];
    args.extend(&TINY[..TINY.len() - 2]);
    args.extend(["--epochs", "2", "--keep-checkpoints", "2"]);
    let (code, _, err) = vae(&args);
    assert_eq!(code, 0, "{err}");
    let state = |epoch: usize| out.join(format!("state-epoch-{epoch:04}.safetensors"));
    std::fs::copy(state(1), state(9)).unwrap();
    let resume = [
        "train",
        "--quiet",
        "--resume",
        "--out",
        s(&out),
        "--epochs",
        "3",
    ];
    refused(
        &resume,
        &[
            "state-epoch-0009.safetensors",
            "named for epoch 9 but holds the state after epoch 1",
            "An older state, state-epoch-0002.safetensors, remains",
        ],
    );
    assert!(state(2).exists(), "the real newest state is kept");
    std::fs::remove_file(state(9)).unwrap();
    let (code, _, err) = vae(&resume);
    assert_eq!(code, 0, "{err}");
    assert!(state(3).exists());
}

/// A folder holding only files that share a run's names (a user's own report.html) is not
/// a run: `--force` refuses to delete them, listing them.
#[test]
fn force_never_deletes_files_that_only_share_a_runs_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 50);
    let mine = dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("report.html"), "my own report").unwrap();
    let mut args = vec!["train", "--data", s(&data), "--out", s(&mine), "--force"];
    args.extend(TINY);
    refused(
        &args,
        &[
            "--force",
            "report.html",
            "no training state",
            "nothing was deleted",
        ],
    );
    let kept = std::fs::read_to_string(mine.join("report.html")).unwrap();
    assert_eq!(kept, "my own report");
}

/// The quick start's command run twice: the second run goes to the next free folder and
/// says so; with `--out` the held run is named (its epochs, its newest state), not listed.
#[test]
fn without_out_a_second_run_takes_the_next_free_folder() {
    let dir = tempfile::tempdir().unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "--quiet", "--epochs", "1", "--limit", "300"];
        args.extend(["--hidden", "16"]);
        args.extend(extra);
        let (code, _, err) = vae_in(dir.path(), &args);
        (Some(code), err)
    };
    let state = |run: &str| dir.path().join(run).join("state-epoch-0001.safetensors");
    assert_eq!(train(&[]).0, Some(0));
    let (code, err) = train(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("runs/default holds a run already; this one goes to runs/default-2"),
        "{err}"
    );
    assert!(state("runs/default").exists() && state("runs/default-2").exists());
    let (code, err) = train(&["--out", "runs/default"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("runs/default already holds a run of 1 epoch (its newest state: state-epoch-0001.safetensors)"),
        "{err}"
    );
}
