//! The conv model's keys in a weights file's metadata (those of the golden fixtures):
//! `arch` = `conv`, `image` (`"CxHxW"`), `channels` (a JSON list), `kernel`, `stride`,
//! `padding`; and, for whoever rebuilds the model elsewhere, `encoder_sizes` and
//! `output_padding` (written, not read: they follow from the others).
//!
//! A file without `arch` is an MLP unless it has `channels` (as a file written by the
//! fixture script, or by hand in PyTorch, may): then it is a conv model.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::conv_shape::ConvShape;

/// The metadata value of `arch` for the MLP and for the conv model.
pub const ARCH_MLP: &str = "mlp";
/// See [`ARCH_MLP`].
pub const ARCH_CONV: &str = "conv";

/// The metadata that describes `conv` (or the MLP, for `None`).
pub fn conv_metadata(conv: Option<&ConvShape>) -> Vec<(String, String)> {
    let Some(c) = conv else {
        return vec![("arch".into(), ARCH_MLP.into())];
    };
    let [ch, h, w] = c.image;
    let sizes = c.sizes().expect("a checked geometry");
    [
        ("arch", ARCH_CONV.to_string()),
        ("image", format!("{ch}x{h}x{w}")),
        ("channels", json(&c.channels)),
        ("kernel", c.kernel.to_string()),
        ("stride", c.stride.to_string()),
        ("padding", c.padding.to_string()),
        ("encoder_sizes", json(&sizes[1..].to_vec())),
        ("output_padding", json(&c.output_padding())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// The most values (channels × pixels) an image of a conv model may have.
pub const MAX_IMAGE_VALUES: usize = 1 << 24;

/// The conv geometry a file's metadata describes, `None` for an MLP; every problem names
/// the file, the key and its value.
pub fn parse_conv(path: &Path, metadata: &BTreeMap<String, String>) -> Result<Option<ConvShape>> {
    let arch = metadata.get("arch").map(String::as_str);
    match arch {
        Some(ARCH_MLP) => return Ok(None),
        None if !metadata.contains_key("channels") => return Ok(None),
        Some(ARCH_CONV) | None => {}
        Some(other) => {
            return Err(Error::invalid(
                path,
                format!("metadata 'arch' = '{other}': expected '{ARCH_MLP}' or '{ARCH_CONV}'"),
            ))
        }
    }
    let bad = |key: &str, value: &str, why: &str| {
        Error::invalid(path, format!("metadata '{key}' = '{value}': {why}"))
    };
    let text = |key: &str| -> Result<&str> {
        metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| Error::invalid(path, format!("metadata key '{key}' is missing")))
    };
    let number = |key: &str, least: usize| -> Result<usize> {
        let v = text(key)?;
        v.parse()
            .ok()
            .filter(|&n| n >= least)
            .ok_or_else(|| bad(key, v, &format!("expected an integer ≥ {least}")))
    };
    let image_text = text("image")?;
    let image: Vec<usize> = image_text
        .split('x')
        .map(|d| d.parse().ok().filter(|&n| n > 0))
        .collect::<Option<_>>()
        .filter(|d: &Vec<usize>| d.len() == 3)
        .ok_or_else(|| bad("image", image_text, "expected CxHxW, e.g. 1x28x28"))?;
    let values = image.iter().try_fold(1usize, |p, &d| p.checked_mul(d));
    if values.is_none_or(|v| v > MAX_IMAGE_VALUES) {
        return Err(bad(
            "image",
            image_text,
            &format!(
                "more than the {}M values an image may have",
                MAX_IMAGE_VALUES >> 20
            ),
        ));
    }
    let channels_text = text("channels")?;
    let channels: Vec<usize> = serde_json::from_str(channels_text)
        .ok()
        .filter(|c: &Vec<usize>| !c.is_empty() && !c.contains(&0))
        .ok_or_else(|| {
            bad(
                "channels",
                channels_text,
                "expected a JSON list of positive integers, e.g. [32,64]",
            )
        })?;
    let shape = ConvShape {
        image: [image[0], image[1], image[2]],
        channels,
        kernel: number("kernel", 1)?,
        stride: number("stride", 1)?,
        padding: number("padding", 0)?,
    };
    shape.sizes().map_err(|e| {
        Error::invalid(
            path,
            format!("metadata describes no usable conv model: {}", e.problem),
        )
    })?;
    Ok(Some(shape))
}

/// JSON text of plain data.
fn json<V: serde::Serialize>(value: &V) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}
