//! Users' own data end to end, through the `vae` program: a folder of PNG images with
//! label subfolders (non-square), NumPy arrays of 8×8 images (uint8 and float32), each
//! trained on, evaluated, sampled and reconstructed; and the bad inputs of each.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use image::{GrayImage, Luma};
use ndarray::{Array2, Array3};
use ndarray_npy::write_npy;
use support::{mnist_slice, refused, s, tiny_run, vae, TINY};
use vae::model::checkpoint::load_model;
use vae::train::metrics::EpochMetrics;

/// A stripe pattern per label, with a little variation per image, so there is something
/// to learn.
fn pixel(label: usize, i: usize, r: usize, c: usize) -> u8 {
    let on = if label == 0 {
        r.is_multiple_of(3)
    } else {
        c.is_multiple_of(3)
    };
    if on {
        200 + (i % 50) as u8
    } else {
        (i * 7 % 40) as u8
    }
}

/// 30 images of 6×10 pixels, in `stripes/` and `bars/` subfolders.
fn png_folder(dir: &Path) -> PathBuf {
    for (label, name) in ["stripes", "bars"].iter().enumerate() {
        fs::create_dir_all(dir.join(name)).unwrap();
        for i in 0..15 {
            let img = GrayImage::from_fn(10, 6, |c, r| {
                Luma([pixel(label, i, r as usize, c as usize)])
            });
            img.save(dir.join(name).join(format!("{i:03}.png")))
                .unwrap();
        }
    }
    dir.to_path_buf()
}

fn history(run: &Path) -> Vec<EpochMetrics> {
    fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn png_size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap();
    (img.width(), img.height())
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = vae(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

#[test]
fn a_folder_of_non_square_pngs_trains_evaluates_samples_and_reconstructs() {
    let dir = tempfile::tempdir().unwrap();
    let data = png_folder(&dir.path().join("pngs"));
    let run = dir.path().join("run");
    let mut args = vec![
        "train",
        "--data",
        s(&data),
        "--out",
        s(&run),
        "--valid-fraction",
        "0.2",
        "--batch-size",
        "8",
    ];
    args.extend(TINY);
    ok(&args);
    let h = history(&run);
    assert_eq!(h.len(), 1);
    assert!(
        h[0].test_loss.is_none() && h[0].valid_loss.is_some_and(f64::is_finite),
        "{h:?}"
    );
    let checkpoint = run.join("checkpoint.safetensors");
    let loaded = load_model::<f32>(&checkpoint).unwrap();
    assert_eq!(
        (loaded.model.config.input_dim, loaded.image_size),
        (60, Some((6, 10)))
    );
    // The pictures follow the data's shape: each pixel a 5×5 square (56 / 10), cells of
    // (6+1)·5 by (10+1)·5 pixels, a 5-pixel border.
    assert_eq!(png_size(&run.join("samples.png")), (8 * 55 + 5, 8 * 35 + 5));

    let out = ok(&["eval", "--checkpoint", s(&checkpoint), "--data", s(&data)]);
    assert!(out.contains("test loss"), "{out}");
    let samples = dir.path().join("s.png");
    ok(&[
        "sample",
        "--checkpoint",
        s(&checkpoint),
        "--out",
        s(&samples),
        "--n",
        "3",
        "--temperature",
        "0.5",
    ]);
    assert_eq!(png_size(&samples), (3 * 55 + 5, 35 + 5));
    let recon = dir.path().join("r.png");
    ok(&[
        "reconstruct",
        "--checkpoint",
        s(&checkpoint),
        "--data",
        s(&data),
        "--indices",
        "0,29",
        "--out",
        s(&recon),
    ]);
    assert_eq!(
        png_size(&recon),
        (2 * 55 + 5, 2 * 35 + 5),
        "two images over two reconstructions"
    );
    refused(
        &[
            "eval",
            "--checkpoint",
            s(&checkpoint),
            "--data",
            s(&data),
            "--set",
            "test",
        ],
        &["--set", "has no test set"],
    );
}

#[test]
fn npy_arrays_of_8x8_images_train_as_uint8_and_as_float32() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = dir.path().join("digits.npy");
    let images = Array2::<u8>::from_shape_fn((40, 64), |(i, p)| pixel(i % 2, i, p / 8, p % 8));
    write_npy(&bytes, &images).unwrap();
    write_npy(
        dir.path().join("digits_labels.npy"),
        &ndarray::Array1::<i64>::from_shape_fn(40, |i| (i % 2) as i64),
    )
    .unwrap();
    let floats = dir.path().join("floats.npy");
    write_npy(
        &floats,
        &Array3::<f32>::from_shape_fn((40, 8, 8), |(i, r, c)| pixel(i % 2, i, r, c) as f32 / 255.0),
    )
    .unwrap();
    for (data, extra) in [
        (&bytes, vec!["--limit", "30", "--valid-fraction", "0.3"]),
        (&floats, vec![]),
    ] {
        let run = dir.path().join(data.file_stem().unwrap());
        let mut args = vec![
            "train",
            "--data",
            s(data),
            "--out",
            s(&run),
            "--batch-size",
            "10",
        ];
        args.extend(TINY);
        args.extend(extra.iter());
        ok(&args);
        let h = history(&run);
        assert!(
            h[0].train_loss.is_finite() && h[0].test_loss.is_none(),
            "{h:?}"
        );
        assert_eq!(h[0].valid_loss.is_some(), !extra.is_empty(), "{h:?}");
        let checkpoint = run.join("checkpoint.safetensors");
        assert_eq!(
            load_model::<f32>(&checkpoint).unwrap().image_size,
            Some((8, 8))
        );
        ok(&[
            "eval",
            "--checkpoint",
            s(&checkpoint),
            "--data",
            s(data),
            "--iw-samples",
            "10",
        ]);
        assert_eq!(
            png_size(&run.join("reconstructions.png")),
            (8 * 63 + 7, 4 * 63 + 7),
            "9 or 16 images: two pairs of rows of 8, pixels of 7×7"
        );
    }
}

#[test]
fn bad_own_data_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let with = |data: &Path| {
        let mut args = vec!["train", "--data", s(data), "--out", s(&run)];
        args.extend(TINY);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let call = |args: Vec<String>, needles: &[&str]| {
        refused(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            needles,
        )
    };
    let empty = dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    call(with(&empty), &["empty", "holds no PNG or JPEG images"]);

    let mixed = dir.path().join("mixed");
    fs::create_dir_all(&mixed).unwrap();
    GrayImage::new(8, 8).save(mixed.join("a.png")).unwrap();
    GrayImage::new(9, 8).save(mixed.join("b.png")).unwrap();
    call(
        with(&mixed),
        &["a.png is 8×8", "b.png is 8×9", "--image-size"],
    );

    let outside = dir.path().join("outside.npy");
    write_npy(&outside, &Array2::<f32>::from_elem((4, 4), 2.0)).unwrap();
    call(
        with(&outside),
        &["outside.npy", "16 values are outside [0, 1]"],
    );

    let text = dir.path().join("notes.txt");
    fs::write(&text, "hello").unwrap();
    call(with(&text), &["notes.txt", "not a data source"]);

    // A model of 8×8 images asked to score 6×10 ones.
    let eight = dir.path().join("eight.npy");
    write_npy(
        &eight,
        &Array2::<u8>::from_shape_fn((20, 64), |(i, p)| (i * p % 256) as u8),
    )
    .unwrap();
    let mut args = with(&eight);
    args.extend(["--batch-size".to_string(), "10".to_string()]);
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let pngs = png_folder(&dir.path().join("pngs"));
    let checkpoint = run.join("checkpoint.safetensors");
    refused(
        &["eval", "--checkpoint", s(&checkpoint), "--data", s(&pngs)],
        &[
            "checkpoint.safetensors",
            "takes 64 pixels per image",
            "6×10 = 60",
        ],
    );
}

/// A PNG of a few dozen bytes whose header claims `w × h` grey pixels (its data cannot be
/// decoded): what the program must refuse from the header.
fn claiming_png(path: &std::path::Path, w: u32, h: u32) {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        let len = (data.len() as u32).to_be_bytes();
        [&len[..], kind, data, &crc.sum().to_be_bytes()].concat()
    };
    let ihdr = [&w.to_be_bytes()[..], &h.to_be_bytes(), &[8, 0, 0, 0, 0]].concat();
    let bytes = [
        &b"\x89PNG\r\n\x1a\n"[..],
        &chunk(b"IHDR", &ihdr),
        &chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00]),
        &chunk(b"IEND", &[]),
    ]
    .concat();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// An image folder is checked from its files' headers before one image is decoded: the
/// model's size (also under `--image-size`), and the set's pixels in all; and a tool
/// reads only the set it needs (a broken training image costs `eval` nothing).
#[test]
fn image_folders_are_checked_from_their_headers() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 200, 100);
    let run = tiny_run(dir.path(), &data);
    let c = run.join("checkpoint.safetensors");
    let bombs = dir.path().join("bombs");
    for i in 0..17 {
        claiming_png(&bombs.join(format!("{i}.png")), 4096, 4096);
    }
    refused(
        &["eval", "--checkpoint", s(&c), "--data", s(&bombs)],
        &["takes 784 pixels per image", "have 4096×4096 = 16777216"],
    );
    refused(
        &[
            "train",
            "--data",
            s(&bombs),
            "--out",
            s(&dir.path().join("r")),
        ],
        &[
            "17 images of 4096×4096",
            "more than the 256M a set may hold",
        ],
    );
    let small = dir.path().join("small");
    claiming_png(&small.join("train/0/broken.png"), 28, 28);
    let digit = image::GrayImage::from_fn(28, 28, |x, y| image::Luma([(x * y) as u8]));
    std::fs::create_dir_all(small.join("test/0")).unwrap();
    digit.save(small.join("test/0/a.png")).unwrap();
    refused(
        &[
            "eval",
            "--checkpoint",
            s(&c),
            "--data",
            s(&small),
            "--image-size",
            "4096x4096",
        ],
        &["takes 784 pixels per image", "4096×4096"],
    );
    let (code, out, err) = vae(&["eval", "--checkpoint", s(&c), "--data", s(&small), "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"test_images\":1"), "{out}");
}
