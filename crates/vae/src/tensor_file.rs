//! Named tensors with string metadata in safetensors files: what checkpoints and the
//! golden fixtures are made of.
//!
//! Files are written atomically: to a temporary file beside the target, flushed to disk
//! (`fsync`), then renamed over it. A crash leaves either the old file or the new one,
//! never half of one.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use tensor::{Float, Tensor};

use crate::{Error, Result};

/// The contents of a safetensors file: tensors by name (converted to `T`) and metadata.
#[derive(Clone, Debug, Default)]
pub struct TensorFile<T: Float> {
    /// The tensors, by name.
    pub tensors: BTreeMap<String, Tensor<T>>,
    /// The string metadata (`__metadata__`).
    pub metadata: HashMap<String, String>,
}

impl<T: Float> TensorFile<T> {
    /// Reads a file, converting F32 or F64 tensors to `T`.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        let parsed = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::invalid(path, format!("not a valid safetensors file ({e})")))?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| Error::invalid(path, format!("not a valid safetensors file ({e})")))?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let mut tensors = BTreeMap::new();
        for (name, view) in parsed.tensors() {
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
        Ok(TensorFile { tensors, metadata })
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

    /// Writes the file atomically (temporary file, fsync, rename), in `T`'s dtype.
    pub fn write(&self, path: &Path) -> Result<()> {
        let dtype = if T::NAME == "f32" {
            Dtype::F32
        } else {
            Dtype::F64
        };
        let buffers: Vec<(&String, Vec<u8>, &[usize])> = self
            .tensors
            .iter()
            .map(|(name, t)| {
                let bytes = t.iter().flat_map(|&v| to_le_bytes(v)).collect();
                (name, bytes, t.shape())
            })
            .collect();
        let views: Vec<(&String, TensorView<'_>)> = buffers
            .iter()
            .map(|(name, bytes, shape)| {
                let view = TensorView::new(dtype, shape.to_vec(), bytes)
                    .expect("byte length matches the shape");
                (*name, view)
            })
            .collect();
        let metadata = Some(self.metadata.clone());
        let bytes = safetensors::serialize(views, &metadata)
            .map_err(|e| Error::invalid(path, format!("cannot serialize: {e}")))?;
        write_atomically(path, &bytes)
    }
}

fn to_le_bytes<T: Float>(v: T) -> Vec<u8> {
    if T::NAME == "f32" {
        (v.as_f64() as f32).to_le_bytes().to_vec()
    } else {
        v.as_f64().to_le_bytes().to_vec()
    }
}

/// Writes `bytes` to `path` through a temporary file, fsync and rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    // The rename itself is durable only once the directory is synced.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn round_trips_f32_and_reads_as_f64() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.safetensors");
        let mut file = TensorFile::<f32>::default();
        file.tensors
            .insert("w".into(), array![[1.5f32, -2.0], [0.25, 3.0]].into_dyn());
        file.metadata.insert("latent".into(), "20".into());
        file.write(&path).unwrap();
        let mut back = TensorFile::<f64>::read(&path).unwrap();
        assert_eq!(
            back.take(&path, "w").unwrap(),
            array![[1.5, -2.0], [0.25, 3.0]].into_dyn()
        );
        assert_eq!(back.meta(&path, "latent").unwrap(), "20");
        assert!(!path.with_extension("tmp").exists());
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
