//! Images in: where they come from, how they are kept, how they become batches.
//!
//! - [`source`] decides how `--data PATH` is read: an MNIST-style IDX folder
//!   ([`idx_folder`], over the file format in [`idx`]), a folder of PNG or JPEG images
//!   ([`image_folder`]) or a NumPy file ([`npy`]);
//! - [`dataset`] keeps the images as the source stored them, and [`batch`] turns them into
//!   model inputs, one shuffled batch at a time;
//! - [`split`] cuts `--limit` and holds part of a training set out for validation.

pub mod batch;
pub mod dataset;
pub mod idx;
pub mod idx_folder;
mod image_decode;
pub mod image_folder;
mod image_set;
pub mod npy;
pub mod source;
pub mod split;
