//! Folders of images: PNG or JPEG files, read as grayscale in [0, 1].
//!
//! Layouts, in the order they are tried:
//! - `DIR/train/…` and `DIR/test/…`: a training and a test set, each laid out as below;
//! - `DIR/<label>/*.png`: one subfolder per label (sorted names become labels 0, 1, …);
//! - `DIR/*.png`: unlabelled images.
//!
//! All images must have one size, or `--image-size HxW` resizes every one of them
//! (bilinear); a test set's images must have the training set's size (or both are
//! resized). Each file is decoded as `image_decode.rs` says: 8-bit images keep their
//! bytes, deeper ones become floats, colour becomes luma, an alpha channel is dropped
//! (an image drawn only in it is refused). Files of other kinds are skipped with a note
//! that says how many and names one; a label folder whose name is not UTF-8 is refused.

use std::path::{Path, PathBuf};

use crate::data::dataset::Dataset;
use crate::data::image_set::{entries, load_set, Fit};
use crate::data::source::Part;
use crate::error::{Error, Result};

/// The most labels (subfolders) a folder may have: labels are stored as bytes.
pub const MAX_LABELS: usize = 256;

/// Reads an image folder: its training set, and its test set when it has `train/` and
/// `test/` subfolders. `size` is (height, width) to resize to.
pub fn load_image_folder(
    dir: &Path,
    size: Option<(usize, usize)>,
) -> Result<(Dataset, Option<Dataset>)> {
    let Some((train_dir, test_dir)) = two_sets(dir)? else {
        let names = label_folders(dir)?;
        return Ok((load_set(dir, &names, size, None)?, None));
    };
    let names = both_sets_labels(&train_dir, &test_dir)?;
    let train = load_set(&train_dir, &names, size, None)?;
    let test = load_set(&test_dir, &names, size, None)?;
    if (test.rows, test.cols) != (train.rows, train.cols) {
        return Err(Error::invalid(
            &test_dir,
            format!(
                "its images are {}×{}, the training images {}×{}; give --image-size HxW \
                 to resize both sets to one size",
                test.rows, test.cols, train.rows, train.cols
            ),
        ));
    }
    Ok((train, Some(test)))
}

/// The one set of an image folder that `part` names, alone (the other is not read), with
/// `fit` checked on its images' size before any is decoded, and whether it is the test
/// set; `None` when the test set is asked of a folder that has none.
pub fn load_image_folder_part(
    dir: &Path,
    size: Option<(usize, usize)>,
    part: Part,
    fit: Fit<'_>,
) -> Result<Option<(Dataset, bool)>> {
    let Some((train_dir, test_dir)) = two_sets(dir)? else {
        if part == Part::Test {
            return Ok(None);
        }
        let names = label_folders(dir)?;
        return Ok(Some((load_set(dir, &names, size, Some(fit))?, false)));
    };
    // The labels are numbered over both sets' folders, as in training.
    let names = both_sets_labels(&train_dir, &test_dir)?;
    let (dir, test) = match part {
        Part::Train => (train_dir, false),
        Part::Auto | Part::Test => (test_dir, true),
    };
    Ok(Some((load_set(&dir, &names, size, Some(fit))?, test)))
}

/// `dir/train` and `dir/test` when it has both, `None` when it has neither, an error
/// when it has one alone.
fn two_sets(dir: &Path) -> Result<Option<(PathBuf, PathBuf)>> {
    let (train_dir, test_dir) = (dir.join("train"), dir.join("test"));
    match (train_dir.is_dir(), test_dir.is_dir()) {
        (true, true) => Ok(Some((train_dir, test_dir))),
        (false, false) => Ok(None),
        (has_train, _) => {
            let (has, lacks) = if has_train {
                ("train", "test")
            } else {
                ("test", "train")
            };
            Err(Error::invalid(
                dir,
                format!(
                    "has a {has}/ folder but no {lacks}/ beside it: give both, or put the \
                     label folders (or the images) directly in it"
                ),
            ))
        }
    }
}

/// The label folders of both sets, one sorted list (a label only one set has included).
fn both_sets_labels(train_dir: &Path, test_dir: &Path) -> Result<Vec<String>> {
    let mut names = label_folders(train_dir)?;
    names.extend(label_folders(test_dir)?);
    names.sort();
    names.dedup();
    Ok(names)
}

/// The names of `dir`'s subfolders, sorted (hidden ones left out).
fn label_folders(dir: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for path in entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = path.file_name().unwrap_or_default();
        let Some(name) = name.to_str() else {
            // Its images would be read under a name that does not exist: dropped unseen.
            return Err(Error::invalid(
                &path,
                "a label folder whose name is not UTF-8 text: rename it (its name is its \
                 label's)",
            ));
        };
        names.push(name.to_string());
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::Intensities;
    use image::{GrayImage, ImageBuffer, Luma, RgbImage};
    use std::fs;

    fn gray(path: &Path, (h, w): (u32, u32), value: u8) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        GrayImage::from_pixel(w, h, Luma([value]))
            .save(path)
            .unwrap();
    }

    fn bytes_of(set: &Dataset) -> &[u8] {
        match &set.images {
            Intensities::Bytes(b) => b,
            Intensities::Floats(_) => panic!("8-bit images stay bytes"),
        }
    }

    #[test]
    fn subfolders_are_labels_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        gray(&dir.path().join("cat/b.png"), (2, 3), 10);
        gray(&dir.path().join("cat/a.png"), (2, 3), 20);
        gray(&dir.path().join("ant/x.png"), (2, 3), 30);
        fs::write(dir.path().join("cat/notes.txt"), "not an image").unwrap();
        let (set, test) = load_image_folder(dir.path(), None).unwrap();
        assert!(test.is_none());
        assert_eq!((set.len(), set.rows, set.cols), (3, 2, 3));
        assert_eq!(set.label_names, vec!["ant", "cat"]);
        assert_eq!(set.labels, Some(vec![0, 1, 1]));
        // ant/x, then cat/a, cat/b: sorted paths
        assert_eq!(
            bytes_of(&set)[..],
            [[30u8; 6], [20; 6], [10; 6]].concat()[..]
        );
        assert_eq!(set.label_name(2).as_deref(), Some("cat"));
    }

    #[test]
    fn train_and_test_subfolders_are_two_sets_with_one_label_mapping() {
        let dir = tempfile::tempdir().unwrap();
        gray(&dir.path().join("train/a/1.png"), (4, 4), 0);
        gray(&dir.path().join("train/b/1.png"), (4, 4), 0);
        gray(&dir.path().join("test/b/1.png"), (4, 4), 255);
        let (train, test) = load_image_folder(dir.path(), None).unwrap();
        let test = test.unwrap();
        assert_eq!((train.len(), test.len()), (2, 1));
        assert_eq!(test.labels, Some(vec![1]), "b is label 1 in both sets");
        assert_eq!(test.label_names, train.label_names);
    }

    /// Silent changes once: test images of another size were resized to the training
    /// images' size, and a label folder with a non-UTF-8 name was dropped with its images.
    #[test]
    fn a_test_set_of_another_size_and_an_unreadable_label_name_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        gray(&dir.path().join("train/a/1.png"), (4, 4), 0);
        gray(&dir.path().join("test/a/1.png"), (6, 5), 0);
        let e = load_image_folder(dir.path(), None).unwrap_err().to_string();
        assert!(
            e.contains("test: its images are 6×5, the training images 4×4"),
            "{e}"
        );
        let only_train = dir.path().join("only");
        gray(&only_train.join("train/a/1.png"), (4, 4), 0);
        let e = load_image_folder(&only_train, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("has a train/ folder but no test/ beside it"),
            "{e}"
        );
        let (train, test) = load_image_folder(dir.path(), Some((3, 3))).unwrap();
        assert_eq!(
            (train.rows, test.unwrap().cols),
            (3, 3),
            "--image-size resizes both"
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let odd = dir
                .path()
                .join("labels")
                .join(std::ffi::OsStr::from_bytes(b"b\xff"));
            gray(&odd.join("1.png"), (4, 4), 0);
            gray(&dir.path().join("labels/a/1.png"), (4, 4), 0);
            let e = load_image_folder(&dir.path().join("labels"), None).unwrap_err();
            assert!(e.to_string().contains("name is not UTF-8"), "{e}");
        }
    }

    #[test]
    fn colour_is_converted_to_luma_and_sixteen_bits_to_floats() {
        let dir = tempfile::tempdir().unwrap();
        RgbImage::from_pixel(2, 2, image::Rgb([255, 255, 255]))
            .save(dir.path().join("c.png"))
            .unwrap();
        let (set, _) = load_image_folder(dir.path(), None).unwrap();
        assert_eq!(bytes_of(&set), [255; 4]);
        let deep = tempfile::tempdir().unwrap();
        let img: ImageBuffer<Luma<u16>, Vec<u16>> =
            ImageBuffer::from_fn(2, 1, |x, _| Luma([x as u16 * 65535 / 3]));
        img.save(deep.path().join("d.png")).unwrap();
        let (set, _) = load_image_folder(deep.path(), None).unwrap();
        let Intensities::Floats(v) = &set.images else {
            panic!("16-bit images are floats")
        };
        assert!(v[0] == 0.0 && (v[1] - 1.0 / 3.0).abs() < 1e-4, "{v:?}");
    }

    #[test]
    fn mixed_sizes_name_two_files_unless_resized() {
        let dir = tempfile::tempdir().unwrap();
        gray(&dir.path().join("a.png"), (8, 8), 100);
        gray(&dir.path().join("b.png"), (6, 10), 100);
        let err = load_image_folder(dir.path(), None).unwrap_err().to_string();
        assert!(
            err.contains("a.png is 8×8")
                && err.contains("b.png is 6×10")
                && err.contains("--image-size"),
            "{err}"
        );
        let (set, _) = load_image_folder(dir.path(), Some((5, 7))).unwrap();
        assert_eq!((set.rows, set.cols), (5, 7));
        assert!(
            bytes_of(&set).iter().all(|&p| p == 100),
            "a flat image stays flat when resized"
        );
    }

    #[test]
    fn bad_folders_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_image_folder(dir.path(), None).unwrap_err().to_string();
        assert!(err.contains("holds no PNG or JPEG images"), "{err}");
        fs::write(dir.path().join("broken.png"), b"not a png").unwrap();
        let err = load_image_folder(dir.path(), None).unwrap_err().to_string();
        assert!(
            err.contains("broken.png") && err.contains("cannot read the image"),
            "{err}"
        );
        let mixed = tempfile::tempdir().unwrap();
        gray(&mixed.path().join("label/a.png"), (2, 2), 0);
        gray(&mixed.path().join("stray.png"), (2, 2), 0);
        let err = load_image_folder(mixed.path(), None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("stray.png") && err.contains("beside them"),
            "{err}"
        );
    }
}
