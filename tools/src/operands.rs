//! The operands of the matmul benchmarks, in the three layouts backprop uses (shared by
//! `benches/matmul.rs` and the `kernel_report` tool).

use ndarray::{Array2, ArrayView2};

/// How the operands are stored: `nn` plain, `nt` B stored `[n,k]` and read as Bᵀ
/// (forward of a linear layer), `tn` A stored `[k,m]` read as Aᵀ (weight gradients).
pub const LAYOUTS: [&str; 3] = ["nn", "nt", "tn"];

/// Deterministic `A` and `B` of an `m×k · k×n` product, stored as `layout` says.
pub fn operands(m: usize, k: usize, n: usize, layout: &str) -> (Array2<f32>, Array2<f32>) {
    let a = if layout == "tn" { (k, m) } else { (m, k) };
    let b = if layout == "nt" { (n, k) } else { (k, n) };
    let fill = |(i, j): (usize, usize)| ((i * 31 + j * 17) % 23) as f32 / 23.0 - 0.5;
    (
        Array2::from_shape_fn(a, fill),
        Array2::from_shape_fn(b, fill),
    )
}

/// The views of `A` and `B` that `layout` multiplies: transposed where it stores them so.
pub fn views<'a>(
    a: &'a Array2<f32>,
    b: &'a Array2<f32>,
    layout: &str,
) -> (ArrayView2<'a, f32>, ArrayView2<'a, f32>) {
    let a = if layout == "tn" { a.t() } else { a.view() };
    let b = if layout == "nt" { b.t() } else { b.view() };
    (a, b)
}
