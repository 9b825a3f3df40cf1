//! One set of an image folder: its files, their declared sizes checked against each
//! other, the caller's model and a pixel budget, then decoded (`image_decode.rs`).
//! The layouts a folder may have are `image_folder.rs`'s.

use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::data::dataset::Dataset;
use crate::data::image_decode::{declared_size, decode, stacked, Pixels};
use crate::data::image_folder::MAX_LABELS;
use crate::error::{Error, Result};
use crate::io::console::note;

/// The entries of `dir`, sorted, without hidden ones.
pub(super) fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in read {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

fn is_image(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    matches!(ext.as_deref(), Some("png" | "jpg" | "jpeg"))
}

/// A size check a caller gives before anything is decoded: the model's size, say.
pub type Fit<'a> = &'a dyn Fn((usize, usize)) -> Result<()>;

/// The most pixels one set may hold in all (after `--image-size`): 2²⁸, a quarter of a
/// gigabyte as bytes, 5.7 times MNIST's training set.
pub const MAX_SET_PIXELS: u64 = 1 << 28;

/// One set: the images of `dir` (labelled by the subfolders in `names` when it has any),
/// resized to `size` if given. Every file's declared size is read from its header first:
/// the sizes must agree (unless resized), the first must pass `fit`, and the set must
/// stay within [`MAX_SET_PIXELS`], all before one image is decoded.
pub(super) fn load_set(
    dir: &Path,
    names: &[String],
    size: Option<(usize, usize)>,
    fit: Option<Fit<'_>>,
) -> Result<Dataset> {
    if names.len() > MAX_LABELS {
        return Err(Error::invalid(
            dir,
            format!(
                "{} label subfolders; at most {MAX_LABELS} are supported",
                names.len()
            ),
        ));
    }
    let files = image_files(dir, names)?;
    let declared: Vec<(usize, usize)> = files
        .par_iter()
        .map(|(path, _)| declared_size(path))
        .collect::<Result<_>>()?;
    let (rows, cols) = size.unwrap_or(declared[0]);
    if let (None, Some(i)) = (size, declared.iter().position(|&d| d != (rows, cols))) {
        let (r, c) = declared[i];
        return Err(Error::invalid(
            dir,
            format!(
                "images of different sizes: {} is {rows}×{cols} but {} is {r}×{c}; \
                 give --image-size HxW to resize them all",
                files[0].0.display(),
                files[i].0.display()
            ),
        ));
    }
    if let Some(fit) = fit {
        fit((rows, cols))?;
    }
    let total = files.len() as u64 * (rows * cols) as u64;
    if total > MAX_SET_PIXELS {
        return Err(Error::invalid(
            dir,
            format!(
                "{} images of {rows}×{cols} are {total} pixels, more than the {}M a set may \
                 hold: use fewer images, or a smaller --image-size",
                files.len(),
                MAX_SET_PIXELS >> 20
            ),
        ));
    }
    // Decoding is most of the time: one image per task, in the folder's order.
    let decoded: Vec<Pixels> = files
        .par_iter()
        .map(|(path, _)| decode(path, size))
        .collect::<Result<_>>()?;
    if let Some(i) = decoded.iter().position(|d| d.size != (rows, cols)) {
        // Only a file that changed while it was read gets here.
        return Err(Error::invalid(
            &files[i].0,
            "its size changed while the folder was read",
        ));
    }
    let labels = (!names.is_empty()).then(|| files.iter().map(|(_, l)| l.unwrap_or(0)).collect());
    let mut set = Dataset::new(stacked(&decoded), labels, rows, cols);
    set.label_names = names.to_vec();
    Ok(set)
}

/// The images of a set's folder, in order, each with its label: those of each label's
/// subfolder when there are `names`, else those of the folder itself. Other files are
/// skipped with a note; an image beside label subfolders, or no image, is an error.
fn image_files(dir: &Path, names: &[String]) -> Result<Vec<(PathBuf, Option<u8>)>> {
    let mut files: Vec<(PathBuf, Option<u8>)> = Vec::new();
    let mut skipped = Vec::new();
    let own = entries(dir)?;
    let own_images: Vec<&PathBuf> = own.iter().filter(|p| p.is_file() && is_image(p)).collect();
    if names.is_empty() {
        files.extend(own_images.into_iter().map(|p| (p.clone(), None)));
    } else {
        if let Some(stray) = own_images.first() {
            return Err(Error::invalid(
                stray,
                "this folder has label subfolders, but this image is beside them: move it \
                 into one",
            ));
        }
        for (label, name) in names.iter().enumerate() {
            let sub = dir.join(name);
            if !sub.is_dir() {
                continue; // a label only the other set (train or test) has
            }
            for path in entries(&sub)? {
                if path.is_file() && is_image(&path) {
                    files.push((path, Some(label as u8)));
                } else {
                    skipped.push(path);
                }
            }
        }
    }
    skipped.extend(own.iter().filter(|p| p.is_file() && !is_image(p)).cloned());
    if let Some(first) = skipped.first() {
        note!(
            "note: {}: skipped {} files that are not PNG or JPEG images (e.g. {})",
            dir.display(),
            skipped.len(),
            first.display()
        );
    }
    if files.is_empty() {
        return Err(Error::invalid(dir, "holds no PNG or JPEG images"));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::image_decode::claiming_png;
    use crate::data::image_folder::load_image_folder_part;
    use crate::data::source::Part;
    use image::{GrayImage, Luma};

    fn gray(path: &Path, (h, w): (u32, u32)) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        GrayImage::from_pixel(w, h, Luma([9])).save(path).unwrap();
    }

    fn any_size(_: (usize, usize)) -> Result<()> {
        Ok(())
    }

    #[test]
    fn a_set_past_the_pixel_budget_is_refused_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        // Each within the one-image limit (16M pixels); 17 of them past 2²⁸.
        for i in 0..17 {
            claiming_png(&dir.path().join(format!("{i:02}.png")), (4096, 4096));
        }
        let e = load_set(dir.path(), &[], None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("17 images of 4096×4096 are 285212672 pixels, more than the 256M"),
            "{e}"
        );
        // Resized smaller they fit the budget, and are then decoded (and found broken).
        let e = load_set(dir.path(), &[], Some((8, 8)), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read the image"), "{e}");
    }

    #[test]
    fn the_first_images_size_meets_the_model_before_any_is_decoded() {
        let dir = tempfile::tempdir().unwrap();
        claiming_png(&dir.path().join("a.png"), (8, 8));
        let fit = |(h, w): (usize, usize)| match h * w {
            784 => Ok(()),
            n => Err(Error::config(
                "--image-size",
                format!("{n} pixels, not 784"),
            )),
        };
        let e = load_set(dir.path(), &[], None, Some(&fit)).unwrap_err();
        assert!(e.to_string().contains("64 pixels, not 784"), "{e}");
        let e = load_set(dir.path(), &[], Some((4096, 4096)), Some(&fit)).unwrap_err();
        assert!(e.to_string().contains("16777216 pixels, not 784"), "{e}");
        // Mixed declared sizes are named from the headers, before decoding too.
        claiming_png(&dir.path().join("b.png"), (6, 9));
        let e = load_set(dir.path(), &[], None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.png is 8×8") && e.contains("b.png is 6×9"),
            "{e}"
        );
    }

    #[test]
    fn a_tool_reads_only_the_set_it_needs() {
        let dir = tempfile::tempdir().unwrap();
        claiming_png(&dir.path().join("train/a/broken.png"), (4, 4));
        gray(&dir.path().join("test/b/1.png"), (4, 4));
        let (test, is_test) = load_image_folder_part(dir.path(), None, Part::Auto, &any_size)
            .unwrap()
            .unwrap();
        assert!(is_test && test.len() == 1);
        assert_eq!(test.labels, Some(vec![1]), "labels numbered over both sets");
        let e = load_image_folder_part(dir.path(), None, Part::Train, &any_size).unwrap_err();
        assert!(e.to_string().contains("broken.png"), "{e}");
        let flat = tempfile::tempdir().unwrap();
        gray(&flat.path().join("1.png"), (4, 4));
        let none = load_image_folder_part(flat.path(), None, Part::Test, &any_size).unwrap();
        assert!(none.is_none(), "no test set in a flat folder");
    }
}
