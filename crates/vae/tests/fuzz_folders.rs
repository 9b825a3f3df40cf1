//! Fuzz-style properties of the two readers the training path does not exercise much:
//! image folders and the metadata of weights files made elsewhere.
//!
//! - **Image folders**: random layouts (flat, label subfolders, `train/` + `test/`) of
//!   random files — valid grey, colour, 16-bit and JPEG images of random sizes, images
//!   drawn only in their alpha channel, PNGs whose header claims up to 30000×30000
//!   pixels, garbage and empty files named `.png`, text files, hidden files, names with
//!   spaces, capitals and non-ASCII letters —, read with or without `--image-size`. A
//!   folder with any bad image in a set it reads is an error naming the folder or the
//!   file; a good one reads every image, at one size; never a panic, never a bomb decoded.
//! - **Metadata arithmetic**: a digest-less weights file (the documented PyTorch route)
//!   whose metadata keys are rewritten to random numbers, huge numbers (past `usize`, or
//!   whose products wrap), zeros, negatives and malformed lists: an error naming the
//!   file, or a model whose every tensor has the shape the metadata gives.
//!
//! `PROPTEST_CASES=N` tries more (`just fuzz`).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use image::{GrayImage, ImageBuffer, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use safetensors::tensor::{Dtype, TensorView};
use vae::data::image_folder::load_image_folder;
use vae::io::tensor_file::TensorFile;
use vae::model::checkpoint::{load_model, model_file};
use vae::model::config::ModelConfig;
use vae::model::conv_shape::ConvShape;
use vae::Vae;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(tensor::gradcheck::cases_from_env(128))
}

/// One file of a folder.
#[derive(Clone, Debug)]
enum File {
    Grey(u32, u32),
    Colour(u32, u32),
    Deep(u32, u32),
    Jpeg(u32, u32),
    /// Drawn only in the alpha channel: refused.
    AlphaOnly(u32, u32),
    /// A header claiming this many pixels, and no data to decode: refused.
    Bomb(u32, u32),
    /// Random bytes under an image's name: refused.
    Garbage(Vec<u8>),
    /// Not an image by its name: skipped.
    Text,
    /// A hidden file, however broken: not read.
    Hidden,
}

impl File {
    /// Whether a set holding it must be refused.
    fn is_bad(&self) -> bool {
        matches!(
            self,
            File::AlphaOnly(..) | File::Bomb(..) | File::Garbage(_)
        )
    }

    /// Whether it is read as an image.
    fn is_image(&self) -> bool {
        !matches!(self, File::Text | File::Hidden)
    }

    fn size(&self) -> Option<(u32, u32)> {
        match *self {
            File::Grey(h, w) | File::Colour(h, w) | File::Deep(h, w) | File::Jpeg(h, w) => {
                Some((h, w))
            }
            _ => None,
        }
    }
}

fn file() -> impl Strategy<Value = File> {
    let side = 1u32..9;
    let pair = (side.clone(), side);
    prop_oneof![
        4 => pair.clone().prop_map(|(h, w)| File::Grey(h, w)),
        1 => pair.clone().prop_map(|(h, w)| File::Colour(h, w)),
        1 => pair.clone().prop_map(|(h, w)| File::Deep(h, w)),
        1 => pair.clone().prop_map(|(h, w)| File::Jpeg(h, w)),
        1 => (1u32..6).prop_map(|h| File::AlphaOnly(h, 2)),
        1 => (prop_oneof![Just(4096u32), 1u32..30_000], 1u32..30_000)
            .prop_map(|(h, w)| File::Bomb(h, w)),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(File::Garbage),
        1 => Just(File::Text),
        1 => Just(File::Hidden),
    ]
}

const NAMES: [&str; 6] = ["a", "B C", "ü", "UPPER", "7", "x.y"];

/// Writes `f` into `dir` as its `i`-th file.
fn write(dir: &Path, i: usize, f: &File) {
    fs::create_dir_all(dir).unwrap();
    let stem = format!("{}{i}", NAMES[i % NAMES.len()]);
    let path = |ext: &str| dir.join(format!("{stem}.{ext}"));
    let grey = |h: u32, w: u32| GrayImage::from_fn(w, h, |x, y| Luma([(x * 31 + y * 7) as u8]));
    match *f {
        File::Grey(h, w) => grey(h, w).save(path("png")).unwrap(),
        File::Colour(h, w) => RgbImage::from_fn(w, h, |x, _| Rgb([(x * 40) as u8, 9, 200]))
            .save(path("PNG"))
            .unwrap(),
        File::Deep(h, w) => {
            let deep: ImageBuffer<Luma<u16>, Vec<u16>> =
                ImageBuffer::from_fn(w, h, |x, y| Luma([(x * 9000 + y * 77) as u16]));
            deep.save(path("png")).unwrap()
        }
        File::Jpeg(h, w) => grey(h, w).save(path("jpg")).unwrap(),
        File::AlphaOnly(h, w) => {
            RgbaImage::from_fn(w, h, |x, _| Rgba([0, 0, 0, if x == 0 { 0 } else { 255 }]))
                .save(path("png"))
                .unwrap()
        }
        File::Bomb(h, w) => claiming_png(&path("png"), w, h),
        File::Garbage(ref bytes) => fs::write(path("png"), bytes).unwrap(),
        File::Text => fs::write(path("txt"), "notes").unwrap(),
        File::Hidden => fs::write(dir.join(format!(".{stem}.png")), b"broken").unwrap(),
    }
}

/// A PNG of a few dozen bytes whose header claims `w × h` grey pixels.
fn claiming_png(path: &Path, w: u32, h: u32) {
    let file = fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, w, h);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_chunk(png::chunk::IDAT, &[0x78, 0x9c, 0x03, 0x00])
        .unwrap();
}

/// Where the files of a folder go: flat, in label subfolders, or in `train/` and `test/`
/// (each with label subfolders).
#[derive(Clone, Copy, Debug)]
enum Layout {
    Flat,
    Labels(usize),
    TrainTest(usize),
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Flat),
        (1usize..4).prop_map(Layout::Labels),
        (1usize..3).prop_map(Layout::TrainTest),
    ]
}

/// The sets of the folder at `root`: the folders their files were written to.
fn lay_out(root: &Path, layout: Layout, files: &[File]) -> Vec<Vec<(PathBuf, File)>> {
    let label = |set: &Path, i: usize, n: usize| set.join(format!("label {}", NAMES[i % n]));
    let placed: Vec<(PathBuf, File)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let dir = match layout {
                Layout::Flat => root.to_path_buf(),
                Layout::Labels(n) => label(root, i, n),
                Layout::TrainTest(n) if i % 2 == 0 => label(&root.join("train"), i / 2, n),
                Layout::TrainTest(n) => label(&root.join("test"), i / 2, n),
            };
            write(&dir, i, f);
            (dir, f.clone())
        })
        .collect();
    match layout {
        Layout::TrainTest(_) => {
            let (train, test) = placed
                .into_iter()
                .enumerate()
                .partition(|(i, _)| i % 2 == 0);
            let strip = |v: Vec<(usize, (PathBuf, File))>| v.into_iter().map(|(_, p)| p).collect();
            vec![strip(train), strip(test)]
        }
        _ => vec![placed],
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn image_folders_are_read_whole_or_refused_by_name(
        layout in layout(),
        files in prop::collection::vec(file(), 2..9),
        resize in prop_oneof![
            3 => Just(None),
            1 => (1usize..12, 1usize..12).prop_map(Some),
            1 => Just(Some((64, 48))),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("my images");
        let sets = lay_out(&root, layout, &files);
        let result = load_image_folder(&root, resize);
        let images = |set: &Vec<(PathBuf, File)>| set.iter().filter(|(_, f)| f.is_image()).count();
        let sizes = |set: &Vec<(PathBuf, File)>| {
            let mut s: Vec<_> = set.iter().filter_map(|(_, f)| f.size()).collect();
            s.dedup();
            s
        };
        let must_fail = sets.iter().any(|set| {
            images(set) == 0
                || set.iter().any(|(_, f)| f.is_bad())
                || (resize.is_none() && sizes(set).len() > 1)
        });
        match result {
            Err(e) => {
                let e = e.to_string();
                prop_assert!(e.contains("my images"), "the folder or a file in it is named: {e}");
                prop_assert!(!e.contains("memory"), "{e}");
            }
            Ok((train, test)) => {
                prop_assert!(!must_fail, "{files:?} in {layout:?} was read: {:?}", (train.len(), train.rows, train.cols));
                let read: Vec<_> = std::iter::once(&train).chain(test.as_ref()).collect();
                prop_assert_eq!(read.len(), sets.len());
                for (set, files) in read.iter().zip(&sets) {
                    prop_assert_eq!(set.len(), images(files), "every image is read");
                    prop_assert_eq!(set.images.len(), set.len() * set.rows * set.cols);
                    if let Some((h, w)) = resize {
                        prop_assert_eq!((set.rows, set.cols), (h, w));
                    }
                }
            }
        }
    }

    #[test]
    fn a_foreign_files_metadata_is_checked_with_no_arithmetic_that_wraps(
        conv in any::<bool>(),
        key in 0usize..12,
        value in metadata_value(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("foreign.safetensors");
        let mut file = model_file(&small_model(conv), 1.0, Some((4, 6)), None);
        const KEYS: [&str; 12] = [
            "input_dim", "hidden", "latent", "image_size", "image", "channels", "kernel",
            "stride", "padding", "activation", "beta", "arch",
        ];
        file.metadata.remove("format"); // made elsewhere: no format, no digests
        file.metadata.insert(KEYS[key].into(), value.clone());
        fs::write(&path, without_digests(&file)).unwrap();
        match load_model::<f32>(&path) {
            Err(e) => prop_assert!(e.to_string().contains("foreign.safetensors"), "{e}"),
            Ok(back) => {
                let shapes = back.model.config.param_shapes();
                prop_assert_eq!(shapes.len(), back.model.params.len());
                for ((_, shape), p) in shapes.iter().zip(&back.model.params) {
                    prop_assert_eq!(p.shape(), shape.as_slice());
                }
                if let Some((h, w)) = back.image_size {
                    prop_assert_eq!(h.checked_mul(w), Some(back.model.config.input_dim));
                }
            }
        }
    }
}

/// A metadata value: small and large numbers, numbers past `usize` or whose product
/// wraps, negatives, lists of them, and malformed text.
fn metadata_value() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        0u64..10,
        Just(24),
        Just(1 << 32),
        Just((1 << 60) + 49),
        Just(u64::MAX),
    ];
    prop_oneof![
        number.clone().prop_map(|n| n.to_string()),
        (number.clone(), number.clone()).prop_map(|(a, b)| format!("[{a},{b}]")),
        (number.clone(), number.clone(), number).prop_map(|(a, b, c)| format!("{a}x{b}x{c}")),
        Just("-1".to_string()),
        Just("[".to_string()),
        Just("1e400".to_string()),
        Just("conv".to_string()),
        Just("18446744073709551616".to_string()),
    ]
}

/// A small MLP or conv model of 4×6 images.
fn small_model(conv: bool) -> Vae<f32> {
    let config = if conv {
        ModelConfig {
            input_dim: 24,
            hidden: vec![5],
            latent: 2,
            activation: "relu".parse().unwrap(),
            conv: Some(ConvShape {
                image: [1, 4, 6],
                channels: vec![2, 3],
                kernel: 2,
                stride: 2,
                padding: 1,
            }),
        }
    } else {
        ModelConfig {
            input_dim: 24,
            hidden: vec![5],
            latent: 2,
            activation: "tanh".parse().unwrap(),
            conv: None,
        }
    };
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
    Vae::new(config, &mut rng)
}

/// The file's bytes as PyTorch's `save_file` writes them: its tensors and metadata, no
/// digests.
fn without_digests(file: &TensorFile<f32>) -> Vec<u8> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = file
        .tensors
        .iter()
        .map(|(name, t)| {
            let data = t.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), t.shape().to_vec(), data)
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = bytes
        .iter()
        .map(|(name, shape, data)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), data).unwrap();
            (name.clone(), view)
        })
        .collect();
    let metadata: HashMap<String, String> = file.metadata.clone().into_iter().collect();
    safetensors::serialize(views, &Some(metadata)).unwrap()
}
