//! The one rule for every file the program reads whole: a regular file (not a device, a
//! pipe or a folder: `--checkpoint /dev/zero` read until memory ran out), within a budget
//! of bytes for its kind, checked before anything is allocated and again while reading
//! (a file that grows as it is read).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// What a file is, and so how large it may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A checkpoint or a training state (safetensors).
    Model,
    /// A data file: a `.npy` array, its labels, a file listed in `SHA256SUMS`.
    Data,
    /// A text file the program keeps: `metrics.jsonl`, `SHA256SUMS`.
    Text,
}

impl FileKind {
    /// The most bytes a file of this kind may hold.
    /// (1 GiB for weights and data: a command's whole memory stays under 2 GB whatever a
    /// file claims; MNIST's largest file is 47 MB once decompressed.)
    pub fn budget(self) -> u64 {
        match self {
            FileKind::Model | FileKind::Data => 1 << 30,
            FileKind::Text => 64 << 20,
        }
    }

    fn name(self) -> &'static str {
        match self {
            FileKind::Model => "a weights or state file",
            FileKind::Data => "a data file",
            FileKind::Text => "this text file",
        }
    }
}

/// The bytes of `path`, a regular file of `kind` within its budget.
pub fn read_bounded(path: &Path, kind: FileKind) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::invalid(
            path,
            "not a regular file (a folder, a device or a pipe); give a file",
        ));
    }
    let budget = kind.budget();
    let too_large = |len: u64| {
        Error::invalid(
            path,
            format!(
                "{len} bytes or more: {} may hold at most {} MiB",
                kind.name(),
                budget >> 20
            ),
        )
    };
    if meta.len() > budget {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(budget + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > budget {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text_bounded(path: &Path, kind: FileKind) -> Result<String> {
    let bytes = read_bounded(path, kind)?;
    String::from_utf8(bytes).map_err(|_| Error::invalid(path, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_oversized_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("m.jsonl");
        std::fs::write(&small, "{}\n").unwrap();
        assert_eq!(read_text_bounded(&small, FileKind::Text).unwrap(), "{}\n");
        let e = read_bounded(dir.path(), FileKind::Model)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
        if Path::new("/dev/zero").exists() {
            let e = read_bounded(Path::new("/dev/zero"), FileKind::Model).unwrap_err();
            assert!(
                e.to_string().starts_with("/dev/zero: not a regular file"),
                "{e}"
            );
        }
        // A sparse file past the text budget: refused from its length, nothing read.
        let big = dir.path().join("big.jsonl");
        let file = File::create(&big).unwrap();
        file.set_len(FileKind::Text.budget() + 1).unwrap();
        let e = read_text_bounded(&big, FileKind::Text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("at most 64 MiB"), "{e}");
    }
}
