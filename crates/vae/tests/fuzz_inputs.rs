//! Fuzz-style properties of the readers of untrusted files: the IDX reader, the `.npy`
//! reader and the checkpoint loader. Valid files are damaged at the byte level (truncated anywhere, bits
//! flipped, bytes set, inserted or appended, header lengths and dimension counts
//! rewritten), and whatever comes out must be either a clean error that names the file,
//! or — when the damage happens to be harmless (a space turned into a tab in padding) —
//! exactly the original contents. Never a panic, never different numbers.
//!
//! The default run tries a few hundred damaged files of each kind; `just fuzz` (or
//! `PROPTEST_CASES=20000 cargo test --release -p vae --test fuzz_inputs`) tries many more.

use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use rand::SeedableRng;
use vae::data::idx::{encode, read_idx, Idx};
use vae::data::npy::load_npy;
use vae::model::activation::Activation;
use vae::model::checkpoint::{load_model, save_model};
use vae::model::config::ModelConfig;
use vae::run::state::{self, RunRecord};
use vae::train::settings::Settings;
use vae::Vae;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(tensor::gradcheck::cases_from_env(256))
}

/// One way to damage a file.
#[derive(Clone, Debug)]
enum Damage {
    /// Keep only the first `at` bytes (as a fraction of the length).
    Truncate(f64),
    /// Flip one bit.
    Flip(f64, u8),
    /// Set one byte.
    Set(f64, u8),
    /// Insert bytes.
    Insert(f64, Vec<u8>),
    /// Append bytes.
    Append(Vec<u8>),
    /// Rewrite the 8-byte little-endian header length (safetensors) or a 4-byte
    /// big-endian dimension (IDX) at the start of the file.
    Length(u64),
    /// Rewrite byte 3 (an IDX file's dimension count).
    Dims(u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    let at = 0.0f64..1.0;
    prop_oneof![
        at.clone().prop_map(Damage::Truncate),
        (at.clone(), 0u8..8).prop_map(|(a, b)| Damage::Flip(a, b)),
        (at.clone(), any::<u8>()).prop_map(|(a, v)| Damage::Set(a, v)),
        (at, prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(a, v)| Damage::Insert(a, v)),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(Damage::Append),
        prop_oneof![Just(0u64), Just(u64::MAX), 1u64..100_000, Just(1 << 40)]
            .prop_map(Damage::Length),
        any::<u8>().prop_map(Damage::Dims),
    ]
}

/// Applies the damage; `idx` chooses where a length lives.
fn apply(bytes: &mut Vec<u8>, damage: &Damage, idx: bool) {
    let pos = |f: f64, len: usize| ((f * len as f64) as usize).min(len.saturating_sub(1));
    match damage {
        Damage::Truncate(f) => bytes.truncate((f * bytes.len() as f64) as usize),
        Damage::Flip(f, bit) if !bytes.is_empty() => {
            let i = pos(*f, bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Damage::Set(f, v) if !bytes.is_empty() => {
            let i = pos(*f, bytes.len());
            bytes[i] = *v;
        }
        Damage::Insert(f, v) => {
            let i = pos(*f, bytes.len() + 1);
            bytes.splice(i..i, v.iter().copied());
        }
        Damage::Append(v) => bytes.extend_from_slice(v),
        Damage::Length(n) if idx && bytes.len() >= 8 => {
            bytes[4..8].copy_from_slice(&(*n as u32).to_be_bytes())
        }
        Damage::Length(n) if bytes.len() >= 8 => bytes[..8].copy_from_slice(&n.to_le_bytes()),
        Damage::Dims(d) if bytes.len() >= 4 => bytes[3] = *d,
        _ => {}
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// An error must name the file; a success must be self-consistent.
fn check_idx(result: vae::Result<Idx>) -> Result<(), TestCaseError> {
    match result {
        Err(e) => prop_assert!(e.to_string().contains("damaged-idx"), "{e}"),
        Ok(idx) => prop_assert_eq!(idx.dims.iter().product::<usize>(), idx.data.len()),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn damaged_idx_files_are_errors_naming_the_file(
        dims in prop::collection::vec(1usize..5, 1..4),
        damages in prop::collection::vec(damage(), 1..4),
        gzipped in any::<bool>(),
        damage_compressed in any::<bool>(),
    ) {
        let len: usize = dims.iter().product();
        let plain = encode(&dims, &(0..len).map(|i| i as u8).collect::<Vec<_>>());
        let mut bytes = plain.clone();
        if !(gzipped && damage_compressed) {
            for d in &damages { apply(&mut bytes, d, true); }
        }
        if gzipped {
            bytes = gzip(&bytes);
            if damage_compressed {
                for d in &damages { apply(&mut bytes, d, false); }
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged-idx");
        std::fs::write(&path, &bytes).unwrap();
        check_idx(read_idx(&path))?;
    }

    /// `.npy` files damaged anywhere, their header's shape rewritten to claim any size
    /// included: an error naming the file, or as many pixels as the file really holds.
    /// Never a panic, never an allocation from a size the file does not hold.
    #[test]
    fn damaged_npy_files_are_errors_naming_the_file_or_unchanged(
        (n, h, w) in (1usize..5, 1usize..5, 1usize..5),
        damages in prop::collection::vec(damage(), 0..3),
        claimed in prop::option::of((any::<u32>(), any::<u32>())),
        bytes_not_floats in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("damaged.npy");
        let values = |i: usize| (i % 7) as f32 / 7.0;
        if bytes_not_floats {
            let a = ndarray::Array3::<u8>::from_shape_fn((n, h, w), |(i, r, c)| (i + r + c) as u8);
            ndarray_npy::write_npy(&path, &a).unwrap();
        } else {
            let a = ndarray::Array3::<f32>::from_shape_fn((n, h, w), |(i, r, c)| values(i + r * c));
            ndarray_npy::write_npy(&path, &a).unwrap();
        }
        let original = load_npy(&path, None).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        if let Some((a, b)) = claimed {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let shape = format!("({n}, {h}, {w})");
            let lie = format!("({a}, {b}, {w})");
            if let Some(at) = text.find(&shape) {
                bytes.splice(at..at + shape.len(), lie.bytes());
            }
        }
        for d in &damages { apply(&mut bytes, d, false); }
        std::fs::write(&path, &bytes).unwrap();
        match load_npy(&path, None) {
            Err(e) => prop_assert!(e.to_string().contains("damaged.npy"), "{e}"),
            // A .npy has no checksum: a flipped bit in the data is another valid file.
            // What must hold is the shape the data really has.
            Ok(set) => prop_assert_eq!(set.len() * set.rows * set.cols, original.len() * h * w),
        }
    }

    #[test]
    fn damaged_checkpoints_and_states_are_errors_naming_the_file_or_unchanged(
        damages in prop::collection::vec(damage(), 1..3),
        is_state in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (path, model) = valid_file(dir.path(), is_state);
        let mut bytes = std::fs::read(&path).unwrap();
        let original = bytes.clone();
        for d in &damages { apply(&mut bytes, d, false); }
        std::fs::write(&path, &bytes).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        match load_model::<f32>(&path) {
            Err(e) => prop_assert!(e.to_string().contains(name), "{e}"),
            Ok(back) => prop_assert_eq!(&back.model.params, &model.params, "{:?}", damages),
        }
        if is_state {
            match state::load(&path) {
                Err(e) => prop_assert!(e.to_string().contains(name), "{e}"),
                Ok(back) => prop_assert_eq!(&back.model.params, &model.params),
            }
        }
        if bytes != original {
            // Damage that loads must have been to bytes that carry nothing (padding).
            if let Ok(back) = load_model::<f32>(&path) {
                prop_assert_eq!(back.model.config, model.config);
            }
        }
    }
}

/// A small model's weights file, or a training state of it.
fn valid_file(dir: &Path, is_state: bool) -> (std::path::PathBuf, Vae<f32>) {
    let settings = Settings {
        hidden: vec![5],
        latent: 2,
        activation: "tanh".into(),
        ..Settings::default()
    };
    let config = ModelConfig {
        input_dim: 6,
        hidden: vec![5],
        latent: 2,
        activation: Activation::Tanh,
        conv: None,
    };
    let model = Vae::<f32>::new(config, &mut rand::rngs::StdRng::seed_from_u64(9));
    if !is_state {
        let path = dir.join("checkpoint.safetensors");
        save_model(&path, &model, 1.0, None, None).unwrap();
        return (path, model);
    }
    let optimizer = optim::State {
        step: 3,
        tensors: model
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("m.{i}"), p.clone()))
            .collect(),
    };
    let record = RunRecord {
        epochs_done: 0,
        settings,
        data: vae::train::fingerprint::DataFingerprint {
            source: "data".into(),
            train_images: 1,
            test_images: 1,
            image_size: [2, 3],
            sha256: "0".repeat(64),
        },
        history: vec![],
    };
    let path = dir.join("state-epoch-0000.safetensors");
    state::save(&path, &model, &optimizer, &record).unwrap();
    (path, model)
}

#[test]
fn every_single_bit_flip_of_a_checkpoint_is_caught_or_harmless() {
    // Exhaustive over the file's bytes (one bit each): the damage the issue found loaded
    // silently in 160 of 160 trials inside tensor data.
    let dir = tempfile::tempdir().unwrap();
    let (path, model) = valid_file(dir.path(), false);
    let original = std::fs::read(&path).unwrap();
    let (mut caught, mut harmless) = (0, 0);
    for i in 0..original.len() {
        let mut bytes = original.clone();
        bytes[i] ^= 1 << (i % 8);
        std::fs::write(&path, &bytes).unwrap();
        match load_model::<f32>(&path) {
            Err(e) => {
                assert!(e.to_string().contains("checkpoint.safetensors"), "{e}");
                caught += 1;
            }
            Ok(back) => {
                assert_eq!(
                    back.model.params, model.params,
                    "byte {i} changed the numbers"
                );
                assert_eq!(back.beta, 1.0);
                harmless += 1;
            }
        }
    }
    assert!(
        caught > original.len() * 9 / 10,
        "{caught} caught, {harmless} harmless"
    );
}
