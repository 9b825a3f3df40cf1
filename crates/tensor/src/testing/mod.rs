//! Test helpers: proptest strategies for shapes and values, and the one-line
//! gradient-check assertion every op's property test ends with. Our op files use them,
//! and so can yours (feature `testing`): a property test of your own op is a few lines.
//!
//! ```text
//! use proptest::prelude::*;
//! use tensor::testing::{assert_gradcheck, config, tensor};
//!
//! proptest! {
//!     #![proptest_config(config())]
//!     #[test]
//!     fn tanh_times_x_has_the_right_gradient(x in tensor(-2.0, 2.0)) {
//!         assert_gradcheck(&[x], |_tape, v| v[0].tanh() * v[0])?;
//!     }
//! }
//! ```
//!
//! (`tests/custom_op.rs` in the repository is such a test, for an op defined outside
//! the engine.)

use ndarray::IxDyn;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use crate::gradcheck;
use crate::{Tape, Tensor, Var};

mod builtin_ops;
mod programs;

pub use builtin_ops::builtin_ops;
pub use programs::{assert_program_gradcheck, program, run, Instruction, Program, ProgramOp};

/// Proptest settings: `PROPTEST_CASES` when set (`just gradcheck` sets 2000), else a
/// number that keeps the default test run fast.
pub fn config() -> ProptestConfig {
    ProptestConfig::with_cases(gradcheck::cases_from_env(48))
}

/// Shapes of rank 1 to 3 with dims 1 to 4 (so size-1 dims are common).
pub fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=4, 1..=3)
}

/// Values in `lo..hi` for a given shape.
pub fn values(shape: Vec<usize>, lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    let len = shape.iter().product::<usize>();
    prop::collection::vec(lo..hi, len)
        .prop_map(move |v| Tensor::from_shape_vec(IxDyn(&shape), v).expect("len matches"))
}

/// A tensor of random shape with values in `lo..hi`.
pub fn tensor(lo: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    shape().prop_flat_map(move |s| values(s, lo, hi))
}

/// A tensor with values in `±(margin..hi)`: away from a kink at 0 (relu, leaky_relu).
pub fn away_from_zero(margin: f64, hi: f64) -> impl Strategy<Value = Tensor<f64>> {
    (tensor(margin, hi), any::<u64>()).prop_map(|(t, bits)| {
        let mut i = 0;
        t.mapv(|v| {
            i += 1;
            if (bits >> (i % 64)) & 1 == 1 {
                -v
            } else {
                v
            }
        })
    })
}

/// Two shapes that broadcast together numpy-style: the second is the first with some
/// dims set to 1 and possibly leading dims dropped; the pair is returned in random order.
pub fn broadcast_shapes() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    (shape(), any::<u8>(), 0usize..=2, any::<bool>()).prop_map(|(full, ones, drop, swap)| {
        let mut small: Vec<usize> = full
            .iter()
            .enumerate()
            .map(|(i, &d)| if (ones >> i) & 1 == 1 { 1 } else { d })
            .collect();
        let drop = drop.min(small.len() - 1);
        small.drain(..drop);
        if swap {
            (small, full)
        } else {
            (full, small)
        }
    })
}

/// Two broadcast-compatible tensors with values in `lo..hi`.
pub fn broadcast_pair(lo: f64, hi: f64) -> impl Strategy<Value = (Tensor<f64>, Tensor<f64>)> {
    broadcast_shapes().prop_flat_map(move |(a, b)| (values(a, lo, hi), values(b, lo, hi)))
}

/// Asserts that `f` passes a gradient check at `inputs` (inside a proptest).
pub fn assert_gradcheck<F>(inputs: &[Tensor<f64>], f: F) -> Result<(), TestCaseError>
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
{
    let report = gradcheck::check(inputs, f);
    prop_assert!(report.passed(), "{report}");
    Ok(())
}

/// `|a − b| ≤ tol` elementwise, with a message naming the first difference.
pub fn assert_close(actual: &Tensor<f64>, expected: &Tensor<f64>, tol: f64) {
    assert_eq!(actual.shape(), expected.shape(), "shapes differ");
    for (i, (a, e)) in actual.iter().zip(expected.iter()).enumerate() {
        assert!((a - e).abs() <= tol, "element {i}: {a} vs expected {e}");
    }
}

/// A tensor of `shape` with values in [−1, 1) from a seeded RNG (for shapes built from
/// strategy integers rather than drawn whole).
pub fn seeded(shape: &[usize], seed: u64) -> Tensor<f64> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Tensor::from_shape_fn(IxDyn(shape), |_| rng.gen_range(-1.0..1.0))
}

/// The message `f` panics with (a shape check's, say), or a failed test if it does not
/// panic: `assert!(panic_message(|| { x.conv2d(…); }).starts_with("conv2d: "))`.
pub fn panic_message(f: impl FnOnce()) -> String {
    let panic =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("expected a panic");
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
