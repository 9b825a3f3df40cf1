//! Grids of images as PNG.

use std::path::Path;

use ndarray::ArrayView2;

use crate::error::{Error, Result};
use crate::io::atomic::write_atomically;

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
    write_png(
        path,
        (width as u32, height as u32),
        png::ColorType::Grayscale,
        &pixels,
    )
}

/// Writes 8-bit `pixels` (row-major, `colour`'s channels each) as a PNG of `size`
/// (width, height): encoded in memory, then written atomically, so that a crash never
/// leaves half a picture.
pub fn write_png(
    path: &Path,
    size: (u32, u32),
    colour: png::ColorType,
    pixels: &[u8],
) -> Result<()> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, size.0, size.1);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    let cannot = |e: png::EncodingError| Error::invalid(path, format!("cannot write PNG: {e}"));
    let mut writer = encoder.write_header().map_err(cannot)?;
    writer.write_image_data(pixels).map_err(cannot)?;
    writer.finish().map_err(cannot)?;
    write_atomically(path, &bytes)
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
