//! Atomic file writes: a temporary file beside the target, fsync, rename, fsync of the
//! folder. A crash at any moment leaves the old file or the new one, never half of one;
//! a failed write (a full disk) removes its temporary file and leaves the old one.
//!
//! Every write passes four named [fault points](crate::io::faults) (`FILE:before-write`,
//! `FILE:mid-write`, `FILE:before-rename`, `FILE:after-rename`) where the crash tests
//! kill the program or make the write fail.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::faults;

/// The temporary file [`write_atomically`] writes before renaming it to `path`.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename, then syncs the
/// folder so the rename itself is durable. On failure (a full disk) the temporary file
/// is removed and `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary_path(path);
    let label = path.file_name().unwrap_or_default().to_string_lossy();
    let point = |stage: &str| faults::point(&format!("{label}:{stage}"));
    let written = (|| -> std::io::Result<()> {
        point("before-write")?;
        let mut file = fs::File::create(&tmp)?;
        let half = bytes.len() / 2;
        file.write_all(&bytes[..half])?;
        point("mid-write")?;
        file.write_all(&bytes[half..])?;
        file.sync_all()?;
        point("before-rename")
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(&tmp, e));
    }
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    point("after-rename").map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Some file systems cannot sync a folder; the file's own data is already synced.
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}
