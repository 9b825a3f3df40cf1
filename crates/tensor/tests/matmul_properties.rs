//! Properties of the matrix product the ops call (`speed::gemm::gemm` and `matmul`, on
//! the default path): it equals the textbook triple loop for random shapes, strides and
//! transposes, with α and β; f32 and f64 agree within f32 rounding; and results are
//! bit-identical run to run and whatever the split of the matrixmultiply path, whose
//! choice of split is checked too. (`gemm.rs` checks every path against matrixmultiply.)

use ndarray::{s, Array2, ArrayView2};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use tensor::speed::gemm::matrixmultiply::{gemm_with_plan, plan, Plan};
use tensor::speed::gemm::{gemm, matmul};
use tensor::Float;

/// The textbook triple loop, in f64 accumulation: the reference the kernel is tested against.
fn matmul_naive<T: Float>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>) -> Array2<T> {
    assert_eq!(a.ncols(), b.nrows(), "matmul_naive: inner dims differ");
    Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
        let s: f64 = (0..a.ncols())
            .map(|p| a[(i, p)].as_f64() * b[(p, j)].as_f64())
            .sum();
        T::of(s)
    })
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(tensor::gradcheck::cases_from_env(32))
}

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.gen_range(-1.0..1.0))
}

/// An operand stored in one of four ways: plain, transposed, every other column of a
/// wider array (non-unit stride), or transposed and strided. The view is `[rows, cols]`.
fn stored(rows: usize, cols: usize, layout: u8, seed: u64) -> Array2<f64> {
    match layout % 4 {
        0 => random(rows, cols, seed),
        1 => random(cols, rows, seed),
        2 => random(rows, 2 * cols, seed),
        _ => random(2 * cols, rows, seed),
    }
}

fn view(store: &Array2<f64>, layout: u8) -> ArrayView2<'_, f64> {
    match layout % 4 {
        0 => store.view(),
        1 => store.t(),
        2 => store.slice(s![.., ..;2]),
        _ => store.slice(s![..;2, ..]).reversed_axes(),
    }
}

/// Shapes from tiny to past the parallel threshold (2²⁰ flops).
fn dims() -> impl Strategy<Value = (usize, usize, usize)> {
    prop_oneof![
        (1usize..12, 1usize..12, 1usize..12),
        (40usize..140, 40usize..140, 40usize..140)
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn equals_the_triple_loop((m, k, n) in dims(), la in 0u8..4, lb in 0u8..4, seed in any::<u64>()) {
        let (a_store, b_store) = (stored(m, k, la, seed), stored(k, n, lb, seed ^ 1));
        let (a, b) = (view(&a_store, la), view(&b_store, lb));
        let fast = matmul(a, b);
        let slow = matmul_naive(a, b);
        for (x, y) in fast.iter().zip(slow.iter()) {
            // both sum k products of numbers below 1: rounding differs by ~k·ε
            prop_assert!((x - y).abs() <= 1e-13 * k as f64, "{x} vs {y} for {m}×{k}×{n}, layouts {la} {lb}");
        }
    }

    #[test]
    fn accumulates_with_alpha_and_beta((m, k, n) in dims(), seed in any::<u64>()) {
        let (a, b) = (random(m, k, seed), random(k, n, seed ^ 1));
        let mut c = random(m, n, seed ^ 2);
        let expected = &c * 0.5 + matmul_naive(a.view(), b.view()) * 2.0;
        gemm(2.0, a.view(), b.view(), 0.5, c.view_mut());
        for (x, y) in c.iter().zip(expected.iter()) {
            prop_assert!((x - y).abs() <= 1e-12 * k as f64);
        }
    }

    #[test]
    fn f32_agrees_with_f64_within_f32_rounding((m, k, n) in dims(), seed in any::<u64>()) {
        let (a, b) = (random(m, k, seed), random(k, n, seed ^ 1));
        let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
        let c64 = matmul(a32.mapv(f64::from).view(), b32.mapv(f64::from).view());
        let c32 = matmul(a32.view(), b32.view());
        // |error| ≤ k·ε₃₂·Σ|a||b| ≤ k·ε₃₂·k for entries below 1 (a loose, standard bound)
        let bound = (k * k) as f64 * f32::EPSILON as f64;
        for (x, y) in c32.iter().zip(c64.iter()) {
            prop_assert!((*x as f64 - y).abs() <= bound, "{x} vs {y}");
        }
    }

    #[test]
    fn bit_identical_across_runs_and_splits((m, k, n) in dims(), seed in any::<u64>()) {
        let (a, b) = (random(m, k, seed).mapv(|v| v as f32), random(k, n, seed ^ 1).mapv(|v| v as f32));
        let first = matmul(a.view(), b.view());
        prop_assert_eq!(&first, &matmul(a.view(), b.view()));
        for p in [Plan { axis: 0, blocks: 1 }, Plan { axis: 0, blocks: 3 }, Plan { axis: 1, blocks: 2 }, Plan { axis: 1, blocks: 5 }] {
            let mut c = Array2::zeros((m, n));
            gemm_with_plan(1.0, a.view(), b.view(), 0.0, c.view_mut(), p);
            prop_assert!(c.iter().zip(first.iter()).all(|(x, y)| x.to_bits() == y.to_bits()), "{p:?} differs");
        }
    }
}

#[test]
fn small_products_stay_on_one_thread_and_vae_shapes_split() {
    assert_eq!(plan(8, 8, 8, 2).blocks, 1);
    assert_eq!(plan(128, 784, 400, 1).blocks, 1);
    let p = plan(128, 784, 400, 2);
    assert_eq!(
        (p.axis, p.blocks),
        (1, 2),
        "columns: A is the cheaper operand to pack twice"
    );
    let p = plan(784, 128, 400, 2);
    assert_eq!((p.axis, p.blocks), (0, 2));
    let p = plan(128, 400, 20, 2);
    assert_eq!(
        (p.axis, p.blocks),
        (0, 2),
        "a 20-wide output is split by rows"
    );
}

#[test]
#[should_panic(expected = "matmul: shapes do not agree: [2, 3] · [4, 5]")]
fn mismatched_shapes_panic_with_both() {
    let (a, b) = (Array2::<f32>::zeros((2, 3)), Array2::<f32>::zeros((4, 5)));
    matmul(a.view(), b.view());
}
