//! One image file decoded as grey levels in [0, 1]: 8-bit images keep their bytes, deeper
//! ones (16-bit PNG) become floats; colour becomes luma (Rec. 709 weights). What the file
//! declares is checked before it is believed: its size before anything is decoded, and an
//! image whose drawing is only in its alpha channel (dropped here) is refused.

use std::path::Path;

use image::imageops::FilterType;
use image::{ColorType, DynamicImage, ImageDecoder, ImageReader};

use crate::data::dataset::Intensities;
use crate::error::{Error, Result};

/// Decoded images of one size, one after another: bytes when every one is 8-bit, floats
/// otherwise (so no precision is lost).
pub(super) fn stacked(decoded: &[Pixels]) -> Intensities {
    if decoded
        .iter()
        .all(|d| matches!(d.values, Intensities::Bytes(_)))
    {
        Intensities::Bytes(
            decoded
                .iter()
                .flat_map(|d| bytes(&d.values))
                .copied()
                .collect(),
        )
    } else {
        Intensities::Floats(
            decoded
                .iter()
                .flat_map(|d| (0..d.values.len()).map(|i| d.values.get(i)))
                .collect(),
        )
    }
}

fn bytes(values: &Intensities) -> &[u8] {
    match values {
        Intensities::Bytes(v) => v,
        Intensities::Floats(_) => &[],
    }
}

/// One decoded image.
pub(super) struct Pixels {
    /// (height, width).
    pub size: (usize, usize),
    /// The grey levels.
    pub values: Intensities,
}

/// The (height, width) an image file's header declares, read without decoding it, and
/// refused past [`MAX_IMAGE_PIXELS`]: a small file can claim 16000×16000 pixels (a
/// gigabyte once decoded).
pub(super) fn declared_size(path: &Path) -> Result<(usize, usize)> {
    Ok(checked_decoder(path)?.1)
}

/// The file's decoder, once its declared size is checked, and that size.
fn checked_decoder(path: &Path) -> Result<(impl ImageDecoder, (usize, usize))> {
    let decoder = open(path)?.into_decoder().map_err(|e| cannot(path, e))?;
    let (w, h) = decoder.dimensions();
    if (w as u64) * (h as u64) > MAX_IMAGE_PIXELS {
        return Err(Error::invalid(
            path,
            format!(
                "{h}×{w} pixels: more than the {}M pixels an image may have",
                MAX_IMAGE_PIXELS >> 20
            ),
        ));
    }
    Ok((decoder, (h as usize, w as usize)))
}

fn open(path: &Path) -> Result<ImageReader<std::io::BufReader<std::fs::File>>> {
    ImageReader::open(path)
        .map_err(|e| Error::io(path, e))?
        .with_guessed_format()
        .map_err(|e| Error::io(path, e))
}

fn cannot(path: &Path, e: image::ImageError) -> Error {
    Error::invalid(path, format!("cannot read the image: {e}"))
}

/// Decodes one image file as grey levels, resized to `size` (height, width) if given:
/// its declared size checked first, an image drawn only in its alpha channel refused.
pub(super) fn decode(path: &Path, size: Option<(usize, usize)>) -> Result<Pixels> {
    let (decoder, _) = checked_decoder(path)?;
    let image = DynamicImage::from_decoder(decoder).map_err(|e| cannot(path, e))?;
    drawn_in_alpha(path, &image)?;
    let eight_bit = matches!(
        image.color(),
        ColorType::L8 | ColorType::La8 | ColorType::Rgb8 | ColorType::Rgba8
    );
    let image = match size {
        Some((h, w)) if (image.height() as usize, image.width() as usize) != (h, w) => {
            image.resize_exact(w as u32, h as u32, FilterType::Triangle)
        }
        _ => image,
    };
    let size = (image.height() as usize, image.width() as usize);
    if size.0 == 0 || size.1 == 0 {
        return Err(Error::invalid(path, "the image is empty (0 pixels)"));
    }
    let values = if eight_bit {
        Intensities::Bytes(image.to_luma8().into_raw())
    } else {
        let floats = image.to_luma32f().into_raw();
        Intensities::Floats(floats.into_iter().map(|v| v.clamp(0.0, 1.0)).collect())
    };
    Ok(Pixels { size, values })
}

/// The most pixels one image may have (as `--image-size` allows).
pub const MAX_IMAGE_PIXELS: u64 = 1 << 24;

/// An image whose drawing is only in its alpha channel (colour channels all one value,
/// alpha varying) would read as one grey level once the alpha is dropped: the model would
/// train on nothing. Refused, naming the file.
fn drawn_in_alpha(path: &Path, image: &image::DynamicImage) -> Result<()> {
    if !image.color().has_alpha() {
        return Ok(());
    }
    let rgba = image.to_rgba16();
    let Some(first) = rgba.pixels().next().map(|p| p.0) else {
        return Ok(());
    };
    let colour_constant = rgba.pixels().all(|p| p.0[..3] == first[..3]);
    let alpha_varies = rgba.pixels().any(|p| p.0[3] != first[3]);
    if colour_constant && alpha_varies {
        return Err(Error::invalid(
            path,
            "its colour channels are all one value and the drawing is in its alpha channel, \
             which is dropped: every pixel would read the same. Save it with the drawing in \
             its grey levels (flattened onto a background)",
        ));
    }
    Ok(())
}

/// A PNG whose header claims `h × w` grey pixels, with four bytes of pixel data: it
/// cannot be decoded, so an error that is not a decoding error was found before.
#[cfg(test)]
pub(super) fn claiming_png(path: &Path, (h, w): (u32, u32)) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(file, w, h);
    encoder.set_color(png::ColorType::Grayscale);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_chunk(png::chunk::IDAT, &[0x78, 0x9c, 0x03, 0x00])
        .unwrap();
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn a_drawing_in_the_alpha_channel_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let mut image = RgbaImage::from_pixel(4, 4, Rgba([0, 0, 0, 0]));
        image.put_pixel(1, 2, Rgba([0, 0, 0, 255]));
        image.save(&path).unwrap();
        let e = decode(&path, None).err().unwrap().to_string();
        assert!(e.contains("a.png") && e.contains("alpha channel"), "{e}");
        // The same stroke in the colour channels, with alpha: read as it looks.
        image.put_pixel(1, 2, Rgba([255, 255, 255, 255]));
        image.save(&path).unwrap();
        assert!(decode(&path, None).is_ok());
    }

    #[test]
    fn a_declared_size_past_the_budget_is_refused_before_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.png");
        claiming_png(&path, (20_000, 20_000));
        assert!(std::fs::metadata(&path).unwrap().len() < 100);
        let e = decode(&path, None).err().unwrap().to_string();
        assert!(e.contains("20000×20000 pixels: more than the 16M"), "{e}");
    }
}
