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
//! file can be wrong is an [`Error`] naming the file and the problem.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use byteorder::{BigEndian, ReadBytesExt};
use flate2::read::GzDecoder;

use crate::{Error, Result};

/// An IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idx {
    /// The dimensions, outermost first (images: `[count, rows, cols]`; labels: `[count]`).
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file (gzipped or raw).
pub fn read_idx(path: &Path) -> Result<Idx> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut magic = [0u8; 2];
    let head = reader.read(&mut magic).map_err(|e| Error::io(path, e))?;
    let prefix = std::io::Cursor::new(magic[..head].to_vec());
    if head == 2 && magic == [0x1f, 0x8b] {
        parse(path, GzDecoder::new(prefix.chain(reader)))
    } else {
        parse(path, prefix.chain(reader))
    }
}

/// Parses IDX bytes from any reader; `path` is only used in error messages.
pub fn parse(path: &Path, mut reader: impl Read) -> Result<Idx> {
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
    let expected = expected.filter(|&n| n <= 1 << 34).ok_or_else(|| {
        Error::invalid(path, format!("dimensions {dims:?} are implausibly large"))
    })?;
    let mut data = Vec::with_capacity(expected);
    reader
        .by_ref()
        .take(expected as u64)
        .read_to_end(&mut data)
        .map_err(|e| Error::invalid(path, format!("cannot read the data: {e}")))?;
    if data.len() < expected {
        return Err(Error::invalid(
            path,
            format!(
                "truncated: dimensions {dims:?} need {expected} bytes of data, the file has {}",
                data.len()
            ),
        ));
    }
    let mut extra = [0u8; 1];
    if reader
        .read(&mut extra)
        .map_err(|e| Error::invalid(path, format!("cannot read the data: {e}")))?
        > 0
    {
        return Err(Error::invalid(
            path,
            format!("trailing bytes after the {expected} declared by dimensions {dims:?}"),
        ));
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
    fn missing_file_is_named() {
        let err = read_idx(Path::new("no/such/file-idx3-ubyte.gz"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no/such/file-idx3-ubyte.gz"), "{err}");
    }
}
