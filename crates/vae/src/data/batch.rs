//! How images become model inputs: each pixel scaled to [0, 1] or drawn as 0 or 1 (dynamic
//! binarization), a batch at a time, and the shuffled order of an epoch.

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::data::dataset::{Dataset, Intensities};

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
    /// The images at `indices` as a `[indices.len(), pixels]` batch. Binarized batches
    /// draw one uniform number per pixel, row by row, in order.
    pub fn batch<R: Rng>(&self, indices: &[usize], pixels: Pixels, rng: &mut R) -> Array2<f32> {
        let p = self.pixels();
        let mut out = Array2::zeros((indices.len(), p));
        for (row, &i) in out.rows_mut().into_iter().zip(indices) {
            let row = row.into_slice().expect("a row of a row-major array");
            // A whole image at once, not pixel by pixel through `get`. Batch 128 in the
            // training loop: 190 → 117 µs per batch on a Zen 4 (alone, 58 → 46 µs: the
            // rest is the misses of 128 random images that the step evicted).
            match &self.images {
                Intensities::Bytes(v) => {
                    let image = &v[i * p..(i + 1) * p];
                    row.iter_mut()
                        .zip(image)
                        .for_each(|(o, &b)| *o = b as f32 / 255.0);
                }
                Intensities::Floats(v) => row.copy_from_slice(&v[i * p..(i + 1) * p]),
            }
            if pixels == Pixels::Binarized {
                row.iter_mut()
                    .for_each(|o| *o = (rng.gen::<f32>() < *o) as u8 as f32);
            }
        }
        out
    }

    /// The set with every pixel drawn once as 0 or 1, with its intensity as the
    /// probability of 1 (the draw [`Pixels::Binarized`] makes per batch, made once:
    /// evaluations then score one fixed binary test set).
    pub fn binarized<R: Rng>(&self, rng: &mut R) -> Dataset {
        let images = (0..self.images.len())
            .map(|i| {
                if rng.gen::<f32>() < self.images.get(i) {
                    255
                } else {
                    0
                }
            })
            .collect();
        Dataset {
            images: Intensities::Bytes(images),
            ..self.clone()
        }
    }
}

/// A shuffled order of `0..len`: one epoch's batches, or the validation split's draw.
pub fn shuffled<R: Rng>(len: usize, rng: &mut R) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.shuffle(rng);
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::tests::bytes;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn batches_scale_bytes_and_keep_floats() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let set = bytes(vec![0, 255, 128, 64, 1, 2, 3, 4], 2, 2);
        let batch = set.batch(&[0], Pixels::Scaled, &mut rng);
        assert_eq!(
            batch.row(0).to_vec(),
            vec![0.0, 1.0, 128.0 / 255.0, 64.0 / 255.0]
        );
        let floats = Dataset::new(Intensities::Floats(vec![0.25, 0.5, 0.75]), None, 1, 3);
        assert_eq!(
            floats.batch(&[0], Pixels::Scaled, &mut rng).row(0).to_vec(),
            vec![0.25, 0.5, 0.75]
        );
        let binary = set.batch(&[0, 1], Pixels::Binarized, &mut rng);
        assert!(binary.iter().all(|&v| v == 0.0 || v == 1.0));
        // p = 0 and p = 1 are certain.
        assert_eq!((binary[(0, 0)], binary[(0, 1)]), (0.0, 1.0));
        // Rows in the order of the indices; one draw per pixel, row by row.
        let two = set.batch(&[1, 0], Pixels::Scaled, &mut rng);
        let images = &set.images;
        let image = |i: usize| (0..4).map(move |j| images.get(i * 4 + j));
        assert!(two.iter().copied().eq(image(1).chain(image(0))));
        let draws = set.batch(&[1, 0], Pixels::Binarized, &mut StdRng::seed_from_u64(5));
        let mut oracle = StdRng::seed_from_u64(5);
        let expected = image(1)
            .chain(image(0))
            .map(|p| (oracle.gen::<f32>() < p) as u8 as f32);
        assert!(draws.iter().copied().eq(expected));
    }

    #[test]
    fn binarizing_once_draws_each_pixel_with_its_intensity() {
        let set = bytes(vec![0, 255, 128, 128], 2, 2);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut ones = 0;
        for _ in 0..1000 {
            let Intensities::Bytes(b) = set.binarized(&mut rng).images else {
                panic!("binarized sets are bytes")
            };
            assert!(b[0] == 0 && b[1] == 255);
            assert!(b.iter().all(|&p| p == 0 || p == 255));
            ones += (b[2] == 255) as usize + (b[3] == 255) as usize;
        }
        assert!(
            (900..1100).contains(&ones),
            "{ones} of 2000 draws at p = 0.502"
        );
        let again = |seed| set.binarized(&mut rand::rngs::StdRng::seed_from_u64(seed));
        assert_eq!(again(3), again(3));
    }

    #[test]
    fn shuffles_are_seeded() {
        let a = shuffled(100, &mut rand::rngs::StdRng::seed_from_u64(5));
        let b = shuffled(100, &mut rand::rngs::StdRng::seed_from_u64(5));
        assert_eq!(a, b);
        assert_ne!(a, (0..100).collect::<Vec<_>>());
    }
}
