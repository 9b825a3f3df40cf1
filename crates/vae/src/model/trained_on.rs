//! The data a model was trained on, as its checkpoint records it: what the tools read
//! when `--data` and `--binarize` are not given.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};

/// The data a model was trained on (metadata `data_source` and `binarize`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainedOn {
    /// `--data` as the run was given it.
    pub source: String,
    /// Whether it was trained on binarized pixels.
    pub binarize: bool,
}

impl TrainedOn {
    /// Records itself in a weights file's metadata.
    pub fn write_to(&self, metadata: &mut BTreeMap<String, String>) {
        metadata.insert("data_source".into(), self.source.clone());
        metadata.insert("binarize".into(), self.binarize.to_string());
    }

    /// What the metadata of the file at `path` records, if it does (files made
    /// elsewhere, or before this was recorded, do not).
    pub fn read_from(path: &Path, metadata: &BTreeMap<String, String>) -> Result<Option<Self>> {
        let (Some(source), Some(binarize)) =
            (metadata.get("data_source"), metadata.get("binarize"))
        else {
            return Ok(None);
        };
        let binarize = binarize.parse().map_err(|_| {
            Error::invalid(
                path,
                format!("metadata 'binarize' = '{binarize}': expected true or false"),
            )
        })?;
        Ok(Some(TrainedOn {
            source: source.clone(),
            binarize,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_round_trips_and_a_bad_flag_is_named() {
        let mut metadata = BTreeMap::new();
        let at = Path::new("c.safetensors");
        assert_eq!(TrainedOn::read_from(at, &metadata).unwrap(), None);
        let trained = TrainedOn {
            source: "digits.npy".into(),
            binarize: true,
        };
        trained.write_to(&mut metadata);
        assert_eq!(TrainedOn::read_from(at, &metadata).unwrap(), Some(trained));
        metadata.insert("binarize".into(), "yes".into());
        let e = TrainedOn::read_from(at, &metadata).unwrap_err().to_string();
        assert!(e.contains("'binarize' = 'yes'"), "{e}");
    }
}
