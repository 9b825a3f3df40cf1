//! Pictures of what a model does: new images sampled from the prior, images over their
//! reconstructions, paths between two images' codes, and a grid over the latent space.

use std::path::Path;

use ndarray::Array2;
use rand::rngs::StdRng;

use crate::data::batch::Pixels;
use crate::data::dataset::Dataset;
use crate::error::{Error, Result};
use crate::model::vae::{normal_noise, Vae};
use crate::outputs::images::write_grid;
use crate::outputs::latent::path;
use ndarray::ArrayView2;

/// Writes `images` of `shape` in a grid of `columns`, each pixel drawn as a square
/// big enough that small images stay readable (2×2 for MNIST's 28×28, 7×7 for 8×8).
fn write_scaled(
    path: &Path,
    images: ArrayView2<'_, f32>,
    shape: (usize, usize),
    columns: usize,
) -> Result<()> {
    let scale = (56 / shape.0.max(shape.1)).clamp(1, 8);
    write_grid(path, images, shape, columns, scale)
}

/// Columns of the pictures' grids.
pub const GRID_COLUMNS: usize = 8;

/// `n` new images decoded from z ~ N(0, T²·I), in a grid of [`GRID_COLUMNS`] columns.
/// A temperature below 1 draws codes nearer the prior's mode: cleaner, less varied images.
pub fn write_samples(
    model: &Vae<f32>,
    shape: (usize, usize),
    (n, temperature): (usize, f64),
    path: &Path,
    rng: &mut StdRng,
) -> Result<()> {
    if n == 0 {
        return Err(Error::config("--n", "must be at least 1"));
    }
    if !(temperature >= 0.0 && temperature.is_finite()) {
        return Err(Error::config(
            "--temperature",
            format!("must be a number ≥ 0, got {temperature}"),
        ));
    }
    let z = normal_noise(n, model.config.latent, rng) * temperature as f32;
    write_scaled(
        path,
        model.decode_probabilities(z).view(),
        shape,
        GRID_COLUMNS.min(n),
    )
}

/// The images at `indices` (rows of up to [`GRID_COLUMNS`]), each row over the row of
/// their reconstructions (decoded from z = μ, the encoder's mean).
pub fn write_reconstructions(
    model: &Vae<f32>,
    data: &Dataset,
    indices: &[usize],
    path: &Path,
    rng: &mut StdRng,
) -> Result<()> {
    if let Some(&bad) = indices.iter().find(|&&i| i >= data.len()) {
        return Err(Error::config(
            "--indices",
            format!(
                "image {bad} does not exist: the set has {} images (0 to {})",
                data.len(),
                data.len().saturating_sub(1)
            ),
        ));
    }
    if indices.is_empty() {
        return Err(Error::config("--indices", "name at least one image"));
    }
    let x = data.batch(indices, Pixels::Scaled, rng);
    let (mu, _) = model.encode_batch(x.clone());
    let recon = model.decode_probabilities(mu);
    let columns = GRID_COLUMNS.min(indices.len());
    // Row pairs: `columns` images, then their reconstructions beneath (a last, shorter
    // pair is padded with blank cells so each reconstruction sits under its image).
    let pairs = indices.len().div_ceil(columns);
    let mut grid = Array2::<f32>::zeros((2 * pairs * columns, data.pixels()));
    for i in 0..indices.len() {
        let (pair, column) = (i / columns, i % columns);
        let top = 2 * pair * columns + column;
        grid.row_mut(top).assign(&x.row(i));
        grid.row_mut(top + columns).assign(&recon.row(i));
    }
    write_scaled(path, grid.view(), (data.rows, data.cols), columns)
}

/// The run folder's pictures: samples.png (64 images) and reconstructions.png (the first
/// 16 images of `held_out`).
pub fn write_pictures(
    model: &Vae<f32>,
    held_out: &Dataset,
    dir: &Path,
    rng: &mut StdRng,
) -> Result<()> {
    let shape = (held_out.rows, held_out.cols);
    write_samples(model, shape, (64, 1.0), &dir.join("samples.png"), rng)?;
    let first: Vec<usize> = (0..held_out.len().min(16)).collect();
    write_reconstructions(
        model,
        held_out,
        &first,
        &dir.join("reconstructions.png"),
        rng,
    )
}

/// One row per pair `(i, j)` of `data`: image i, `steps` images decoded along the path
/// between their latent means ([`path`]; straight, or `spherical`), image j.
pub fn write_interpolations(
    model: &Vae<f32>,
    data: &Dataset,
    pairs: &[(usize, usize)],
    (steps, spherical): (usize, bool),
    path_out: &Path,
) -> Result<()> {
    if steps == 0 {
        return Err(Error::config("--steps", "must be at least 1"));
    }
    let mut unused = rand::rngs::mock::StepRng::new(0, 0);
    let width = steps + 2;
    let mut grid = Array2::<f32>::zeros((pairs.len() * width, data.pixels()));
    for (row, &(i, j)) in pairs.iter().enumerate() {
        for k in [i, j] {
            if k >= data.len() {
                return Err(Error::config(
                    "--pair",
                    format!(
                        "image {k} does not exist: the set has {} images",
                        data.len()
                    ),
                ));
            }
        }
        let x = data.batch(&[i, j], Pixels::Scaled, &mut unused);
        let (mu, _) = model.encode_batch(x.clone());
        // The path's own ends are the codes of i and j; the originals stand at the ends instead.
        let codes = path(
            &mu.row(0).to_owned(),
            &mu.row(1).to_owned(),
            steps + 2,
            spherical,
        );
        let decoded = model.decode_probabilities(codes);
        let top = row * width;
        grid.row_mut(top).assign(&x.row(0));
        for s in 1..=steps {
            grid.row_mut(top + s).assign(&decoded.row(s));
        }
        grid.row_mut(top + width - 1).assign(&x.row(1));
    }
    write_scaled(path_out, grid.view(), (data.rows, data.cols), width)
}

/// The decoded images of `codes` (rows of a `g × g` grid, e.g. from
/// [`crate::outputs::latent::manifold_codes`]).
pub fn write_decoded_grid(
    model: &Vae<f32>,
    codes: Array2<f32>,
    shape: (usize, usize),
    columns: usize,
    path_out: &Path,
) -> Result<()> {
    write_scaled(
        path_out,
        model.decode_probabilities(codes).view(),
        shape,
        columns,
    )
}

/// The images of `data` at `indices`, as they are, in rows of [`GRID_COLUMNS`].
pub fn write_images(data: &Dataset, indices: &[usize], path_out: &Path) -> Result<()> {
    let mut unused = rand::rngs::mock::StepRng::new(0, 0);
    let x = data.batch(indices, Pixels::Scaled, &mut unused);
    write_scaled(
        path_out,
        x.view(),
        (data.rows, data.cols),
        GRID_COLUMNS.min(indices.len()).max(1),
    )
}
