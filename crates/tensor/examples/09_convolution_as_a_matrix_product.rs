//! Lesson 9: a convolution three ways, all equal: as the loops of its definition, as one
//! matrix product (im2col), and through `conv2d`; then its gradient, by gradcheck.
//!
//! `cargo run -p tensor --example 09_convolution_as_a_matrix_product`
//!
//! A 4×4 image `x` and a 2×2 kernel `w`, stride 1, no padding: the output is 3×3, and each
//! output is the dot product of the kernel with the 2×2 window under it,
//!
//! ```text
//! y[i, j] = Σ_{a, b} w[a, b] · x[i + a, j + b]          (a cross-correlation, as PyTorch's)
//! ```
//! Write each window out as a column (im2col): `cols` is 4 × 9, one row per kernel entry
//! (a, b), one column per output position (i, j). Then the whole convolution is one matrix
//! product, `y = w_row · cols`, `[1, 4] · [4, 9] = [1, 9]`. That is how `ops/conv2d.rs`
//! computes it, on the GEMM: the loops above reuse nothing, the product runs at the
//! machine's peak.

use ndarray::{Array2, Array4};
use tensor::{gradcheck, Tape, Tensor};

/// The definition, as loops.
fn by_loops(x: &Array2<f64>, w: &Array2<f64>) -> Array2<f64> {
    let (k, out) = (w.nrows(), x.nrows() - w.nrows() + 1);
    Array2::from_shape_fn((out, out), |(i, j)| {
        let mut sum = 0.0;
        for a in 0..k {
            for b in 0..k {
                sum += w[[a, b]] * x[[i + a, j + b]];
            }
        }
        sum
    })
}

/// The windows as columns: `cols[(a, b), (i, j)] = x[i + a, j + b]`.
fn im2col(x: &Array2<f64>, k: usize) -> Array2<f64> {
    let out = x.nrows() - k + 1;
    Array2::from_shape_fn((k * k, out * out), |(row, col)| {
        let (a, b, i, j) = (row / k, row % k, col / out, col % out);
        x[[i + a, j + b]]
    })
}

fn main() {
    let x = Array2::from_shape_fn((4, 4), |(i, j)| (4 * i + j) as f64); // 0..16
    let w = ndarray::array![[1.0, -1.0], [0.5, 2.0]];

    let loops = by_loops(&x, &w);
    println!("by loops:\n{loops}");

    let cols = im2col(&x, 2);
    println!("im2col(x), one column per output position:\n{cols}");
    let w_row = w.clone().into_shape_with_order((1, 4)).unwrap();
    let product = w_row.dot(&cols).into_shape_with_order((3, 3)).unwrap();
    println!("w · cols, reshaped to 3×3:\n{product}");
    assert_eq!(product, loops, "the product is the loops");

    // The engine's op: NCHW, with a batch of 1 and one channel in and out.
    let tape = Tape::<f64>::new();
    let xv = tape.constant(
        &x.clone()
            .into_shape_with_order((1, 1, 4, 4))
            .unwrap()
            .into_dyn(),
    );
    let wv = tape.constant(
        &w.clone()
            .into_shape_with_order((1, 1, 2, 2))
            .unwrap()
            .into_dyn(),
    );
    let no_bias = tape.constant(&Tensor::zeros(vec![1]));
    let y = xv.conv2d(wv, no_bias, [1, 1], [0, 0], [1, 1]);
    let engine = y.to_tensor().into_shape_with_order((3, 3)).unwrap();
    println!("conv2d:\n{engine}");
    assert_eq!(
        engine,
        loops.into_dyn().into_shape_with_order((3, 3)).unwrap()
    );

    // Its gradient, for x, w and the bias together: the input's gradient is a transposed
    // convolution of the output's, the kernel's a correlation of x with it, the bias's a
    // sum. Central differences agree with all three.
    let inputs = [
        Array4::from_shape_fn((1, 1, 4, 4), |(_, _, i, j)| {
            ((i * 3 + j * 5) % 7) as f64 / 7.0
        })
        .into_dyn(),
        w.into_shape_with_order((1, 1, 2, 2)).unwrap().into_dyn(),
        Tensor::from_elem(vec![1], 0.25),
    ];
    let report = gradcheck::check(&inputs, |_tape, v| {
        v[0].conv2d(v[1], v[2], [1, 1], [0, 0], [1, 1]).tanh()
    });
    println!("tanh(conv2d(x, w) + b): {report}");
    assert!(report.passed());
}

#[test]
fn the_lesson_runs() {
    main()
}
