//! MNIST-style folders: four IDX files, the training and test images and labels,
//! gzipped or raw (MNIST, Fashion-MNIST and KMNIST all ship this layout).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::data::dataset::{check_same_size, Dataset, Intensities};
use crate::data::idx::read_idx;
use crate::error::{Error, Result};
use crate::io::bounded::{read_bounded, read_text_bounded, FileKind};

/// The standard file names of an MNIST-style folder (Fashion-MNIST uses the same).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte.gz";
/// Training labels.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte.gz";
/// Test images.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte.gz";
/// Test labels.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";

/// True when `dir` holds an MNIST-style training images file (gzipped or raw).
pub fn is_idx_folder(dir: &Path) -> bool {
    dir.join(TRAIN_IMAGES).exists() || dir.join(TRAIN_IMAGES.trim_end_matches(".gz")).exists()
}

/// Reads an images file (3-D IDX) and its labels file (1-D IDX), checking they agree.
pub fn load_pair(images: &Path, labels: &Path) -> Result<Dataset> {
    let img = read_idx(images)?;
    let lab = read_idx(labels)?;
    if img.dims.len() != 3 {
        return Err(Error::invalid(
            images,
            format!(
                "expected 3 dimensions [count, rows, cols], found {:?}",
                img.dims
            ),
        ));
    }
    if lab.dims.len() != 1 {
        return Err(Error::invalid(
            labels,
            format!("expected 1 dimension [count], found {:?}", lab.dims),
        ));
    }
    if img.dims[0] != lab.dims[0] {
        return Err(Error::invalid(
            labels,
            format!(
                "has {} labels but {} has {} images",
                lab.dims[0],
                images.display(),
                img.dims[0]
            ),
        ));
    }
    if img.dims[1] == 0 || img.dims[2] == 0 {
        return Err(Error::invalid(
            images,
            format!("images of size {}×{} are empty", img.dims[1], img.dims[2]),
        ));
    }
    Ok(Dataset::new(
        Intensities::Bytes(img.data),
        Some(lab.data),
        img.dims[1],
        img.dims[2],
    ))
}

/// Finds a file of an MNIST-style folder: the `.gz` name, or the same without `.gz`.
fn locate(dir: &Path, name: &str) -> Result<PathBuf> {
    let gz = dir.join(name);
    let raw = dir.join(name.trim_end_matches(".gz"));
    if gz.exists() {
        Ok(gz)
    } else if raw.exists() {
        Ok(raw)
    } else {
        Err(Error::io(
            &gz,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not found (nor without .gz)"),
        ))
    }
}

/// Loads the training and test sets of an MNIST-style folder, after checking the files
/// against the folder's `SHA256SUMS` when it has one (the bundled copy does).
pub fn load_folder(dir: &Path) -> Result<(Dataset, Dataset)> {
    verify_checksums(dir, &[])?;
    let train = load_pair(&locate(dir, TRAIN_IMAGES)?, &locate(dir, TRAIN_LABELS)?)?;
    let test = load_pair(&locate(dir, TEST_IMAGES)?, &locate(dir, TEST_LABELS)?)?;
    check_same_size(dir, &train, &test)?;
    Ok((train, test))
}

/// The test set of the folder `dir` alone: what a tool that scores the test set needs,
/// without reading (and checking) the training files.
pub fn load_test_set(dir: &Path) -> Result<Dataset> {
    verify_checksums(dir, &[TEST_IMAGES, TEST_LABELS])?;
    load_pair(&locate(dir, TEST_IMAGES)?, &locate(dir, TEST_LABELS)?)
}

/// Checks the files listed in `dir/SHA256SUMS` (lines `<hex digest>  <file name>`): every
/// one, or those of `only` (gzipped or raw) when it names any.
pub fn verify_checksums(dir: &Path, only: &[&str]) -> Result<()> {
    let sums = dir.join("SHA256SUMS");
    if !sums.exists() {
        return Ok(());
    }
    let text = read_text_bounded(&sums, FileKind::Text)?;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (digest, name) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| Error::invalid(&sums, format!("malformed line '{line}'")))?;
        let name = name.trim().trim_start_matches('*');
        let wanted = |w: &&str| name == *w || name == w.trim_end_matches(".gz");
        if !only.is_empty() && !only.iter().any(wanted) {
            continue;
        }
        let path = dir.join(name);
        let bytes = read_bounded(&path, FileKind::Data)?;
        let actual = format!("{:x}", Sha256::digest(&bytes));
        if actual != digest.to_lowercase() {
            return Err(Error::invalid(
                &path,
                format!(
                    "SHA-256 is {actual}, but {} says {digest}: the file is damaged",
                    sums.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::batch::Pixels;
    use crate::data::idx::encode;
    use rand::SeedableRng;
    use std::fs;

    fn folder(images: &[u8], image_dims: &[usize], labels: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (img, lab) in [(TRAIN_IMAGES, TRAIN_LABELS), (TEST_IMAGES, TEST_LABELS)] {
            fs::write(
                dir.path().join(img.trim_end_matches(".gz")),
                encode(image_dims, images),
            )
            .unwrap();
            fs::write(
                dir.path().join(lab.trim_end_matches(".gz")),
                encode(&[labels.len()], labels),
            )
            .unwrap();
        }
        dir
    }

    #[test]
    fn loads_a_small_folder_of_raw_files() {
        let dir = folder(&[0, 255, 128, 64, 1, 2, 3, 4], &[2, 2, 2], &[3, 7]);
        let (train, test) = load_folder(dir.path()).unwrap();
        assert_eq!(
            (
                train.len(),
                train.pixels(),
                test.labels.as_ref().unwrap()[1]
            ),
            (2, 4, 7)
        );
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let batch = train.batch(&[0], Pixels::Scaled, &mut rng);
        assert_eq!(
            batch.row(0).to_vec(),
            vec![0.0, 1.0, 128.0 / 255.0, 64.0 / 255.0]
        );
        let binary = train.batch(&[0, 1], Pixels::Binarized, &mut rng);
        assert!(binary.iter().all(|&v| v == 0.0 || v == 1.0));
        assert_eq!((binary[(0, 0)], binary[(0, 1)]), (0.0, 1.0)); // p = 0 and p = 1 are certain
    }

    #[test]
    fn count_mismatch_names_both_files() {
        let dir = folder(&[0; 8], &[2, 2, 2], &[1, 2, 3]);
        let err = load_folder(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("train-labels-idx1-ubyte")
                && err.contains("has 3 labels but")
                && err.contains("2 images"),
            "{err}"
        );
    }

    #[test]
    fn labels_given_as_images_are_refused() {
        let dir = folder(&[0; 8], &[8], &[1]);
        let err = load_folder(dir.path()).unwrap_err().to_string();
        assert!(err.contains("expected 3 dimensions"), "{err}");
    }

    #[test]
    fn missing_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_folder(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(TRAIN_IMAGES) && err.contains("not found"),
            "{err}"
        );
    }

    #[test]
    fn damaged_files_fail_the_checksum() {
        let dir = folder(&[0; 8], &[2, 2, 2], &[1, 2]);
        let name = TRAIN_LABELS.trim_end_matches(".gz");
        fs::write(
            dir.path().join("SHA256SUMS"),
            format!("{}  {name}\n", "0".repeat(64)),
        )
        .unwrap();
        let err = load_folder(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("SHA-256 is") && err.contains("damaged"),
            "{err}"
        );
    }
}
