//! The one rule for every file a command writes besides a run folder (which `train` keeps
//! itself): checked before any work is done, so that a mistyped `--out` costs nothing.
//!
//! - **Its kind is its extension**: `--out l.pdf` for a PNG is refused, as is a CSV table
//!   into `s.png`; the accepted extensions are named.
//! - **Never an input of the same command**: `sample --checkpoint c.safetensors --out
//!   c.safetensors` would have replaced the weights with a picture. The paths are compared
//!   as the file system resolves them (`./c`, `runs/../c`, a link), and a file inside an
//!   input folder (`--data`) is refused too.
//! - **Never into a run folder without its lock**: a folder that holds a run's files is
//!   locked while the file is written, as `train` locks it, so a picture never lands beside
//!   a run that is training there; nor is any of the run's own files but its pictures
//!   replaced (the extension rule already keeps states and checkpoints out of reach).

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::run::folder::RunFolder;

/// The files a command may write, with the locks of the run folders they go into held
/// until they are written.
#[derive(Debug)]
pub(super) struct OutputFiles {
    _locks: Vec<File>,
}

/// One output: its flag, its path, the extensions of its kind.
pub(super) type Output<'a> = (&'a str, &'a Path, &'a [&'a str]);

/// Checks that `path`, given as `flag`, may be written as one of `extensions` by a command
/// that reads `inputs` (`(flag, path)` pairs), and locks the run folder it goes into.
pub(super) fn claim(
    flag: &str,
    path: &Path,
    extensions: &[&str],
    inputs: &[(&str, PathBuf)],
) -> Result<OutputFiles> {
    claim_all(&[(flag, path, extensions)], inputs)
}

/// [`claim`] for several outputs of one command, which must differ from each other too;
/// each run folder among them is locked once.
pub(super) fn claim_all(outputs: &[Output<'_>], inputs: &[(&str, PathBuf)]) -> Result<OutputFiles> {
    let mut claimed: Vec<(&str, PathBuf)> = Vec::new();
    let mut folders: Vec<PathBuf> = Vec::new();
    for &(flag, path, extensions) in outputs {
        check_kind(flag, path, extensions)?;
        let resolved = resolve(path);
        for (input_flag, input) in inputs.iter().chain(&claimed) {
            let input_resolved = resolve(input);
            let inside = input.is_dir() && resolved.starts_with(&input_resolved);
            if resolved == input_resolved || inside {
                let what = if inside { "inside" } else { "the same file as" };
                return Err(Error::config(
                    flag,
                    format!(
                        "{} is {what} {input_flag} {}, which this command reads or writes; \
                         writing it would destroy that: choose another name",
                        path.display(),
                        input.display()
                    ),
                ));
            }
        }
        let parent = resolved.parent().unwrap_or(Path::new(".")).to_path_buf();
        if !folders.contains(&parent) {
            folders.push(parent);
        }
        claimed.push((flag, path.to_path_buf()));
    }
    let mut locks = Vec::new();
    for dir in folders {
        let folder = RunFolder::new(&dir);
        if folder.run_files().is_ok_and(|files| !files.is_empty()) {
            locks.push(folder.lock()?);
        }
    }
    Ok(OutputFiles { _locks: locks })
}

/// `path`'s extension is one of `extensions`, and it is not a folder.
fn check_kind(flag: &str, path: &Path, extensions: &[&str]) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if !extension.is_some_and(|e| extensions.contains(&e.as_str())) {
        let kinds: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
        return Err(Error::config(
            flag,
            format!(
                "{}: this command writes {} files; give a name ending in {}",
                path.display(),
                extensions.join(" or ").to_ascii_uppercase(),
                kinds.join(" or ")
            ),
        ));
    }
    if path.is_dir() {
        let problem = format!("{} is a folder; give a file name", path.display());
        return Err(Error::config(flag, problem));
    }
    Ok(())
}

/// `path` as the file system resolves it: the file itself if it exists, else its
/// resolved folder and its name (a new file); as given if neither resolves.
fn resolve(path: &Path) -> PathBuf {
    if let Ok(real) = path.canonicalize() {
        return real;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_inputs_and_run_folders() {
        let dir = tempfile::tempdir().unwrap();
        let checkpoint = dir.path().join("c.safetensors");
        std::fs::write(&checkpoint, b"weights").unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        let inputs = [
            ("--checkpoint", checkpoint.clone()),
            ("--data", data.clone()),
        ];
        let refused = |path: &Path, exts: &[&str], needle: &str| {
            let e = claim("--out", path, exts, &inputs).unwrap_err().to_string();
            assert!(e.starts_with("--out: ") && e.contains(needle), "{e}");
        };
        refused(
            &dir.path().join("l.pdf"),
            &["png", "svg"],
            "ending in .png or .svg",
        );
        refused(&dir.path().join("noext"), &["png"], "ending in .png");
        refused(&data, &["png"], "ending in .png");
        // The checkpoint under another spelling, and a file in the data folder.
        let again = dir.path().join("data/../c.safetensors");
        refused(&again, &["safetensors"], "the same file as --checkpoint");
        refused(&data.join("x.png"), &["png"], "inside --data");
        assert!(claim("--out", &dir.path().join("S.PNG"), &["png"], &inputs).is_ok());
        // A run folder is locked while the file is written: a second claim waits its turn.
        let run = dir.path().join("run");
        std::fs::create_dir(&run).unwrap();
        std::fs::write(run.join("state-epoch-0001.safetensors"), b"state").unwrap();
        let held = claim("--out", &run.join("samples.png"), &["png"], &inputs).unwrap();
        let e = claim("--out", &run.join("grid.png"), &["png"], &inputs).unwrap_err();
        assert!(e.to_string().contains("another vae process"), "{e}");
        drop(held);
        assert!(claim("--out", &run.join("grid.png"), &["png"], &inputs).is_ok());
        // Two outputs of one command: into one run folder, locked once; never one file.
        let (table, picture) = (run.join("scores.csv"), run.join("top.png"));
        let both = [
            ("--out", table.as_path(), &["csv"][..]),
            ("--top-out", &picture, &["png"]),
        ];
        assert!(claim_all(&both, &inputs).is_ok());
        let same = [
            ("--out", picture.as_path(), &["png"][..]),
            ("--top-out", &picture, &["png"]),
        ];
        let e = claim_all(&same, &inputs).unwrap_err().to_string();
        assert!(
            e.starts_with("--top-out: ") && e.contains("the same file as --out"),
            "{e}"
        );
    }
}
