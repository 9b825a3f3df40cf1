//! The IDX file format (MNIST's), read with byteorder: gzipped or raw.
//!
//! ```text
//! offset  bytes  meaning
//! 0       2      0x00 0x00
//! 2       1      element type: 0x08 = unsigned byte (the only one MNIST-like data uses)
//! 3       1      number of dimensions d
//! 4       4·d    each dimension, big-endian u32
//! 4+4d    ...    the elements, row-major, exactly Π dims of them
//! ```
//! A file that starts with the gzip magic `1f 8b` is decompressed first. Every way a
//! file can be wrong is an [`Error`] naming the file and the problem, found before any
//! memory is reserved on the header's word alone (crates/vae/tests/fuzz_inputs.rs tries thousands
//! of damaged files).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use byteorder::{BigEndian, ReadBytesExt};
use flate2::bufread::GzDecoder;

use crate::error::{Error, Result};
use crate::io::bounded::FileKind;

/// An IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The dimensions, outermost first (images: `[count, rows, cols]`; labels: `[count]`).
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// At most this many bytes are reserved before they are read: a header's dimensions are
/// a claim, and a damaged one must not make us reserve gigabytes it does not have.
const RESERVE_CAP: usize = 64 << 20;

/// Reads an IDX file (gzipped or raw). A raw file's length is checked against its
/// header before any data is read; a gzipped file is decompressed up to the size its
/// header declares, and anything after the gzip stream is an error.
pub fn read_idx(path: &Path) -> Result<Idx> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let length = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut reader = BufReader::new(file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if !head.starts_with(&[0x1f, 0x8b]) {
        return read(path, &mut reader, Some(length));
    }
    let mut gz = GzDecoder::new(reader);
    let idx = read(path, &mut gz, None)?;
    let mut rest = gz.into_inner();
    let after = rest.fill_buf().map_err(|e| Error::io(path, e))?;
    if !after.is_empty() {
        return Err(Error::invalid(
            path,
            "trailing bytes after the gzip stream (a second file appended, or damage)",
        ));
    }
    Ok(idx)
}

/// Parses IDX bytes from any reader; `path` is only used in error messages.
pub fn parse(path: &Path, mut reader: impl Read) -> Result<Idx> {
    read(path, &mut reader, None)
}

/// Parses IDX bytes; `length`, when known, is the whole input's size in bytes.
fn read(path: &Path, reader: &mut impl Read, length: Option<u64>) -> Result<Idx> {
    let truncated =
        |what: &str| Error::invalid(path, format!("truncated: the file ends inside the {what}"));
    let mut magic = [0u8; 4];
    reader
        .read_exact(&mut magic)
        .map_err(|_| truncated("4-byte header"))?;
    if magic[0] != 0 || magic[1] != 0 {
        return Err(Error::invalid(
            path,
            format!(
                "wrong magic number {:02x} {:02x} {:02x} {:02x}: not an IDX file",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    if magic[2] != 0x08 {
        return Err(Error::invalid(
            path,
            format!(
                "element type 0x{:02x} is not supported (only 0x08, unsigned bytes)",
                magic[2]
            ),
        ));
    }
    let ndims = magic[3] as usize;
    if ndims == 0 {
        return Err(Error::invalid(path, "the header declares 0 dimensions"));
    }
    let mut dims = Vec::with_capacity(ndims);
    for _ in 0..ndims {
        let d = reader
            .read_u32::<BigEndian>()
            .map_err(|_| truncated("dimension list"))?;
        dims.push(d as usize);
    }
    let expected = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    // Within a data file's budget: a gzipped file decompresses only up to what its header
    // declares, so the header's product bounds what a small gzip bomb can cost.
    let budget = FileKind::Data.budget();
    let expected = expected.filter(|&n| n as u64 <= budget).ok_or_else(|| {
        Error::invalid(
            path,
            format!(
                "dimensions {dims:?} declare more than the {} MiB a data file may hold",
                budget >> 20
            ),
        )
    })?;
    let short = |have: u64| {
        Error::invalid(
            path,
            format!(
                "truncated: dimensions {dims:?} need {expected} bytes of data, the file has {have}"
            ),
        )
    };
    let trailing = || {
        Error::invalid(
            path,
            format!("trailing bytes after the {expected} declared by dimensions {dims:?}"),
        )
    };
    if let Some(length) = length {
        let have = length.saturating_sub(4 + 4 * ndims as u64);
        match have.cmp(&(expected as u64)) {
            std::cmp::Ordering::Less => return Err(short(have)),
            std::cmp::Ordering::Greater => return Err(trailing()),
            std::cmp::Ordering::Equal => {}
        }
    }
    let mut data = Vec::with_capacity(expected.min(RESERVE_CAP));
    reader
        .take(expected as u64)
        .read_to_end(&mut data)
        .map_err(|e| Error::invalid(path, format!("cannot read the data: {e}")))?;
    if data.len() < expected {
        return Err(short(data.len() as u64));
    }
    let mut extra = [0u8; 1];
    if reader
        .read(&mut extra)
        .map_err(|e| Error::invalid(path, format!("cannot read the data: {e}")))?
        > 0
    {
        return Err(trailing());
    }
    Ok(Idx { dims, data })
}

/// Encodes an IDX array (tests and tools build small files with it).
pub fn encode(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        bytes.extend_from_slice(&(d as u32).to_be_bytes());
    }
    bytes.extend_from_slice(data);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8], gzip: bool) -> std::path::PathBuf {
        let path = dir.join(name);
        let mut file = File::create(&path).unwrap();
        if gzip {
            let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            gz.write_all(bytes).unwrap();
            gz.finish().unwrap();
        } else {
            file.write_all(bytes).unwrap();
        }
        path
    }

    fn error(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        read_idx(&write(dir.path(), "bad-idx", bytes, false))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_raw_and_gzipped() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = encode(&[2, 2, 3], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        for gzip in [false, true] {
            let idx = read_idx(&write(dir.path(), "ok", &bytes, gzip)).unwrap();
            assert_eq!(idx.dims, vec![2, 2, 3]);
            assert_eq!(idx.data[11], 12);
        }
    }

    #[test]
    fn wrong_magic_is_named() {
        let err = error(&[1, 2, 8, 1, 0, 0, 0, 1, 7]);
        assert!(
            err.contains("bad-idx") && err.contains("wrong magic number"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_type_is_named() {
        assert!(error(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]).contains("element type 0x0d"));
    }

    #[test]
    fn truncated_header_and_data_are_named() {
        assert!(error(&[0, 0, 8]).contains("truncated: the file ends inside the 4-byte header"));
        assert!(error(&[0, 0, 8, 2, 0, 0]).contains("inside the dimension list"));
        let short = encode(&[3, 2], &[1, 2, 3]);
        assert!(error(&short).contains("need 6 bytes of data, the file has 3"));
    }

    #[test]
    fn trailing_bytes_are_named() {
        assert!(error(&encode(&[2], &[1, 2, 3])).contains("trailing bytes"));
    }

    #[test]
    fn a_header_claiming_more_than_the_file_holds_is_refused_before_reading() {
        // A million images of 28×28 (784 MB) claimed by a file of a few bytes: refused
        // from the file's length, for a raw file, and after decompressing what there is,
        // for a gzipped one; neither reserves the 784 MB. Past a data file's budget
        // (21,913,098 images, 17 GB), refused from the header alone.
        let dir = tempfile::tempdir().unwrap();
        for gzip in [false, true] {
            let bytes = encode(&[1_000_000, 28, 28], &[0; 100]);
            let err = read_idx(&write(dir.path(), "huge", &bytes, gzip))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("need 784000000 bytes of data, the file has 100"),
                "{err}"
            );
            let bytes = encode(&[21_913_098, 28, 28], &[0; 100]);
            let err = read_idx(&write(dir.path(), "huger", &bytes, gzip))
                .unwrap_err()
                .to_string();
            assert!(err.contains("more than the 1024 MiB"), "{err}");
        }
    }

    #[test]
    fn trailing_bytes_after_a_gzip_stream_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "gz", &encode(&[2], &[1, 2]), true);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"garbage");
        std::fs::write(&path, bytes).unwrap();
        let err = read_idx(&path).unwrap_err().to_string();
        assert!(
            err.contains("trailing bytes after the gzip stream"),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_named() {
        let err = read_idx(Path::new("no/such/file-idx3-ubyte.gz"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no/such/file-idx3-ubyte.gz"), "{err}");
    }
}
