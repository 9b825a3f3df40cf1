//! What a run is trained on: the sets of its source, the fingerprint of both that the
//! training state records so that `--resume` refuses other data, and the sets a run
//! uses once `--limit` and `--valid-fraction` have cut them.

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::data::dataset::check_same_size;
use crate::data::dataset::Dataset;
use crate::data::split::split;
use crate::error::{Error, Result};
use crate::train::settings::{epoch_rng, Settings};

/// The data a run trains and tests on, with its fingerprint.
#[derive(Clone, Debug)]
pub struct TrainData {
    /// The training set, whole (before `--limit` and `--valid-fraction`).
    pub train: Dataset,
    /// The test set, when the source has one; scored after every epoch.
    pub test: Option<Dataset>,
    /// What the training state records of both.
    pub fingerprint: DataFingerprint,
}

/// The sets of one run: what it trains on, and what it scores after every epoch.
#[derive(Debug)]
pub struct RunSets<'a> {
    /// The training images (after the limit, without the validation images).
    pub train: Cow<'a, Dataset>,
    /// The images held out of training (`--valid-fraction`).
    pub valid: Option<Dataset>,
    /// The source's test set.
    pub test: Option<&'a Dataset>,
}

impl RunSets<'_> {
    /// The set that stands for unseen data in pictures and summaries: the test set, or
    /// the validation set, or (for a source with neither) the training set.
    pub fn held_out(&self) -> &Dataset {
        self.test.or(self.valid.as_ref()).unwrap_or(&self.train)
    }
}

impl TrainData {
    /// The sets read from `source` (for messages and the fingerprint); both must hold
    /// images, of one size.
    pub fn new(source: &Path, train: Dataset, test: Option<Dataset>) -> Result<Self> {
        for (set, what) in [(Some(&train), "training"), (test.as_ref(), "test")] {
            if set.is_some_and(Dataset::is_empty) {
                return Err(Error::invalid(
                    source,
                    format!("the {what} set holds no images"),
                ));
            }
        }
        if let Some(test) = &test {
            check_same_size(source, &train, test)?;
        }
        let fingerprint = DataFingerprint::of(source, &train, test.as_ref());
        Ok(TrainData {
            train,
            test,
            fingerprint,
        })
    }

    /// The sets a run with `settings` uses: the validation images are drawn from the
    /// seed's own stream, so a resumed run holds out the same ones.
    pub fn sets(&self, settings: &Settings) -> Result<RunSets<'_>> {
        let mut rng = epoch_rng(settings.seed, usize::MAX - 2);
        let (train, valid) = split(
            &self.train,
            settings.limit,
            settings.valid_fraction,
            &mut rng,
        )?;
        Ok(RunSets {
            train,
            valid,
            test: self.test.as_ref(),
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
    pub fn of(source: &Path, train: &Dataset, test: Option<&Dataset>) -> Self {
        let mut hash = Sha256::new();
        for set in std::iter::once(train).chain(test) {
            set.hash_into(&mut hash);
        }
        DataFingerprint {
            source: source.display().to_string(),
            train_images: train.len(),
            test_images: test.map_or(0, Dataset::len),
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
