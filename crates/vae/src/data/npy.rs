//! NumPy `.npy` files: `[N, D]` (flat images) or `[N, H, W]`, uint8 (0..=255, scaled by
//! 1/255) or float32 / float64 in [0, 1]. Labels, when there are any, are a 1-D integer
//! array of N values in 0..=255 in `NAME_labels.npy` beside `NAME.npy`.
//!
//! A `[N, D]` array is drawn as square pictures when D is a square (784 → 28×28), as
//! 1×D strips otherwise; `--image-size HxW` (with H·W = D) gives the shape.

use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, ReadNpyExt};

use crate::data::dataset::{square_image, Dataset, Intensities};
use crate::error::{Error, Result};
use crate::io::bounded::{read_bounded, FileKind};

/// The labels file that goes with `images` (`x.npy` → `x_labels.npy`).
pub fn labels_path(images: &Path) -> PathBuf {
    let stem = images.file_stem().unwrap_or_default().to_string_lossy();
    images.with_file_name(format!("{stem}_labels.npy"))
}

/// Reads `path` (and its labels file, when there is one) as one set of images.
/// `size` (height, width) shapes `[N, D]` arrays, and must agree with `[N, H, W]` ones.
pub fn load_npy(path: &Path, size: Option<(usize, usize)>) -> Result<Dataset> {
    let bytes = read_bounded(path, FileKind::Data)?;
    let (shape, images) = read_images(path, &bytes)?;
    let (n, rows, cols) = match (shape.as_slice(), size) {
        (&[n, d], None) => match square_image(d) {
            Some((h, w)) => (n, h, w),
            None => (n, 1, d),
        },
        (&[n, d], Some((h, w))) if h * w == d => (n, h, w),
        (&[n, h, w], None) => (n, h, w),
        (&[n, h, w], Some(given)) if given == (h, w) => (n, h, w),
        (s, Some((h, w))) if s.len() == 2 || s.len() == 3 => {
            return Err(Error::config(
                "--image-size",
                format!("{h}x{w} does not fit {} of shape {s:?}", path.display()),
            ))
        }
        (s, _) => {
            return Err(Error::invalid(
                path,
                format!("shape {s:?}: expected [N, D] or [N, H, W] images"),
            ))
        }
    };
    if n == 0 || rows * cols == 0 {
        return Err(Error::invalid(
            path,
            format!("shape {shape:?} holds no pixels"),
        ));
    }
    let labels_file = labels_path(path);
    let labels = if labels_file.exists() {
        Some(read_labels(&labels_file, n)?)
    } else {
        None
    };
    Ok(Dataset::new(images, labels, rows, cols))
}

/// The array's shape and pixels: uint8 as bytes, floats checked to lie in [0, 1].
fn read_images(path: &Path, bytes: &[u8]) -> Result<(Vec<usize>, Intensities)> {
    check_header(path, bytes)?;
    let bad = |e: ReadNpyError| Error::invalid(path, format!("not a readable .npy file: {e}"));
    match ArrayD::<u8>::read_npy(bytes) {
        Ok(a) => {
            return Ok((
                a.shape().to_vec(),
                Intensities::Bytes(a.iter().copied().collect()),
            ))
        }
        Err(ReadNpyError::WrongDescriptor(_)) => {}
        Err(e) => return Err(bad(e)),
    }
    let (shape, floats) = match ArrayD::<f32>::read_npy(bytes) {
        Ok(a) => (a.shape().to_vec(), a.iter().copied().collect::<Vec<f32>>()),
        Err(ReadNpyError::WrongDescriptor(_)) => match ArrayD::<f64>::read_npy(bytes) {
            Ok(a) => (a.shape().to_vec(), a.iter().map(|&v| v as f32).collect()),
            Err(ReadNpyError::WrongDescriptor(d)) => {
                return Err(Error::invalid(
                    path,
                    format!(
                    "element type {d}: expected uint8 ('|u1'), float32 ('<f4') or float64 ('<f8')"
                ),
                ))
            }
            Err(e) => return Err(bad(e)),
        },
        Err(e) => return Err(bad(e)),
    };
    let outside: Vec<usize> = (0..floats.len())
        .filter(|&i| !(0.0..=1.0).contains(&floats[i]))
        .collect();
    if let Some(&first) = outside.first() {
        let per_image: usize = shape.iter().skip(1).product::<usize>().max(1);
        return Err(Error::invalid(
            path,
            format!(
                "{} values are outside [0, 1] (or NaN); the first is {} at image {}, pixel {}: \
                 float images must be intensities in [0, 1]",
                outside.len(),
                floats[first],
                first / per_image,
                first % per_image
            ),
        ));
    }
    Ok((shape, Intensities::Floats(floats)))
}

/// Checks the shape and element size the header of the `.npy` file in `bytes` declares
/// against the bytes after it, before any reader allocates from them (a 128-byte file
/// whose header claimed 10¹²×784 values aborted the program in the allocation).
fn check_header(path: &Path, bytes: &[u8]) -> Result<()> {
    let bad =
        |problem: String| Error::invalid(path, format!("not a readable .npy file: {problem}"));
    if !bytes.starts_with(b"\x93NUMPY") || bytes.len() < 10 {
        return Err(bad("it does not start with \\x93NUMPY".into()));
    }
    let (len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => {
            let len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
            (len as usize, 12)
        }
        v => return Err(bad(format!("format version {v}, expected 1, 2 or 3"))),
    };
    let header = bytes
        .get(start..start.saturating_add(len))
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| bad("its header is cut short".into()))?;
    let after = |key: &str| header.split_once(key).map(|(_, rest)| rest);
    let descr = after("'descr'")
        .and_then(|rest| rest.split('\'').nth(1))
        .unwrap_or("");
    let Ok(size) = descr
        .trim_start_matches(['<', '>', '|', '='])
        .get(1..)
        .unwrap_or("")
        .parse::<u64>()
    else {
        return Ok(()); // an element type the reader will name
    };
    let shape: Option<Vec<u64>> = after("'shape'")
        .and_then(|rest| rest.split_once('(')?.1.split_once(')'))
        .map(|(tuple, _)| {
            tuple
                .split(',')
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .map(|d| d.parse().ok())
                .collect()
        })
        .and_then(|dims: Vec<Option<u64>>| dims.into_iter().collect());
    let Some(shape) = shape else {
        return Err(bad(format!(
            "its header's shape is not a tuple of sizes: {}",
            header.trim()
        )));
    };
    let declared = shape
        .iter()
        .try_fold(size, |total, &d| total.checked_mul(d));
    let have = (bytes.len() - start - header.len()) as u64;
    if declared != Some(have) {
        let declared = declared.map_or("more than 2⁶⁴".to_string(), |d| d.to_string());
        return Err(bad(format!(
            "its header declares shape {shape:?} of '{descr}' ({declared} bytes of data), \
             but the file holds {have} bytes after it"
        )));
    }
    Ok(())
}

/// A labels file: `n` integers in 0..=255, of any integer type.
fn read_labels(path: &Path, n: usize) -> Result<Vec<u8>> {
    let bytes = read_bounded(path, FileKind::Data)?;
    check_header(path, &bytes)?;
    let values: Vec<i128> = if let Ok(a) = ArrayD::<u8>::read_npy(&bytes[..]) {
        check_1d(path, a.shape(), n)?;
        a.iter().map(|&v| v as i128).collect()
    } else if let Ok(a) = ArrayD::<i64>::read_npy(&bytes[..]) {
        check_1d(path, a.shape(), n)?;
        a.iter().map(|&v| v as i128).collect()
    } else if let Ok(a) = ArrayD::<i32>::read_npy(&bytes[..]) {
        check_1d(path, a.shape(), n)?;
        a.iter().map(|&v| v as i128).collect()
    } else {
        return Err(Error::invalid(
            path,
            "expected a 1-D array of integers (uint8, int32 or int64) as labels",
        ));
    };
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            u8::try_from(v).map_err(|_| {
                Error::invalid(path, format!("label {v} of image {i} is outside 0..=255"))
            })
        })
        .collect()
}

fn check_1d(path: &Path, shape: &[usize], n: usize) -> Result<()> {
    if shape != [n] {
        return Err(Error::invalid(
            path,
            format!("shape {shape:?}: expected [{n}], one label per image"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, Array3};
    use ndarray_npy::write_npy;
    use std::fs;

    #[test]
    fn uint8_and_float_arrays_load_with_their_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        write_npy(
            &path,
            &Array3::<u8>::from_shape_fn((3, 2, 4), |(n, r, c)| (n * 8 + r * 4 + c) as u8),
        )
        .unwrap();
        write_npy(labels_path(&path), &Array1::<i64>::from(vec![4, 0, 9])).unwrap();
        let set = load_npy(&path, None).unwrap();
        assert_eq!((set.len(), set.rows, set.cols), (3, 2, 4));
        assert_eq!(set.images.get(9), 9.0 / 255.0);
        assert_eq!(set.labels, Some(vec![4, 0, 9]));

        let flat = dir.path().join("f.npy");
        write_npy(&flat, &Array2::<f32>::from_elem((5, 64), 0.5)).unwrap();
        let set = load_npy(&flat, None).unwrap();
        assert_eq!(
            (set.len(), set.rows, set.cols, set.labels.clone()),
            (5, 8, 8, None),
            "64 is 8×8"
        );
        assert_eq!(set.images, Intensities::Floats(vec![0.5; 320]));
        let set = load_npy(&flat, Some((4, 16))).unwrap();
        assert_eq!((set.rows, set.cols), (4, 16));
        write_npy(&flat, &Array2::<f64>::from_elem((2, 6), 0.25)).unwrap();
        assert_eq!(
            (
                load_npy(&flat, None).unwrap().rows,
                load_npy(&flat, None).unwrap().cols
            ),
            (1, 6)
        );
    }

    #[test]
    fn bad_arrays_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let mut values = Array2::<f32>::from_elem((3, 4), 0.5);
        values[(1, 2)] = 1.5;
        values[(2, 0)] = f32::NAN;
        write_npy(&path, &values).unwrap();
        let err = load_npy(&path, None).unwrap_err().to_string();
        assert!(
            err.contains("x.npy")
                && err.contains("2 values are outside [0, 1]")
                && err.contains("image 1, pixel 2"),
            "{err}"
        );

        write_npy(&path, &Array1::<u8>::zeros(4)).unwrap();
        let err = load_npy(&path, None).unwrap_err().to_string();
        assert!(err.contains("expected [N, D] or [N, H, W]"), "{err}");
        write_npy(&path, &Array2::<i32>::zeros((2, 2))).unwrap();
        let err = load_npy(&path, None).unwrap_err().to_string();
        assert!(err.contains("expected uint8"), "{err}");
        write_npy(&path, &Array2::<u8>::zeros((2, 6))).unwrap();
        let err = load_npy(&path, Some((4, 4))).unwrap_err().to_string();
        assert!(err.starts_with("--image-size: 4x4 does not fit"), "{err}");
        write_npy(labels_path(&path), &Array1::<i64>::from(vec![1, 300])).unwrap();
        let err = load_npy(&path, None).unwrap_err().to_string();
        assert!(
            err.contains("x_labels.npy") && err.contains("label 300 of image 1"),
            "{err}"
        );
        write_npy(labels_path(&path), &Array1::<u8>::from(vec![1, 2, 3])).unwrap();
        let err = load_npy(&path, None).unwrap_err().to_string();
        assert!(err.contains("expected [2], one label per image"), "{err}");
        fs::write(&path, b"\x93NUMPY garbage").unwrap();
        let err = load_npy(&path, None).unwrap_err().to_string();
        assert!(err.contains("not a readable .npy file"), "{err}");
    }

    /// A header that claims more than the file holds is refused from the header, before
    /// any allocation: 10¹²×784 floats in a 128-byte file, a product past 2⁶⁴, a short
    /// file, and trailing bytes.
    #[test]
    fn headers_are_checked_against_the_file_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let file = |shape: &str, descr: &str, data: usize| {
            let mut header =
                format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
            while (10 + header.len() + 1) % 64 != 0 {
                header.push(' ');
            }
            header.push('\n');
            let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
            bytes.extend((header.len() as u16).to_le_bytes());
            bytes.extend(header.as_bytes());
            bytes.extend(vec![0u8; data]);
            fs::write(&path, bytes).unwrap();
            load_npy(&path, None).map(|d| d.len())
        };
        assert_eq!(
            file("(2, 3)", "|u1", 6).unwrap(),
            2,
            "a well-formed file reads"
        );
        for (shape, descr, data, needle) in [
            (
                "(1000000000000, 784)",
                "<f4",
                0,
                "(3136000000000000 bytes of data)",
            ),
            (
                "(4294967296, 4294967296, 2)",
                "<f8",
                0,
                "(more than 2⁶⁴ bytes of data)",
            ),
            ("(2, 3)", "<f4", 20, "holds 20 bytes after it"),
            ("(2, 3)", "|u1", 7, "holds 7 bytes after it"),
            ("[2, 3]", "|u1", 6, "not a tuple of sizes"),
        ] {
            let err = file(shape, descr, data).unwrap_err().to_string();
            assert!(
                err.contains("not a readable .npy file") && err.contains(needle),
                "{err}"
            );
        }
    }
}
