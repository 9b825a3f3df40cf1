//! The `vae` program's handling of bad input: every error names the flag or file and
//! the problem, and exits non-zero without a panic.

use std::process::Command;

fn vae(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vae"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn help_explains_every_subcommand() {
    let (code, out, _) = vae(&["--help"]);
    assert_eq!(code, 0);
    for sub in ["train", "eval", "sample", "reconstruct"] {
        assert!(out.contains(sub), "{out}");
    }
    let (_, out, _) = vae(&["eval", "--help"]);
    assert!(
        out.contains("--iw-samples") && out.contains("--json"),
        "{out}"
    );
}

#[test]
fn a_missing_checkpoint_is_named() {
    let (code, _, err) = vae(&["eval", "--checkpoint", "no/such/checkpoint.safetensors"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no/such/checkpoint.safetensors") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn a_missing_data_folder_is_named() {
    let (code, _, err) = vae(&[
        "train",
        "--data",
        "no/such/folder",
        "--epochs",
        "1",
        "--quiet",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no/such/folder") && err.contains("not found"),
        "{err}"
    );
}

#[test]
fn bad_settings_name_the_flag() {
    let (code, _, err) = vae(&[
        "train",
        "--hidden",
        "400,0",
        "--quiet",
        "--out",
        "target/cli-test-run",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("--hidden"), "{err}");
    let (code, _, err) = vae(&[
        "train",
        "--activation",
        "gelu",
        "--quiet",
        "--out",
        "target/cli-test-run",
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--activation") && err.contains("unknown activation 'gelu'"),
        "{err}"
    );
    let (code, _, err) = vae(&["train", "--epochs", "ten"]);
    assert_eq!(code, 2, "clap rejects a malformed number");
    assert!(
        err.contains("--epochs") && err.contains("expected a whole number"),
        "{err}"
    );
    // Negative numbers reach the flag's own check, which names it.
    for (args, needle) in [
        (
            &["train", "--epochs", "-1"][..],
            "'-1' for '--epochs <EPOCHS>': must be 0 or more",
        ),
        (
            &["train", "--lr", "-0.1", "--out", "target/cli-test-run"],
            "--lr: must be a positive",
        ),
        (
            &["sample", "--n", "-3", "--checkpoint", "x"],
            "'-3' for '--n <N>': must be 0 or more",
        ),
        (
            &["eval", "--iw-samples", "-5", "--checkpoint", "x"],
            "'-5' for '--iw-samples",
        ),
    ] {
        let (code, _, err) = vae(args);
        assert_ne!(code, 0, "{args:?}");
        assert!(
            err.contains(needle) && !err.contains("unexpected argument"),
            "{err}"
        );
    }
}

#[test]
fn a_garbage_checkpoint_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.safetensors");
    std::fs::write(&path, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}").unwrap();
    let (code, _, err) = vae(&["sample", "--checkpoint", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("garbage.safetensors") && err.contains("not a valid safetensors"),
        "{err}"
    );
}

/// A weights-only f64 file made elsewhere (here: the PyTorch golden fixture's parameters
/// and metadata keys, written by the safetensors crate as PyTorch's `save_file` would,
/// with no digests) can be evaluated and sampled; the program says it could not verify it.
#[test]
fn a_foreign_f64_weights_file_can_be_evaluated_and_sampled() {
    use safetensors::SafeTensors;
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vae_golden_mnist.safetensors");
    let bytes = std::fs::read(&fixture).unwrap();
    let parsed = SafeTensors::deserialize(&bytes).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let tensors: Vec<_> = parsed
        .tensors()
        .into_iter()
        .filter(|(name, _)| name.starts_with("encoder.") || name.starts_with("decoder."))
        .collect();
    let mut metadata = header.metadata().clone().unwrap();
    metadata.retain(|key, _| {
        ["input_dim", "hidden", "latent", "activation", "beta"].contains(&key.as_str())
    });
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("from_pytorch.safetensors");
    std::fs::write(
        &weights,
        safetensors::serialize(tensors, &Some(metadata.clone())).unwrap(),
    )
    .unwrap();

    // The same file claiming our own format without our digests: relabelled, refused.
    let mut ours = metadata.clone();
    ours.insert("format".into(), "vae-checkpoint-v1".into());
    let relabelled = dir.path().join("relabelled.safetensors");
    let tensors_again: Vec<_> = parsed
        .tensors()
        .into_iter()
        .filter(|(name, _)| name.starts_with("encoder.") || name.starts_with("decoder."))
        .collect();
    std::fs::write(
        &relabelled,
        safetensors::serialize(tensors_again, &Some(ours)).unwrap(),
    )
    .unwrap();
    let (code, _, err) = vae(&["eval", "--checkpoint", relabelled.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("relabelled.safetensors") && err.contains("digests were removed"),
        "{err}"
    );

    let (code, out, err) = vae(&[
        "eval",
        "--checkpoint",
        weights.to_str().unwrap(),
        "--json",
        "--iw-samples",
        "10",
        "--iw-images",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("could not be verified"), "{err}");
    let activation = &metadata["activation"];
    let beta: f64 = metadata["beta"].parse().unwrap();
    assert!(
        err.contains(&format!(
            "taken as its metadata states them: {activation} activation, β = {beta}, "
        )),
        "the settings read on trust are named: {err}"
    );
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    for key in ["test_loss", "test_recon", "test_kl", "iw_nll"] {
        assert!(
            json[key].as_f64().is_some_and(f64::is_finite),
            "{key} missing in {out}"
        );
    }
    let png = dir.path().join("samples.png");
    let (code, _, err) = vae(&[
        "sample",
        "--checkpoint",
        weights.to_str().unwrap(),
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);
}
