//! The dataset: images and labels from IDX files, kept as bytes (47 MB for MNIST's
//! 60,000 training images as f32 would be 188 MB), converted to floats one batch at a time.

use std::fs;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::idx::read_idx;
use crate::{Error, Result};

/// Images (as bytes) with their labels.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Pixels of image `i` are `images[i*pixels .. (i+1)*pixels]`, row-major, 0..=255.
    pub images: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

/// How pixels become model inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pixels {
    /// Intensities scaled to [0, 1] (the PyTorch example's default).
    Scaled,
    /// A fresh Bernoulli draw per pixel per batch, with the intensity as probability
    /// ("dynamic binarization", the standard for log-likelihood comparisons).
    Binarized,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Reads an images file (3-D IDX) and its labels file (1-D IDX), checking they agree.
    pub fn load(images: &Path, labels: &Path) -> Result<Self> {
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
        Ok(Dataset {
            images: img.data,
            labels: lab.data,
            rows: img.dims[1],
            cols: img.dims[2],
        })
    }

    /// The set with every pixel drawn once as 0 or 255, with its intensity as the
    /// probability of 255 (the draw [`Pixels::Binarized`] makes per batch, made once:
    /// evaluations then score one fixed binary test set).
    pub fn binarized<R: Rng>(&self, rng: &mut R) -> Dataset {
        let images = self
            .images
            .iter()
            .map(|&p| {
                if rng.gen::<f32>() < p as f32 / 255.0 {
                    255
                } else {
                    0
                }
            })
            .collect();
        Dataset {
            images,
            ..self.clone()
        }
    }

    /// Each pixel's mean intensity over the set, in [0, 1].
    pub fn pixel_means(&self) -> Vec<f64> {
        let mut sums = vec![0u64; self.pixels()];
        for image in self.images.chunks_exact(self.pixels()) {
            for (s, &p) in sums.iter_mut().zip(image) {
                *s += p as u64;
            }
        }
        let n = (self.len().max(1) * 255) as f64;
        sums.iter().map(|&s| s as f64 / n).collect()
    }

    /// Image `i` as bytes.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.images[i * self.pixels()..(i + 1) * self.pixels()]
    }

    /// The images at `indices` as a `[indices.len(), pixels]` batch.
    pub fn batch<R: Rng>(&self, indices: &[usize], pixels: Pixels, rng: &mut R) -> Array2<f32> {
        let mut out = Array2::zeros((indices.len(), self.pixels()));
        for (row, &i) in out.rows_mut().into_iter().zip(indices) {
            for (o, &p) in row.into_iter().zip(self.image(i)) {
                let intensity = p as f32 / 255.0;
                *o = match pixels {
                    Pixels::Scaled => intensity,
                    Pixels::Binarized => (rng.gen::<f32>() < intensity) as u8 as f32,
                };
            }
        }
        out
    }
}

/// A shuffled order of `0..len` for one epoch.
pub fn shuffled<R: Rng>(len: usize, rng: &mut R) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(rng);
    order
}

/// The standard file names of an MNIST-style folder (Fashion-MNIST uses the same).
pub const TRAIN_IMAGES: &str = "train-images-idx3-ubyte.gz";
/// Training labels.
pub const TRAIN_LABELS: &str = "train-labels-idx1-ubyte.gz";
/// Test images.
pub const TEST_IMAGES: &str = "t10k-images-idx3-ubyte.gz";
/// Test labels.
pub const TEST_LABELS: &str = "t10k-labels-idx1-ubyte.gz";

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
    verify_checksums(dir)?;
    let train = Dataset::load(&locate(dir, TRAIN_IMAGES)?, &locate(dir, TRAIN_LABELS)?)?;
    let test = Dataset::load(&locate(dir, TEST_IMAGES)?, &locate(dir, TEST_LABELS)?)?;
    check_same_size(dir, &train, &test)?;
    Ok((train, test))
}

/// Refuses training and test images of different sizes (read from `source`).
pub fn check_same_size(source: &Path, train: &Dataset, test: &Dataset) -> Result<()> {
    if (train.rows, train.cols) != (test.rows, test.cols) {
        return Err(Error::invalid(
            source,
            format!(
                "training images are {}×{} but test images {}×{}",
                train.rows, train.cols, test.rows, test.cols
            ),
        ));
    }
    Ok(())
}

/// Checks every file listed in `dir/SHA256SUMS` (lines `<hex digest>  <file name>`).
pub fn verify_checksums(dir: &Path) -> Result<()> {
    let sums = dir.join("SHA256SUMS");
    let Ok(text) = fs::read_to_string(&sums) else {
        return Ok(());
    };
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let (digest, name) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| Error::invalid(&sums, format!("malformed line '{line}'")))?;
        let path = dir.join(name.trim().trim_start_matches('*'));
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
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
    use crate::idx::encode;
    use rand::SeedableRng;

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
        assert_eq!((train.len(), train.pixels(), test.labels[1]), (2, 4, 7));
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

    #[test]
    fn binarizing_once_draws_each_pixel_with_its_intensity() {
        let set = Dataset {
            images: vec![0, 255, 128, 128],
            labels: vec![0],
            rows: 2,
            cols: 2,
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut ones = 0;
        for _ in 0..1000 {
            let b = set.binarized(&mut rng);
            assert!(b.images[0] == 0 && b.images[1] == 255);
            assert!(b.images.iter().all(|&p| p == 0 || p == 255));
            ones += (b.images[2] == 255) as usize + (b.images[3] == 255) as usize;
        }
        assert!(
            (900..1100).contains(&ones),
            "{ones} of 2000 draws at p = 0.502"
        );
        let again = set.binarized(&mut rand::rngs::StdRng::seed_from_u64(3));
        assert_eq!(
            again.images,
            set.binarized(&mut rand::rngs::StdRng::seed_from_u64(3))
                .images
        );
    }

    #[test]
    fn shuffles_are_seeded() {
        let a = shuffled(100, &mut rand::rngs::StdRng::seed_from_u64(5));
        let b = shuffled(100, &mut rand::rngs::StdRng::seed_from_u64(5));
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
    }
}
