//! `--data PATH`: what PATH is decides how it is read.
//!
//! - a folder with MNIST's IDX files (`train-images-idx3-ubyte[.gz]`, …): a training
//!   and a test set ([`super::idx_folder`]);
//! - any other folder: PNG or JPEG images ([`super::image_folder`]);
//! - a `.npy` file: one set of images ([`super::npy`]).

use std::path::Path;

use crate::data::dataset::{check_same_size, Dataset};
use crate::data::idx_folder::{is_idx_folder, load_folder, load_test_set};
use crate::data::image_folder::{load_image_folder, load_image_folder_part};
use crate::data::image_set::Fit;
use crate::data::npy::load_npy;
use crate::error::{Error, Result};

/// The sets read from a source: a training set, and a test set when the source has one.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The training set (all the images of a source without a test set).
    pub train: Dataset,
    /// The test set.
    pub test: Option<Dataset>,
}

/// Reads `path` as the module says. `image_size` (height, width) resizes the images of
/// a folder and shapes a `.npy` of flat images; an IDX folder's images must have it.
pub fn load_data(path: &Path, image_size: Option<(usize, usize)>) -> Result<Loaded> {
    let loaded = if path.is_dir() && is_idx_folder(path) {
        let (train, test) = load_folder(path)?;
        idx_size_is(path, image_size, &train)?;
        Loaded {
            train,
            test: Some(test),
        }
    } else if path.is_dir() {
        let (train, test) = load_image_folder(path, image_size)?;
        Loaded { train, test }
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        Loaded {
            train: load_npy(path, image_size)?,
            test: None,
        }
    } else if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not found"),
        ));
    } else {
        return Err(Error::invalid(
            path,
            "not a data source: expected an IDX folder, a folder of PNG/JPEG images or a .npy file",
        ));
    };
    if let Some(test) = &loaded.test {
        check_same_size(path, &loaded.train, test)?;
    }
    Ok(loaded)
}

/// An IDX folder's images are not resized: `--image-size`, if given, must be theirs.
fn idx_size_is(path: &Path, image_size: Option<(usize, usize)>, set: &Dataset) -> Result<()> {
    match image_size.filter(|&s| s != (set.rows, set.cols)) {
        Some((h, w)) => Err(Error::config(
            "--image-size",
            format!(
                "{h}x{w}, but the IDX files in {} hold {}×{} images (IDX images are not \
                 resized)",
                path.display(),
                set.rows,
                set.cols
            ),
        )),
        None => Ok(()),
    }
}

/// Which set of a source a command reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The test set, or all the images of a source without one.
    Auto,
    /// The training set (all the images of a source without a test set).
    Train,
    /// The test set (an error for a source without one).
    Test,
}

/// The one set of `path` that `part` names, and whether it is the test set, reading
/// nothing else: an IDX folder's test files alone, an image folder's `test/` (or
/// `train/`) alone, with `fit` checked on the images' size before any is decoded.
/// (`fit` is the caller's to check again on what comes back: an IDX or `.npy` file is
/// read whole, within its size budget, before its shape is known.)
pub fn load_part(
    path: &Path,
    image_size: Option<(usize, usize)>,
    part: Part,
    fit: Fit<'_>,
) -> Result<(Dataset, bool)> {
    let no_test = || {
        Error::config(
            "--set",
            format!(
                "test, but {} has no test set (use --set train or auto)",
                path.display()
            ),
        )
    };
    if path.is_dir() && !is_idx_folder(path) {
        return load_image_folder_part(path, image_size, part, fit)?.ok_or_else(no_test);
    }
    if part != Part::Train && path.is_dir() {
        let test = load_test_set(path)?;
        idx_size_is(path, image_size, &test)?;
        return Ok((test, true));
    }
    if part == Part::Test && path.is_file() {
        return Err(no_test()); // a `.npy` is one set: refused before it is read
    }
    let loaded = load_data(path, image_size)?;
    Ok((loaded.train, false))
}

/// Parses `HxW` (e.g. `28x28`; `×` and `X` work too) into (height, width).
pub fn parse_image_size(text: &str) -> std::result::Result<(usize, usize), String> {
    let bad = || format!("'{text}': expected HEIGHTxWIDTH, e.g. 28x28");
    let (h, w) = text.split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let h: usize = h.trim().parse().map_err(|_| bad())?;
    let w: usize = w.trim().parse().map_err(|_| bad())?;
    if h == 0 || w == 0 || h.checked_mul(w).is_none_or(|p| p > 1 << 24) {
        return Err(format!(
            "'{text}': each side must be at least 1, and at most 16M pixels in all"
        ));
    }
    Ok((h, w))
}
