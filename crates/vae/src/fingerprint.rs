//! What a run is trained on: the two sets, and the fingerprint of both that the training
//! state records so that `--resume` refuses other data.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::{check_same_size, Dataset};
use crate::{Error, Result};

/// The data a run trains and tests on, with its fingerprint.
#[derive(Clone, Debug)]
pub struct TrainData {
    /// The training set.
    pub train: Dataset,
    /// The test set, scored after every epoch.
    pub test: Dataset,
    /// What the training state records of both.
    pub fingerprint: DataFingerprint,
}

impl TrainData {
    /// The sets read from `source` (a folder, for messages and the fingerprint); both
    /// must hold images of one size.
    pub fn new(source: &Path, train: Dataset, test: Dataset) -> Result<Self> {
        for (set, what) in [(&train, "training"), (&test, "test")] {
            if set.is_empty() {
                return Err(Error::invalid(
                    source,
                    format!("the {what} set holds no images"),
                ));
            }
        }
        check_same_size(source, &train, &test)?;
        let fingerprint = DataFingerprint::of(source, &train, &test);
        Ok(TrainData {
            train,
            test,
            fingerprint,
        })
    }
}

/// What a run was trained on, as the training state records it: `--resume` refuses
/// other data. The digest covers the decoded images and labels of both sets (with their
/// counts and sizes), so the same data gzipped or raw, or moved elsewhere, still matches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Where the data was read from (as given; for messages).
    pub source: String,
    /// Training images.
    pub train_images: usize,
    /// Test images.
    pub test_images: usize,
    /// Image height and width.
    pub image_size: [usize; 2],
    /// SHA-256 of both sets, in lowercase hex.
    pub sha256: String,
}

impl DataFingerprint {
    /// The fingerprint of `train` and `test`, read from `source`.
    pub fn of(source: &Path, train: &Dataset, test: &Dataset) -> Self {
        let mut hash = Sha256::new();
        for set in [train, test] {
            for n in [set.len(), set.rows, set.cols] {
                hash.update((n as u64).to_le_bytes());
            }
            hash.update(&set.images);
            hash.update(&set.labels);
        }
        DataFingerprint {
            source: source.display().to_string(),
            train_images: train.len(),
            test_images: test.len(),
            image_size: [train.rows, train.cols],
            sha256: format!("{:x}", hash.finalize()),
        }
    }
}

impl std::fmt::Display for DataFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({} training + {} test images of {}×{}, SHA-256 {}…)",
            self.source,
            self.train_images,
            self.test_images,
            self.image_size[0],
            self.image_size[1],
            &self.sha256[..self.sha256.len().min(12)]
        )
    }
}
