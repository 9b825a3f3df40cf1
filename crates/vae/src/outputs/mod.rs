//! What a model makes for people to look at or take elsewhere.
//!
//! - [`images`]: grids of images as PNG;
//! - [`pictures`]: samples, reconstructions, interpolations and the manifold grid;
//! - [`latent`]: the latent space as a tool: codes, paths, the principal plane, the map;
//! - [`plots`]: charts (the loss curves, the latent map) as PNG and SVG;
//! - [`exports`]: tables for other tools: codes as NumPy or CSV, scores as CSV.

pub mod exports;
pub mod images;
pub mod latent;
pub mod pictures;
pub mod plots;
