//! Helpers shared by the tests that run the `vae` binary.

use std::path::{Path, PathBuf};

use vae::data::{load_folder, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS};
use vae::idx::encode;

/// A folder of raw IDX files cut from the bundled MNIST: the first `train` training and
/// `test` test images, so that a run takes a fraction of a second.
pub fn mnist_slice(dir: &Path, train: usize, test: usize) -> PathBuf {
    let (all_train, all_test) =
        load_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/mnist"))
            .expect("bundled MNIST");
    std::fs::create_dir_all(dir).unwrap();
    for (set, n, images, labels) in [
        (&all_train, train, TRAIN_IMAGES, TRAIN_LABELS),
        (&all_test, test, TEST_IMAGES, TEST_LABELS),
    ] {
        let raw = |name: &str| dir.join(name.trim_end_matches(".gz"));
        std::fs::write(raw(images), encode(&[n, 28, 28], &set.images[..n * 784])).unwrap();
        std::fs::write(raw(labels), encode(&[n], &set.labels[..n])).unwrap();
    }
    dir.to_path_buf()
}
