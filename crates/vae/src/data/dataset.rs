//! The dataset: images with optional labels, kept as the source stored them (batches are
//! made in [`super::batch`]).
//!
//! Pixels are kept as the source stored them: bytes for 8-bit data (47 MB for MNIST's
//! 60,000 training images, which as f32 would be 188 MB), floats for float data (a
//! `.npy` of float32, 16-bit PNGs), so that nothing is rounded on the way in.

use sha2::{Digest, Sha256};
use std::path::Path;

use crate::error::{Error, Result};

/// Pixel intensities of every image, one after another, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Intensities {
    /// 0..=255, meaning 0 to 1 (MNIST, 8-bit images, uint8 arrays).
    Bytes(Vec<u8>),
    /// 0 to 1 (float32 arrays, 16-bit images).
    Floats(Vec<f32>),
}

impl Intensities {
    /// Number of pixel values.
    pub fn len(&self) -> usize {
        match self {
            Intensities::Bytes(v) => v.len(),
            Intensities::Floats(v) => v.len(),
        }
    }

    /// True when there are no pixel values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pixel `i` in [0, 1].
    pub fn get(&self, i: usize) -> f32 {
        match self {
            Intensities::Bytes(v) => v[i] as f32 / 255.0,
            Intensities::Floats(v) => v[i],
        }
    }
}

/// Images with their labels, if the source has labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Pixels of image `i` are `images[i*pixels .. (i+1)*pixels]`.
    pub images: Intensities,
    /// One label per image, when the source has them.
    pub labels: Option<Vec<u8>>,
    /// The name of each label value (a folder's subfolder names); empty when labels are
    /// their own names (MNIST's digits).
    pub label_names: Vec<String>,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl Dataset {
    /// A set of `rows × cols` images. Panics if the sizes disagree (a programming error:
    /// the loaders check their files first).
    pub fn new(images: Intensities, labels: Option<Vec<u8>>, rows: usize, cols: usize) -> Self {
        assert!(rows > 0 && cols > 0, "images of size {rows}×{cols}");
        assert_eq!(images.len() % (rows * cols), 0, "a whole number of images");
        if let Some(labels) = &labels {
            assert_eq!(
                labels.len() * rows * cols,
                images.len(),
                "one label per image"
            );
        }
        Dataset {
            images,
            labels,
            label_names: Vec::new(),
            rows,
            cols,
        }
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.len() / self.pixels()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    /// Pixels per image.
    pub fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// The name of image `i`'s label, if it has one.
    pub fn label_name(&self, i: usize) -> Option<String> {
        let label = self.labels.as_ref()?[i] as usize;
        Some(match self.label_names.get(label) {
            Some(name) => name.clone(),
            None => label.to_string(),
        })
    }

    /// The images at `indices`, in that order, with their labels.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let p = self.pixels();
        let images = match &self.images {
            Intensities::Bytes(v) => Intensities::Bytes(
                indices
                    .iter()
                    .flat_map(|&i| &v[i * p..(i + 1) * p])
                    .copied()
                    .collect(),
            ),
            Intensities::Floats(v) => Intensities::Floats(
                indices
                    .iter()
                    .flat_map(|&i| &v[i * p..(i + 1) * p])
                    .copied()
                    .collect(),
            ),
        };
        Dataset {
            images,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            ..self.clone_empty()
        }
    }

    /// The first `n` images (all of them when there are fewer).
    pub fn first(&self, n: usize) -> Dataset {
        self.select(&(0..n.min(self.len())).collect::<Vec<_>>())
    }

    /// The same sizes and label names, without images.
    fn clone_empty(&self) -> Dataset {
        Dataset {
            images: Intensities::Bytes(Vec::new()),
            labels: None,
            label_names: self.label_names.clone(),
            rows: self.rows,
            cols: self.cols,
        }
    }

    /// Each pixel's mean intensity over the set, in [0, 1].
    pub fn pixel_means(&self) -> Vec<f64> {
        let p = self.pixels();
        let mut sums = vec![0f64; p];
        match &self.images {
            // Integer sums for bytes: exact, whatever the order.
            Intensities::Bytes(v) => {
                let mut ints = vec![0u64; p];
                for image in v.chunks_exact(p) {
                    for (s, &x) in ints.iter_mut().zip(image) {
                        *s += x as u64;
                    }
                }
                for (s, i) in sums.iter_mut().zip(ints) {
                    *s = i as f64 / 255.0;
                }
            }
            Intensities::Floats(v) => {
                for image in v.chunks_exact(p) {
                    for (s, &x) in sums.iter_mut().zip(image) {
                        *s += x as f64;
                    }
                }
            }
        }
        let n = self.len().max(1) as f64;
        sums.iter().map(|&s| s / n).collect()
    }

    /// Adds the set's sizes, pixels and labels to `hash` (for the data fingerprint). Byte
    /// images hash as their bytes, float images as little-endian f32.
    pub fn hash_into(&self, hash: &mut Sha256) {
        for n in [self.len(), self.rows, self.cols] {
            hash.update((n as u64).to_le_bytes());
        }
        match &self.images {
            Intensities::Bytes(v) => hash.update(v),
            Intensities::Floats(v) => {
                for x in v {
                    hash.update(x.to_le_bytes());
                }
            }
        }
        if let Some(labels) = &self.labels {
            hash.update(labels);
        }
        for name in &self.label_names {
            hash.update(name.as_bytes());
            hash.update([0]);
        }
    }
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

/// The image (height, width) of images of `input_dim` pixels when nothing says: square
/// when `input_dim` is a square.
pub fn square_image(input_dim: usize) -> Option<(usize, usize)> {
    let side = (input_dim as f64).sqrt().round() as usize;
    (side * side == input_dim).then_some((side, side))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::data) fn bytes(images: Vec<u8>, rows: usize, cols: usize) -> Dataset {
        let n = images.len() / (rows * cols);
        Dataset::new(Intensities::Bytes(images), Some(vec![0; n]), rows, cols)
    }

    #[test]
    fn selecting_keeps_pixels_labels_and_names_together() {
        let mut set = bytes((0..12).collect(), 1, 3);
        set.labels = Some(vec![7, 8, 9, 1]);
        set.label_names = vec!["a".into(), "b".into()];
        let picked = set.select(&[3, 1]);
        assert_eq!(picked.images, Intensities::Bytes(vec![9, 10, 11, 3, 4, 5]));
        assert_eq!(picked.labels, Some(vec![1, 8]));
        assert_eq!(picked.label_name(0).as_deref(), Some("b"));
        assert_eq!(picked.label_name(1).as_deref(), Some("8"));
        assert_eq!(set.first(10).len(), 4);
    }

    #[test]
    fn pixel_means_of_bytes_and_floats_agree() {
        let b = bytes(vec![0, 255, 255, 51], 1, 2);
        let f = Dataset::new(Intensities::Floats(vec![0.0, 1.0, 1.0, 0.2]), None, 1, 2);
        for (x, y) in b.pixel_means().iter().zip(f.pixel_means()) {
            assert!((x - y).abs() < 1e-7, "{x} vs {y}");
        }
        assert_eq!(b.pixel_means(), vec![0.5, 0.6]);
    }
}
