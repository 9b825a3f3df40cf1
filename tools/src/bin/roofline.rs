//! The roofline picture of the matrix kernels: each product as a dot at its arithmetic
//! intensity (flops per byte of its three matrices) and its speed, under the two roofs of
//! this machine: the FMA peak (flat) and the memory bandwidth (sloped).
//!
//! ```sh
//! cargo run --release -p tools --features peers --bin kernel_report -- --json > target/kernel_report.jsonl
//! cargo run --release -p tools --bin roofline -- target/kernel_report.jsonl target/roofline
//! ```
//!
//! writes `target/roofline.svg` and `.png` (`just bench` does both). A dot far below the
//! flat roof at high intensity is time lost in the kernel, not in memory.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde_json::Value;
use vae::outputs::plots::{write_chart_png, write_chart_svg, PALETTE};

/// One measured product.
struct Dot {
    implementation: String,
    intensity: f64,
    gflops: f64,
}

/// The machine's roofs and every dot, from `kernel_report --json` lines.
fn read(path: &Path) -> Result<(f64, f64, f64, Vec<Dot>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut p256, mut p512, mut bandwidth, mut dots) = (0.0, 0.0, 0.0, Vec::new());
    for (n, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("{}:{}: {what}", path.display(), n + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| bad(&e.to_string()))?;
        if let Some(peak) = v["peak_gflops_512"].as_f64() {
            p512 = peak;
            p256 = v["peak_gflops_256"].as_f64().unwrap_or(0.0);
            bandwidth = v["bandwidth_gbs"]
                .as_f64()
                .ok_or_else(|| bad("no bandwidth_gbs"))?;
            continue;
        }
        let shape = v["shape"].as_str().ok_or_else(|| bad("no shape"))?;
        let dims: Vec<f64> = shape.split('x').filter_map(|d| d.parse().ok()).collect();
        let [m, k, n] = dims[..] else {
            return Err(bad("shape is not MxKxN"));
        };
        // f32: each of A, B and C read (and C written) once at best.
        let bytes = 4.0 * (m * k + k * n + 2.0 * m * n);
        dots.push(Dot {
            implementation: v["impl"].as_str().ok_or_else(|| bad("no impl"))?.to_owned(),
            intensity: 2.0 * m * k * n / bytes,
            gflops: v["gflops"].as_f64().ok_or_else(|| bad("no gflops"))?,
        });
    }
    if bandwidth == 0.0 || dots.is_empty() {
        return Err(format!(
            "{}: not the output of kernel_report --json",
            path.display()
        ));
    }
    Ok((p256, p512, bandwidth, dots))
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    (p256, p512, bandwidth, dots): &(f64, f64, f64, Vec<Dot>),
) -> Result<(), String> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| x.to_string();
    root.fill(&WHITE).map_err(e)?;
    let peak = p256.max(*p512);
    let x_max = dots.iter().map(|d| d.intensity).fold(1.0, f64::max) * 2.0;
    let mut chart = ChartBuilder::on(root)
        .caption("Roofline of the matrix kernels (f32)", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d((1.0..x_max).log_scale(), (5.0..peak * 1.5).log_scale())
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("arithmetic intensity (flop per byte)")
        .y_desc("GFLOP/s")
        .draw()
        .map_err(e)?;
    for (roof, label) in [(*p512, "512-bit FMA peak"), (*p256, "256-bit FMA peak")] {
        if roof > 0.0 {
            let line = (0..=200).map(|i| {
                let x = x_max.powf(i as f64 / 200.0);
                (x, roof.min(bandwidth * x))
            });
            chart
                .draw_series(LineSeries::new(line, BLACK.stroke_width(1)))
                .map_err(e)?
                .label(format!(
                    "{label}: {roof:.0} GFLOP/s, memory {bandwidth:.0} GB/s"
                ))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
        }
    }
    let mut names: Vec<&str> = dots.iter().map(|d| d.implementation.as_str()).collect();
    names.dedup();
    names.sort();
    names.dedup();
    for (i, name) in names.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points = dots.iter().filter(|d| d.implementation == *name);
        chart
            .draw_series(points.map(|d| Circle::new((d.intensity, d.gflops), 4, color.filled())))
            .map_err(e)?
            .label(name.to_string())
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(e)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, stem] = &args[..] else {
        eprintln!(
            "usage: roofline KERNEL_REPORT.jsonl OUTPUT_STEM  (writes OUTPUT_STEM.svg and .png)"
        );
        std::process::exit(2);
    };
    let data = read(Path::new(input)).unwrap_or_else(|e| {
        eprintln!("roofline: {e}");
        std::process::exit(1)
    });
    let stem = PathBuf::from(stem);
    let size = (900, 600);
    let written = write_chart_svg(&stem.with_extension("svg"), size, |root| draw(root, &data))
        .and_then(|_| write_chart_png(&stem.with_extension("png"), size, |root| draw(root, &data)));
    if let Err(e) = written {
        eprintln!("roofline: {e}");
        std::process::exit(1);
    }
    println!("wrote {} and .png", stem.with_extension("svg").display());
}
