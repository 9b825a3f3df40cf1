//! Named tensors with string metadata in safetensors files: what checkpoints, training
//! states and the golden fixtures are made of.
//!
//! **Verified.** Every file we write records the SHA-256 of each tensor's bytes under the
//! metadata key `sha256.<tensor name>`, and of the rest of the metadata under
//! `sha256.__metadata__`. [`TensorFile::read`] recomputes them and names the tensor (or
//! the metadata) that does not match, so a flipped bit anywhere in the file is an error,
//! not a silently different model. A file made elsewhere with no digests at all (a
//! PyTorch `save_file`) still loads, marked [`Verification::Unverified`]; a file with
//! some digests but not all has been tampered with and is refused.
//!
//! **Deterministic.** The header is written by us, not by the `safetensors` crate, whose
//! metadata is a `HashMap` serialized in a different order in every process: keys and
//! tensors go in sorted order, so the same contents give the same bytes, always. The
//! crate still reads (and validates) the files.
//!
//! **Atomic.** Written by [`write_atomically`]: a crash leaves the old file or the new
//! one, never half of one.

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use serde_json::json;
use sha2::{Digest, Sha256};
use tensor::{Float, Tensor};

use super::bounded::{read_bounded, FileKind};
use crate::error::{Error, Result};
use crate::io::atomic::write_atomically;

/// Prefix of the digest keys in the metadata.
const DIGEST: &str = "sha256.";
/// The digest key of the metadata itself.
const METADATA_DIGEST: &str = "sha256.__metadata__";

/// Whether a file's contents were checked against digests recorded in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every tensor and the metadata matched their SHA-256.
    Verified,
    /// The file records no digests (made elsewhere): its contents could not be checked.
    Unverified,
}

/// The contents of a safetensors file: tensors by name (converted to `T`) and metadata
/// (without the digest keys, which [`read`](TensorFile::read) checks and
/// [`write`](TensorFile::write) recomputes).
#[derive(Clone, Debug, Default)]
pub struct TensorFile<T: Float> {
    /// The tensors, by name.
    pub tensors: BTreeMap<String, Tensor<T>>,
    /// The string metadata (`__metadata__`), in sorted order.
    pub metadata: BTreeMap<String, String>,
}

impl<T: Float> TensorFile<T> {
    /// Reads a file, verifying its digests and converting F32 or F64 tensors to `T`.
    pub fn read(path: &Path) -> Result<(Self, Verification)> {
        let bytes = read_bounded(path, FileKind::Model)?;
        let not_valid = |e| Error::invalid(path, format!("not a valid safetensors file ({e})"));
        let parsed = SafeTensors::deserialize(&bytes).map_err(not_valid)?;
        let (_, header) = SafeTensors::read_metadata(&bytes).map_err(not_valid)?;
        let mut metadata: BTreeMap<String, String> = header
            .metadata()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let digests: BTreeMap<String, String> = metadata
            .iter()
            .filter(|(k, _)| k.starts_with(DIGEST))
            .map(|(k, v)| (k[DIGEST.len()..].to_string(), v.clone()))
            .collect();
        metadata.retain(|k, _| !k.starts_with(DIGEST));
        let verification = if digests.is_empty() {
            Verification::Unverified
        } else {
            Verification::Verified
        };
        let check = |what: &str, actual: String| -> Result<()> {
            match digests.get(what) {
                _ if verification == Verification::Unverified => Ok(()),
                Some(recorded) if *recorded == actual => Ok(()),
                Some(recorded) => Err(Error::invalid(
                    path,
                    format!(
                        "{} does not match its SHA-256 (recorded {recorded}, computed \
                        {actual}): the file is damaged",
                        describe(what)
                    ),
                )),
                None => Err(Error::invalid(
                    path,
                    format!(
                        "{} has no recorded SHA-256 while the rest of the file has: the file \
                        was altered",
                        describe(what)
                    ),
                )),
            }
        };
        check("__metadata__", metadata_digest(&metadata))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in parsed.tensors() {
            check(&name, sha256(view.data()))?;
            let values: Vec<T> = match view.dtype() {
                Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|c| T::of(f32::from_le_bytes(c.try_into().expect("4 bytes")) as f64))
                    .collect(),
                Dtype::F64 => view
                    .data()
                    .chunks_exact(8)
                    .map(|c| T::of(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
                    .collect(),
                other => {
                    return Err(Error::invalid(
                        path,
                        format!(
                            "tensor '{name}' has dtype {other:?}; only F32 and F64 are supported"
                        ),
                    ))
                }
            };
            let tensor = Tensor::from_shape_vec(view.shape().to_vec(), values)
                .map_err(|e| Error::invalid(path, format!("tensor '{name}': {e}")))?;
            tensors.insert(name, tensor);
        }
        if let Some(orphan) = digests
            .keys()
            .find(|k| *k != "__metadata__" && !tensors.contains_key(*k))
        {
            return Err(Error::invalid(
                path,
                format!(
                    "a SHA-256 is recorded for tensor '{orphan}', which the file lacks: the \
                    file was altered"
                ),
            ));
        }
        Ok((TensorFile { tensors, metadata }, verification))
    }

    /// Removes and returns tensor `name`, or says which file lacks it.
    pub fn take(&mut self, path: &Path, name: &str) -> Result<Tensor<T>> {
        self.tensors
            .remove(name)
            .ok_or_else(|| Error::invalid(path, format!("tensor '{name}' is missing")))
    }

    /// Metadata value `key`, or says which file lacks it.
    pub fn meta(&self, path: &Path, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::invalid(path, format!("metadata key '{key}' is missing")))
    }

    /// Refuses a file holding NaN or infinite values, naming the first such tensor.
    pub fn check_finite(&self, path: &Path) -> Result<()> {
        self.tensors
            .iter()
            .try_for_each(|(name, t)| check_finite(path, name, t))
    }

    /// The file's bytes: the header (sorted metadata with the digests, then the tensors
    /// in name order) and the data, in `T`'s dtype. The same contents give the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (dtype, size) = if T::NAME == "f32" {
            ("F32", 4)
        } else {
            ("F64", 8)
        };
        let mut data = Vec::with_capacity(self.tensors.values().map(|t| t.len() * size).sum());
        let mut metadata = self.metadata.clone();
        metadata.retain(|k, _| !k.starts_with(DIGEST));
        metadata.insert(METADATA_DIGEST.into(), metadata_digest(&metadata));
        let mut entries = Vec::new();
        for (name, t) in &self.tensors {
            let start = data.len();
            for &v in t.iter() {
                if size == 4 {
                    data.extend_from_slice(&(v.as_f64() as f32).to_le_bytes());
                } else {
                    data.extend_from_slice(&v.as_f64().to_le_bytes());
                }
            }
            metadata.insert(format!("{DIGEST}{name}"), sha256(&data[start..]));
            let info =
                json!({"dtype": dtype, "shape": t.shape(), "data_offsets": [start, data.len()]});
            entries.push((name, info));
        }
        // serde_json's objects keep keys sorted (or in insertion order, which is sorted
        // here too): `__metadata__` first, then the tensors by name.
        let mut header = serde_json::Map::new();
        header.insert("__metadata__".into(), json!(metadata));
        for (name, info) in entries {
            header.insert(name.clone(), info);
        }
        let mut text = serde_json::to_string(&header).expect("a JSON object");
        // Pad with spaces so the data starts 8-byte aligned, as the format recommends.
        text.push_str(&" ".repeat((8 - (8 + text.len()) % 8) % 8));
        let mut bytes = Vec::with_capacity(8 + text.len() + data.len());
        bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
        bytes.extend_from_slice(&data);
        bytes
    }

    /// Writes the file atomically (temporary file, fsync, rename), in `T`'s dtype.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomically(path, &self.to_bytes())
    }
}

/// Refuses tensor `name` of `path` if it holds NaN or infinite values.
pub fn check_finite<T: Float>(path: &Path, name: &str, t: &Tensor<T>) -> Result<()> {
    let bad = t.iter().filter(|v| !v.is_finite()).count();
    if bad == 0 {
        return Ok(());
    }
    let first = t.iter().position(|v| !v.is_finite()).expect("counted");
    Err(Error::invalid(
        path,
        format!(
            "tensor '{name}' holds {bad} NaN or infinite values (the first at flat index {first})"
        ),
    ))
}

fn describe(what: &str) -> String {
    if what == "__metadata__" {
        "the metadata".into()
    } else {
        format!("tensor '{what}'")
    }
}

/// SHA-256 in lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The digest of the metadata (digest keys excluded): of its JSON, keys sorted.
fn metadata_digest(metadata: &BTreeMap<String, String>) -> String {
    let plain: BTreeMap<&String, &String> = metadata
        .iter()
        .filter(|(k, _)| !k.starts_with(DIGEST))
        .collect();
    sha256(serde_json::to_string(&plain).expect("strings").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use std::fs;

    fn sample() -> TensorFile<f32> {
        let mut file = TensorFile::<f32>::default();
        file.tensors
            .insert("w".into(), array![[1.5f32, -2.0], [0.25, 3.0]].into_dyn());
        file.tensors.insert("b".into(), array![7.0f32].into_dyn());
        file.metadata.insert("latent".into(), "20".into());
        file.metadata.insert("activation".into(), "relu".into());
        file
    }

    #[test]
    fn round_trips_f32_and_reads_as_f64_verified() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.safetensors");
        sample().write(&path).unwrap();
        let (mut back, verification) = TensorFile::<f64>::read(&path).unwrap();
        assert_eq!(verification, Verification::Verified);
        assert_eq!(
            back.take(&path, "w").unwrap(),
            array![[1.5, -2.0], [0.25, 3.0]].into_dyn()
        );
        assert_eq!(back.meta(&path, "latent").unwrap(), "20");
        assert!(back.metadata.keys().all(|k| !k.starts_with(DIGEST)));
        assert!(!crate::io::atomic::temporary_path(&path).exists());
    }

    #[test]
    fn the_same_contents_give_the_same_bytes() {
        // Metadata inserted in another order (and a HashMap-backed writer would also
        // vary between processes): the bytes are the same.
        let a = sample();
        let mut b = TensorFile::<f32>::default();
        b.metadata.insert("activation".into(), "relu".into());
        b.metadata.insert("latent".into(), "20".into());
        b.tensors = a.tensors.clone();
        assert_eq!(a.to_bytes(), b.to_bytes());
        let header_len = u64::from_le_bytes(a.to_bytes()[..8].try_into().unwrap());
        assert_eq!(header_len % 8, 0, "the data starts 8-byte aligned");
    }

    #[test]
    fn a_changed_tensor_byte_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.safetensors");
        let mut bytes = sample().to_bytes();
        let last = bytes.len() - 1; // inside 'w', the last tensor in name order
        bytes[last] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        let err = TensorFile::<f32>::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("t.safetensors") && err.contains("tensor 'w' does not match its SHA-256"),
            "{err}"
        );
    }

    #[test]
    fn changed_metadata_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.safetensors");
        let mut bytes = sample().to_bytes();
        let at = bytes.windows(6).position(|w| w == b"\"relu\"").unwrap();
        bytes[at + 1..at + 5].copy_from_slice(b"tanh");
        fs::write(&path, &bytes).unwrap();
        let err = TensorFile::<f32>::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("the metadata does not match its SHA-256"),
            "{err}"
        );
    }

    #[test]
    fn files_without_digests_load_unverified_and_partial_digests_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("foreign.safetensors");
        let view =
            safetensors::tensor::TensorView::new(Dtype::F32, vec![1], &[0, 0, 128, 63]).unwrap();
        let bytes = safetensors::serialize([("b", view.clone())], &None).unwrap();
        fs::write(&path, bytes).unwrap();
        let (file, verification) = TensorFile::<f32>::read(&path).unwrap();
        assert_eq!(verification, Verification::Unverified);
        assert_eq!(file.tensors["b"].iter().next(), Some(&1.0));

        let meta =
            std::collections::HashMap::from([("sha256.b".to_string(), sha256(&[0, 0, 128, 63]))]);
        let two = [("b", view.clone()), ("c", view)];
        fs::write(&path, safetensors::serialize(two, &Some(meta)).unwrap()).unwrap();
        let err = TensorFile::<f32>::read(&path).unwrap_err().to_string();
        assert!(err.contains("has no recorded SHA-256"), "{err}");
    }

    #[test]
    fn non_finite_values_are_named() {
        let mut file = sample();
        file.tensors.insert(
            "w".into(),
            array![1.0f32, f32::NAN, f32::INFINITY].into_dyn(),
        );
        let err = file
            .check_finite(Path::new("c.safetensors"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tensor 'w' holds 2 NaN or infinite values (the first at flat index 1)"),
            "{err}"
        );
        assert!(sample().check_finite(Path::new("c")).is_ok());
    }

    #[test]
    fn garbage_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.safetensors");
        fs::write(&path, b"not a tensor file").unwrap();
        let err = TensorFile::<f32>::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("bad.safetensors") && err.contains("not a valid safetensors"),
            "{err}"
        );
    }
}
