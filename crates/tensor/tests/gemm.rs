//! Properties of our packed GEMM, on every path this CPU runs (AVX-512, AVX2+FMA,
//! portable), in f32 and f64, against matrixmultiply as the oracle: random shapes from 1
//! to past several tiles and `k` blocks (so every edge-tile size below the tile occurs),
//! operands plain, transposed, strided and offset by one element (unaligned), α and β,
//! bit-identical results on 1, 2 and 3 threads, and on the two AVX-512 tiles.

use ndarray::{s, Array2, ArrayView2};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use tensor::speed::gemm::matrixmultiply::gemm_matrixmultiply;
use tensor::speed::gemm::{gemm_blocked, gemm_on, Blocking, Path};
use tensor::Float;

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(tensor::gradcheck::cases_from_env(48))
}

fn random<T: Float>(rows: usize, cols: usize, seed: u64) -> Array2<T> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| T::of(rng.gen_range(-1.0..1.0)))
}

/// An operand `[rows, cols]` stored in one of five ways: plain, transposed, every other
/// column of a wider array, transposed and strided, or starting one element into its
/// buffer (so no row is aligned).
fn stored<T: Float>(rows: usize, cols: usize, layout: u8, seed: u64) -> Array2<T> {
    match layout % 5 {
        0 => random(rows, cols, seed),
        1 => random(cols, rows, seed),
        2 => random(rows, 2 * cols, seed),
        3 => random(2 * cols, rows, seed),
        _ => random(rows + 1, cols, seed),
    }
}

fn view<T: Float>(store: &Array2<T>, layout: u8) -> ArrayView2<'_, T> {
    match layout % 5 {
        0 => store.view(),
        1 => store.t(),
        2 => store.slice(s![.., ..;2]),
        3 => store.slice(s![..;2, ..]).reversed_axes(),
        _ => store.slice(s![1.., ..]),
    }
}

/// Shapes from one element to a few tiles each way, `k` past one block (256), and `B`'s
/// rows over 1 KiB apart under many row tiles (where a one-line sliver is packed).
fn dims() -> impl Strategy<Value = (usize, usize, usize)> {
    prop_oneof![
        (1usize..30, 1usize..20, 1usize..70),
        (20usize..140, 200usize..600, 20usize..140),
        (96usize..140, 128usize..300, 256usize..300)
    ]
}

/// Our kernel on `path` against matrixmultiply, for one element type.
#[allow(clippy::too_many_arguments)] // a test helper: one argument per property
fn check<T: Float>(
    path: Path,
    (m, k, n): (usize, usize, usize),
    la: u8,
    lb: u8,
    alpha: f64,
    beta: f64,
    seed: u64,
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let (a_store, b_store) = (stored::<T>(m, k, la, seed), stored::<T>(k, n, lb, seed ^ 1));
    let (a, b) = (view(&a_store, la), view(&b_store, lb));
    let c0 = random::<T>(m, n, seed ^ 2);
    let (mut ours, mut oracle) = (c0.clone(), c0);
    gemm_on(path, T::of(alpha), a, b, T::of(beta), ours.view_mut());
    gemm_matrixmultiply(T::of(alpha), a, b, T::of(beta), oracle.view_mut());
    for (((i, j), x), y) in ours.indexed_iter().zip(oracle.iter()) {
        let (x, y) = (x.as_f64(), y.as_f64());
        // both sum k products of numbers below 1, in different orders
        prop_assert!(
            (x - y).abs() <= tolerance * (k as f64 + 1.0),
            "{path:?} {}: C[{i},{j}] = {x} vs {y} for {m}×{k}×{n}, layouts {la} {lb}, α {alpha} β {beta}",
            T::NAME
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_path_agrees_with_matrixmultiply(
        dims in dims(), la in 0u8..5, lb in 0u8..5,
        alpha in prop_oneof![Just(1.0), -2.0..2.0], beta in prop_oneof![Just(0.0), Just(1.0), -2.0..2.0],
        seed in any::<u64>(),
    ) {
        for path in Path::available() {
            check::<f64>(path, dims, la, lb, alpha, beta, seed, 1e-14)?;
            check::<f32>(path, dims, la, lb, alpha, beta, seed, 1e-6)?;
        }
    }

    #[test]
    fn small_blocks_give_the_same_products(dims in dims(), kc in 1usize..40, mc in 1usize..60, seed in any::<u64>()) {
        // Tiny blocks exercise many k blocks and row blocks; the sums change order only
        // between blocks, so the results agree to rounding.
        let (m, k, n) = dims;
        let (a, b) = (random::<f64>(m, k, seed), random::<f64>(k, n, seed ^ 1));
        for path in Path::available() {
            let mut ours = Array2::zeros((m, n));
            gemm_blocked(path, Some(Blocking { kc, mc }), 1.0, a.view(), b.view(), 0.0, ours.view_mut());
            let oracle = a.dot(&b);
            for (x, y) in ours.iter().zip(oracle.iter()) {
                prop_assert!((x - y).abs() <= 1e-14 * k as f64, "{path:?}: {x} vs {y}, kc {kc} mc {mc}");
            }
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_avx512_tiles_agree_bit_for_bit(dims in dims(), la in 0u8..5, lb in 0u8..5, seed in any::<u64>()) {
        // Both tiles add each element's products in the order of p, so choosing one per
        // product (as `avx512` does on Intel cores) changes no bit.
        if Path::Avx512Tall.is_supported() {
            prop_assert!(same_bits::<f32>(dims, la, lb, seed) && same_bits::<f64>(dims, la, lb, seed));
        }
    }
}

/// Whether the three AVX-512 paths give the same bits for one product.
fn same_bits<T: Float>((m, k, n): (usize, usize, usize), la: u8, lb: u8, seed: u64) -> bool {
    let (a, b) = (stored::<T>(m, k, la, seed), stored::<T>(k, n, lb, seed ^ 1));
    let product = |path| {
        let mut c = Array2::<T>::zeros((m, n));
        gemm_on(
            path,
            T::one(),
            view(&a, la),
            view(&b, lb),
            T::zero(),
            c.view_mut(),
        );
        c
    };
    let tall = product(Path::Avx512Tall);
    [Path::Avx512Wide, Path::Avx512]
        .map(product)
        .iter()
        .all(|c| {
            c.iter()
                .zip(&tall)
                .all(|(x, y)| x.as_f64().to_bits() == y.as_f64().to_bits())
        })
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool")
}

#[test]
fn bit_identical_on_any_number_of_threads() {
    // Shapes past the parallel threshold, with edge tiles on both sides.
    for (m, k, n) in [
        (128, 784, 400),
        (131, 300, 77),
        (20, 784, 200),
        (400, 128, 784),
        (400, 300, 256), // B's rows 1 KiB apart: packed, and shared by both threads
        (300, 20, 400),  // k = 20: one block of rows, so the threads split the columns
    ] {
        let a = random::<f32>(m, k, 1);
        let a_columns = a.t().to_owned(); // the same A, stored column by column (Aᵀ·B)
        let b = random::<f32>(k, n, 2);
        for (path, a) in Path::available()
            .into_iter()
            .flat_map(|p| [(p, a.view()), (p, a_columns.t())])
        {
            let product = |threads: usize| {
                let mut c = Array2::<f32>::zeros((m, n));
                pool(threads).install(|| gemm_on(path, 1.0, a, b.view(), 0.0, c.view_mut()));
                c
            };
            let one = product(1);
            for threads in [2, 3] {
                let bits = |c: &Array2<f32>| c.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&one),
                    bits(&product(threads)),
                    "{path:?} {m}×{k}×{n} on {threads} threads"
                );
            }
        }
    }
}

#[test]
fn beta_zero_never_reads_c() {
    // With β = 0 the old contents of C are ignored, even NaN (as BLAS specifies).
    let (a, b) = (random::<f64>(30, 17, 3), random::<f64>(17, 45, 4));
    for path in Path::available() {
        let mut c = Array2::from_elem((30, 45), f64::NAN);
        gemm_on(path, 1.0, a.view(), b.view(), 0.0, c.view_mut());
        assert!(c.iter().all(|x| x.is_finite()), "{path:?} read C");
    }
}

#[test]
fn an_output_with_unusual_strides_is_filled_correctly() {
    // C transposed (column-major) and C every other column of a wider array.
    let (a, b) = (random::<f64>(13, 9, 5), random::<f64>(9, 21, 6));
    let expected = a.dot(&b);
    for path in Path::available() {
        let mut ct = Array2::<f64>::zeros((21, 13));
        gemm_on(
            path,
            1.0,
            a.view(),
            b.view(),
            0.0,
            ct.view_mut().reversed_axes(),
        );
        let mut wide = Array2::<f64>::ones((13, 42));
        gemm_on(
            path,
            1.0,
            a.view(),
            b.view(),
            0.0,
            wide.slice_mut(s![.., ..;2]),
        );
        for ((i, j), e) in expected.indexed_iter() {
            assert!((ct[[j, i]] - e).abs() < 1e-12, "{path:?} transposed C");
            assert!(
                (wide[[i, 2 * j]] - e).abs() < 1e-12 && wide[[i, 2 * j + 1]] == 1.0,
                "{path:?} strided C"
            );
        }
    }
}

#[test]
fn empty_and_k_zero_products() {
    for path in Path::available() {
        // k = 0: the product is zero, so C ← β·C.
        let mut c = Array2::<f64>::from_elem((3, 4), 2.0);
        gemm_on(
            path,
            1.0,
            Array2::zeros((3, 0)).view(),
            Array2::zeros((0, 4)).view(),
            0.5,
            c.view_mut(),
        );
        assert!(c.iter().all(|&x| x == 1.0), "{path:?}");
        let mut empty = Array2::<f64>::zeros((0, 4));
        gemm_on(
            path,
            1.0,
            Array2::zeros((0, 5)).view(),
            Array2::zeros((5, 4)).view(),
            0.0,
            empty.view_mut(),
        );
    }
}

#[test]
#[should_panic(expected = "matmul: shapes do not agree: [2, 3] · [4, 5]")]
fn mismatched_shapes_panic_with_both() {
    let mut c = Array2::<f64>::zeros((2, 5));
    gemm_on(
        Path::best(),
        1.0,
        Array2::zeros((2, 3)).view(),
        Array2::zeros((4, 5)).view(),
        0.0,
        c.view_mut(),
    );
}
