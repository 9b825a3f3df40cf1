//! Pictures: grids of digits as PNG, and the loss curve as SVG.

use std::path::Path;

use ndarray::ArrayView2;

use crate::atomic::write_atomically;
use crate::metrics::EpochMetrics;
use crate::{Error, Result};

/// Writes images (`[n, rows·cols]`, values in [0, 1]) as a `grid_rows × grid_cols` PNG,
/// each pixel drawn `scale × scale`, with a 1-pixel gap (scaled) between images.
pub fn write_grid(
    path: &Path,
    images: ArrayView2<'_, f32>,
    (rows, cols): (usize, usize),
    grid_cols: usize,
    scale: usize,
) -> Result<()> {
    let n = images.nrows();
    let grid_rows = n.div_ceil(grid_cols.max(1)).max(1);
    let (cell_h, cell_w) = ((rows + 1) * scale, (cols + 1) * scale);
    let (height, width) = (grid_rows * cell_h + scale, grid_cols * cell_w + scale);
    let mut pixels = vec![64u8; width * height]; // dark grey gaps
    for (i, image) in images.rows().into_iter().enumerate() {
        let (top, left) = (
            (i / grid_cols) * cell_h + scale,
            (i % grid_cols) * cell_w + scale,
        );
        for r in 0..rows * scale {
            for c in 0..cols * scale {
                let v = image[(r / scale) * cols + c / scale].clamp(0.0, 1.0);
                pixels[(top + r) * width + left + c] = (v * 255.0).round() as u8;
            }
        }
    }
    // Encoded in memory, then written atomically: a crash never leaves half a picture.
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width as u32, height as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let cannot = |e: png::EncodingError| Error::invalid(path, format!("cannot write PNG: {e}"));
    let mut writer = encoder.write_header().map_err(cannot)?;
    writer.write_image_data(&pixels).map_err(cannot)?;
    writer.finish().map_err(cannot)?;
    write_atomically(path, &bytes)
}

/// Writes the training and test loss per epoch as an SVG line chart.
pub fn write_loss_curve(path: &Path, metrics: &[EpochMetrics]) -> Result<()> {
    let (w, h, margin) = (640.0, 400.0, 60.0);
    let series = [
        (
            "train",
            "#1f77b4",
            metrics.iter().map(|m| m.train_loss).collect::<Vec<_>>(),
        ),
        (
            "test",
            "#d62728",
            metrics.iter().map(|m| m.test_loss).collect(),
        ),
    ];
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.2.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    let (lo, hi) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if all.is_empty() {
        (0.0, 1.0)
    } else if hi - lo < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let n = metrics.len().max(2) as f64;
    let x = |i: usize| margin + (w - 2.0 * margin) * i as f64 / (n - 1.0);
    let y = |v: f64| h - margin - (h - 2.0 * margin) * (v - lo) / (hi - lo);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">Loss (negative ELBO, nats per image)</text>\n\
         <line x1=\"{margin}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n<line x1=\"{margin}\" y1=\"{margin}\" x2=\"{margin}\" y2=\"{}\" stroke=\"black\"/>\n",
        w / 2.0, h - margin, w - margin, h - margin, h - margin
    );
    for k in 0..=4 {
        let v = lo + (hi - lo) * k as f64 / 4.0;
        svg += &format!(
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1}</text>\n",
            margin - 6.0,
            y(v) + 4.0
        );
    }
    for (i, m) in metrics.iter().enumerate() {
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
            x(i),
            h - margin + 18.0,
            m.epoch
        );
    }
    svg += &format!(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch</text>\n",
        w / 2.0,
        h - 15.0
    );
    for (k, (name, color, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, &v)| format!("{:.1},{:.1}", x(i), y(v)))
            .collect();
        svg += &format!(
            "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\n",
            points.join(" ")
        );
        let ly = margin + 16.0 * k as f64;
        svg += &format!("<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"/><text x=\"{}\" y=\"{}\">{name}</text>\n", w - margin - 70.0, w - margin - 50.0, w - margin - 45.0, ly + 4.0);
    }
    svg += "</svg>\n";
    write_atomically(path, svg.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use std::fs::File;

    #[test]
    fn grid_has_the_expected_size_and_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.png");
        let mut images = Array2::<f32>::zeros((3, 4));
        images[(1, 0)] = 1.0;
        write_grid(&path, images.view(), (2, 2), 2, 1).unwrap();
        let decoder = png::Decoder::new(File::open(&path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (7, 7)); // 2 cells of 3 + 1 border
        assert_eq!(buf[7 + 4], 255); // image 1's first pixel at row 1, column 4
        assert_eq!(buf[7 + 1], 0); // image 0's first pixel
        assert_eq!(buf[0], 64); // a gap
    }
}
