//! The latent-space subcommands through the `vae` program, on data the test builds: a
//! labelled folder of 6×10 PNGs (a 2-D latent space) and an unlabelled `.npy` of 8×8
//! images (a 3-D one, so the manifold and the map take principal directions).

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use image::{GrayImage, Luma};
use ndarray::{Array2, Array3};
use ndarray_npy::{read_npy, write_npy};
use support::{refused, s, vae};

fn ok(args: &[&str]) -> String {
    let (code, out, err) = vae(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

fn size(path: &Path) -> (u32, u32) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (img.width(), img.height())
}

/// Trains a small model on `data` and returns its checkpoint.
fn train(data: &Path, out: &Path, latent: &str) -> PathBuf {
    ok(&[
        "train",
        "--quiet",
        "--data",
        s(data),
        "--out",
        s(out),
        "--hidden",
        "16",
        "--latent",
        latent,
        "--epochs",
        "2",
        "--batch-size",
        "10",
        "--pictures-every",
        "1",
    ]);
    out.join("checkpoint.safetensors")
}

#[test]
fn every_tool_works_on_a_labelled_png_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pngs");
    for (label, name) in ["a", "b"].iter().enumerate() {
        fs::create_dir_all(data.join(name)).unwrap();
        for i in 0..12u32 {
            let img = GrayImage::from_fn(10, 6, |c, r| {
                Luma([((c * (label as u32 + 1) + r * i) * 20 % 256) as u8])
            });
            img.save(data.join(name).join(format!("{i}.png"))).unwrap();
        }
    }
    let checkpoint = train(&data, &dir.path().join("run"), "2");
    let c = s(&checkpoint);
    let out = |name: &str| dir.path().join(name);

    ok(&[
        "encode",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out("codes.csv")),
    ]);
    let csv = fs::read_to_string(out("codes.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "image,label,mu_0,mu_1,logvar_0,logvar_1");
    assert_eq!(lines.len(), 25, "a header and 24 images");
    assert!(
        lines[1].starts_with("0,a,") && lines[24].starts_with("23,b,"),
        "{csv}"
    );
    ok(&[
        "encode",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out("codes.npy")),
    ]);
    let codes: Array2<f32> = read_npy(out("codes.npy")).unwrap();
    let labels: ndarray::Array1<u8> = read_npy(out("codes_labels.npy")).unwrap();
    assert_eq!((codes.dim(), labels.len()), ((24, 4), 24));
    let first_mu: f32 = lines[1].split(',').nth(2).unwrap().parse().unwrap();
    assert_eq!(
        codes[(0, 0)],
        first_mu,
        "the .npy and the .csv hold the same codes"
    );

    // Interpolations: rows of 2 ends + steps cells of 11·5 by 7·5 pixels (pixels 5×5).
    ok(&[
        "interpolate",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--pair",
        "0,23",
        "--steps",
        "3",
        "--out",
        s(&out("i.png")),
    ]);
    assert_eq!(size(&out("i.png")), (5 * 55 + 5, 35 + 5));
    ok(&[
        "interpolate",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--random",
        "3",
        "--spherical",
        "--out",
        s(&out("j.png")),
    ]);
    assert_eq!(size(&out("j.png")), (10 * 55 + 5, 3 * 35 + 5));

    ok(&[
        "manifold",
        "--checkpoint",
        c,
        "--grid",
        "4",
        "--out",
        s(&out("m.png")),
    ]);
    assert_eq!(size(&out("m.png")), (4 * 55 + 5, 4 * 35 + 5));
    for map in ["map.png", "map.svg"] {
        ok(&[
            "latent-map",
            "--checkpoint",
            c,
            "--data",
            s(&data),
            "--out",
            s(&out(map)),
        ]);
    }
    assert_eq!(size(&out("map.png")), (760, 640));
    let svg = fs::read_to_string(out("map.svg")).unwrap();
    let texts: Vec<&str> = svg
        .split("</text>")
        .filter_map(|t| t.rsplit('>').next())
        .map(str::trim)
        .collect();
    assert!(
        svg.starts_with("<svg") && texts.contains(&"a") && texts.contains(&"b"),
        "a legend naming both labels: {texts:?}"
    );

    ok(&[
        "score",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--iw-samples",
        "5",
        "--out",
        s(&out("s.csv")),
        "--top",
        "3",
        "--top-out",
        s(&out("top.png")),
    ]);
    let scores = fs::read_to_string(out("s.csv")).unwrap();
    let nll: Vec<f64> = scores
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(nll.len(), 24);
    assert!(
        nll.windows(2).all(|w| w[0] >= w[1]) && nll.iter().all(|v| v.is_finite() && *v > 0.0),
        "{scores}"
    );
    assert_eq!(size(&out("top.png")), (3 * 55 + 5, 35 + 5));
}

#[test]
fn every_tool_works_on_an_unlabelled_npy_and_bad_requests_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("x.npy");
    write_npy(
        &data,
        &Array3::<f32>::from_shape_fn((30, 8, 8), |(i, r, c)| ((i + r * c) % 9) as f32 / 8.0),
    )
    .unwrap();
    let checkpoint = train(&data, &dir.path().join("run"), "3");
    let c = s(&checkpoint);
    let out = |name: &str| dir.path().join(name);
    ok(&[
        "encode",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out("e.csv")),
    ]);
    assert!(
        fs::read_to_string(out("e.csv"))
            .unwrap()
            .starts_with("image,mu_0,mu_1,mu_2,logvar_0"),
        "no label column"
    );
    ok(&[
        "manifold",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--grid",
        "3",
        "--out",
        s(&out("m.png")),
    ]);
    assert_eq!(size(&out("m.png")), (3 * 63 + 7, 3 * 63 + 7));
    ok(&[
        "latent-map",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out("map.png")),
    ]);
    ok(&[
        "score",
        "--checkpoint",
        c,
        "--data",
        s(&data),
        "--out",
        s(&out("s.csv")),
    ]);
    assert!(fs::read_to_string(out("s.csv"))
        .unwrap()
        .starts_with("rank,image,nll\n1,"));
    for run_file in [
        "report.html",
        "latent_map.png",
        "interpolation.png",
        "samples_epoch0002.png",
        "loss_curve.png",
    ] {
        assert!(
            dir.path().join("run").join(run_file).is_file(),
            "{run_file}"
        );
    }

    let d = s(&data);
    let with = |cmd: &'static str, extra: &[&'static str]| -> Vec<String> {
        [vec![cmd, "--checkpoint", c, "--data", d], extra.to_vec()]
            .concat()
            .iter()
            .map(|a| a.to_string())
            .collect()
    };
    let refuse = |args: Vec<String>, needles: &[&str]| {
        refused(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            needles,
        )
    };
    refuse(
        with("encode", &["--out", "codes.txt"]),
        &["--out", "codes.txt", ".npy or .csv"],
    );
    refuse(
        with("interpolate", &["--pair", "1,2,3"]),
        &["--pair: give two images"],
    );
    refuse(
        with("interpolate", &["--pair", "1,30"]),
        &["--pair: image 30 does not exist"],
    );
    refuse(with("interpolate", &[]), &["--pair", "--random"]);
    refuse(
        with("manifold", &["--grid", "0"]),
        &["--grid: must be 1 to 100"],
    );
    refuse(with("score", &["--iw-samples", "0"]), &["--iw-samples"]);
    refuse(
        with("score", &["--top", "0"]),
        &["--top: must be 1 to 4096, got 0"],
    );
    refuse(
        with("latent-map", &["--set", "test"]),
        &["--set", "has no test set"],
    );
}

/// A model trained on its own data (binarized) is evaluated and explored with
/// `--checkpoint` alone: the tools read the data and the binarization its checkpoint
/// records, saying so; `--data` and `--binarize false` override; data that cannot be
/// found from here is an error naming --data.
#[test]
fn the_tools_default_to_their_models_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("digits.npy");
    write_npy(
        &data,
        &Array3::<f32>::from_shape_fn((40, 8, 8), |(i, r, c)| ((i + r * c) % 9) as f32 / 8.0),
    )
    .unwrap();
    let run = dir.path().join("run");
    ok(&[
        "train",
        "--quiet",
        "--data",
        s(&data),
        "--out",
        s(&run),
        "--hidden",
        "16",
    ]
    .into_iter()
    .chain([
        "--latent",
        "2",
        "--epochs",
        "1",
        "--batch-size",
        "10",
        "--binarize",
    ])
    .collect::<Vec<_>>());
    let c = run.join("checkpoint.safetensors");
    let (code, out, err) = vae(&["eval", "--checkpoint", s(&c), "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("digits.npy, the data") && err.contains("binarizing"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["test_images"], 40, "all 40 images of the .npy: {out}");
    assert_eq!(json["binarized_with_seed"], 1);
    let (code, out, err) = vae(&[
        "eval",
        "--checkpoint",
        s(&c),
        "--json",
        "--binarize",
        "false",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        serde_json::from_str::<serde_json::Value>(out.trim()).unwrap()["binarized_with_seed"]
            .is_null()
    );
    let png = dir.path().join("i.png");
    ok(&[
        "interpolate",
        "--checkpoint",
        s(&c),
        "--pair",
        "0,1",
        "--out",
        s(&png),
    ]);
    // The recorded data moved away: named, with the flag that fixes it.
    fs::rename(&data, dir.path().join("moved.npy")).unwrap();
    refused(
        &["eval", "--checkpoint", s(&c)],
        &[
            "--data: not given",
            "digits.npy, which is not found from here",
        ],
    );
}
