//! Gradient checking: the analytic gradient from [`Tape::backward`] against central
//! finite differences, in `f64`.
//!
//! The function under test may return any shape. It is reduced to a scalar with **fixed
//! random weights**, `L = Σᵢ wᵢ·f(x)ᵢ` with `wᵢ ~ U(−1, 1)`: a plain sum would hide a
//! transposed or sign-flipped gradient whenever the errors cancel (∂Σ/∂x treats every
//! output alike), random weights do not. The analytic side is one reverse sweep seeded
//! with `w` ([`Tape::backward_with`]).
//!
//! - Small inputs (≤ [`Config::max_full`] elements in all): every element is perturbed,
//!   `∂L/∂xⱼ ≈ (L(x + h·eⱼ) − L(x − h·eⱼ)) / 2h`.
//! - Large inputs: [`Config::directions`] random unit directions `v` over all inputs at
//!   once, `⟨∇L, v⟩ ≈ (L(x + h·v) − L(x − h·v)) / 2h`: two forward passes per direction,
//!   whatever the size.
//!
//! ## Tolerances, and why
//! Central differences have truncation error `h²·|f‴|/6` and rounding error about
//! `ε·|L|/h` with `ε ≈ 1.1e-16` in f64. With `h = 1e-5` both are near 1e-10 for O(1)
//! values, so a correct rule on a smooth op shows relative errors around 1e-9 to 1e-11.
//! We pass a check when `|analytic − numeric| ≤ atol + rtol·|numeric|` with
//! `atol = 1e-7`, `rtol = 1e-6`: three orders of magnitude of headroom over the noise,
//! and still far below any real mistake (a wrong factor of 2, a missed term, a
//! transposition), which shows up at 1e-2 or worse. Inputs must stay away from kinks
//! (relu at 0) by more than `h`, and inside the domain (positive for log and sqrt).
//!
//! Where `|f‴|` is large (a power of a power of a power, in a random composition) the
//! truncation error alone can pass the tolerance. A probe that fails is therefore measured
//! again by Richardson extrapolation, `(4·D(h/2) − D(h)) / 3`, which cancels the `h²`
//! term: a correct rule then agrees to the noise, a wrong one still misses by its 1e-2.

use std::fmt;

use ndarray::IxDyn;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Tape, Tensor, Var};

/// Settings of a gradient check. `Config::default()` is right for smooth ops in f64.
#[derive(Clone, Debug)]
pub struct Config {
    /// Finite-difference step.
    pub h: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (to the numeric derivative's magnitude).
    pub rtol: f64,
    /// Check every element when the inputs hold at most this many elements in all.
    pub max_full: usize,
    /// Random directions to check otherwise.
    pub directions: usize,
    /// Seed of the reduction weights and the directions.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            h: 1e-5,
            atol: 1e-7,
            rtol: 1e-6,
            max_full: 400,
            directions: 16,
            seed: 0x5eed,
        }
    }
}

/// Where a derivative was probed.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    /// Element `index` of input `input`.
    Element {
        /// Which input.
        input: usize,
        /// Multi-index of the element.
        index: Vec<usize>,
    },
    /// The `n`-th random direction.
    Direction(usize),
}

/// The outcome of a check: the worst errors, where, and how many probes failed.
#[derive(Clone, Debug)]
pub struct Report {
    /// Largest `|analytic − numeric|`.
    pub max_abs_error: f64,
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)`.
    pub max_rel_error: f64,
    /// The probe closest to (or furthest past) the tolerance, with both values.
    pub worst: Option<(Probe, f64, f64)>,
    /// Number of derivatives compared.
    pub probes: usize,
    /// Number outside the tolerance.
    pub failures: usize,
}

impl Report {
    /// True when every probe was within tolerance.
    pub fn passed(&self) -> bool {
        self.failures == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} derivatives outside tolerance; max abs error {:.3e}, max rel error {:.3e}",
            self.failures, self.probes, self.max_abs_error, self.max_rel_error
        )?;
        if let Some((probe, analytic, numeric)) = &self.worst {
            write!(
                f,
                "; worst at {probe:?}: analytic {analytic:.12e}, numeric {numeric:.12e}"
            )?;
        }
        Ok(())
    }
}

/// Checks `f`'s gradients at `inputs` with the default [`Config`].
///
/// ```
/// use tensor::gradcheck;
/// use ndarray::array;
///
/// let x = array![[0.5, -1.0], [2.0, 0.25]].into_dyn();
/// let report = gradcheck::check(&[x], |_tape, v| v[0].tanh() * v[0]);
/// assert!(report.passed(), "{report}");
/// ```
pub fn check<F>(inputs: &[Tensor<f64>], f: F) -> Report
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
{
    check_with(inputs, f, &Config::default())
}

/// Checks `f`'s gradients at `inputs` with the given settings: the analytic gradient of
/// `L = Σ w ⊙ f(x)`, then every element or random directions by central differences.
pub fn check_with<F>(inputs: &[Tensor<f64>], f: F, config: &Config) -> Report
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
{
    let mut rng = StdRng::seed_from_u64(config.seed);
    let (analytic, weights) = analytic_gradients(inputs, &f, &mut rng);
    // The numeric side: L = Σ w ⊙ f(x), evaluated without recording derivatives.
    let loss = |xs: &[Tensor<f64>]| -> f64 {
        let tape = Tape::no_grad();
        let vars: Vec<_> = xs.iter().map(|x| tape.constant(x)).collect();
        let out = f(&tape, &vars);
        let out = out.value();
        assert_eq!(
            out.shape(),
            weights.shape(),
            "gradcheck: f's output shape changed between calls"
        );
        out.iter().zip(weights.iter()).map(|(y, w)| y * w).sum()
    };

    let mut report = Report {
        max_abs_error: 0.0,
        max_rel_error: 0.0,
        worst: None,
        probes: 0,
        failures: 0,
    };
    // A failure is `|a − n| > atol + rtol·|n|` (or NaN); the worst probe is the one with
    // the largest ratio of its error to its tolerance.
    let mut worst_excess = f64::NEG_INFINITY;
    let mut record = |probe: Probe, a: f64, n: f64| {
        let abs = (a - n).abs();
        let scale = a.abs().max(n.abs());
        let rel = if scale > 0.0 { abs / scale } else { 0.0 };
        let excess = abs / (config.atol + config.rtol * n.abs());
        report.probes += 1;
        report.max_abs_error = report.max_abs_error.max(abs);
        report.max_rel_error = report.max_rel_error.max(rel);
        if excess.is_nan() || excess > 1.0 {
            report.failures += 1;
        }
        if excess > worst_excess || excess.is_nan() {
            worst_excess = if excess.is_nan() {
                f64::INFINITY
            } else {
                excess
            };
            report.worst = Some((probe, a, n));
        }
    };

    let total: usize = inputs.iter().map(|x| x.len()).sum();
    let within = |a: f64, n: f64| (a - n).abs() <= config.atol + config.rtol * n.abs();
    if total <= config.max_full {
        every_element(inputs, &analytic, loss, config.h, &within, &mut record);
    } else {
        let (h, n) = (config.h, config.directions);
        let probes: (f64, usize, &dyn Fn(f64, f64) -> bool) = (h, n, &within);
        random_directions(inputs, &analytic, loss, probes, &mut rng, &mut record);
    }
    report
}

/// The central difference `D(h) = (L(+h) − L(−h)) / 2h` of `at(t) = L(x + t·direction)`,
/// or, where it disagrees with `analytic` (`within` says), the Richardson extrapolation
/// `(4·D(h/2) − D(h)) / 3` (see the module docs).
fn numeric(
    mut at: impl FnMut(f64) -> f64,
    h: f64,
    analytic: f64,
    within: &dyn Fn(f64, f64) -> bool,
) -> f64 {
    let mut central = |h: f64| (at(h) - at(-h)) / (2.0 * h);
    let coarse = central(h);
    if within(analytic, coarse) {
        return coarse;
    }
    (4.0 * central(h / 2.0) - coarse) / 3.0
}

/// The analytic side: one reverse sweep of `f` at `inputs` seeded with random weights `w`
/// of its output's shape, so `∇L` of `L = Σ w ⊙ f(x)`. Returns it and the weights.
fn analytic_gradients<F>(
    inputs: &[Tensor<f64>],
    f: &F,
    rng: &mut StdRng,
) -> (Vec<Tensor<f64>>, Tensor<f64>)
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
{
    let tape = Tape::new();
    let vars: Vec<_> = inputs.iter().map(|x| tape.param(x)).collect();
    let out = f(&tape, &vars);
    let weights = Tensor::from_shape_fn(out.value().raw_dim(), |_| rng.gen_range(-1.0..1.0));
    let mut grads = tape.backward_with(out, weights.clone());
    (vars.iter().map(|&v| grads.wrt(v)).collect(), weights)
}

/// `∂L/∂xⱼ ≈ (L(x + h·eⱼ) − L(x − h·eⱼ)) / 2h` for every element of every input.
fn every_element(
    inputs: &[Tensor<f64>],
    analytic: &[Tensor<f64>],
    loss: impl Fn(&[Tensor<f64>]) -> f64,
    h: f64,
    within: &dyn Fn(f64, f64) -> bool,
    record: &mut impl FnMut(Probe, f64, f64),
) {
    let mut xs = inputs.to_vec();
    for i in 0..xs.len() {
        let shape = xs[i].shape().to_vec();
        for flat in 0..xs[i].len() {
            let index = unravel(flat, &shape);
            let original = xs[i][IxDyn(&index)];
            let analytic = analytic[i][IxDyn(&index)];
            let at = |t: f64| {
                xs[i][IxDyn(&index)] = original + t;
                let value = loss(&xs);
                xs[i][IxDyn(&index)] = original;
                value
            };
            let numeric = numeric(at, h, analytic, within);
            record(Probe::Element { input: i, index }, analytic, numeric);
        }
    }
}

/// `⟨∇L, v⟩ ≈ (L(x + h·v) − L(x − h·v)) / 2h` along `n` random unit vectors `v` over all
/// the inputs at once.
fn random_directions(
    inputs: &[Tensor<f64>],
    analytic: &[Tensor<f64>],
    loss: impl Fn(&[Tensor<f64>]) -> f64,
    (h, n, within): (f64, usize, &dyn Fn(f64, f64) -> bool),
    rng: &mut StdRng,
    record: &mut impl FnMut(Probe, f64, f64),
) {
    for d in 0..n {
        let mut v: Vec<Tensor<f64>> = inputs
            .iter()
            .map(|x| x.mapv(|_| rng.gen_range(-1.0..1.0)))
            .collect();
        let norm = v
            .iter()
            .flat_map(|t| t.iter())
            .map(|e| e * e)
            .sum::<f64>()
            .sqrt();
        v.iter_mut().for_each(|t| *t /= norm);
        let at = |t: f64| -> f64 {
            let shifted: Vec<Tensor<f64>> =
                inputs.iter().zip(&v).map(|(x, v)| x + &(v * t)).collect();
            loss(&shifted)
        };
        let analytic: f64 = analytic.iter().zip(&v).map(|(g, v)| (g * v).sum()).sum();
        let numeric = numeric(at, h, analytic, within);
        record(Probe::Direction(d), analytic, numeric);
    }
}

/// How many cases a property test should run: `PROPTEST_CASES` when set (`just
/// gradcheck` sets 2000), else `default` (small enough to keep `cargo test` fast).
pub fn cases_from_env(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Flat row-major position → multi-index.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        *slot = flat % dim;
        flat /= dim;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn passes_a_correct_gradient_with_tiny_errors() {
        let x = array![[0.3, -0.7, 1.1], [2.0, -1.5, 0.1]].into_dyn();
        let report = check(&[x], |_, v| v[0].tanh() * v[0].sigmoid());
        assert!(report.passed(), "{report}");
        assert!(report.max_rel_error < 1e-8, "{report}");
        assert_eq!(report.probes, 6);
    }

    /// A deliberately wrong rule: y = x², "dy/dx = x" (the factor 2 forgotten).
    #[derive(Debug)]
    struct HalfSquareBackward;
    impl crate::Backward<f64> for HalfSquareBackward {
        fn backward(
            &self,
            x: &[&Tensor<f64>],
            _: &Tensor<f64>,
            dy: Tensor<f64>,
            _: &[bool],
        ) -> Vec<Option<Tensor<f64>>> {
            vec![Some(dy * x[0])]
        }
    }

    #[test]
    fn catches_a_wrong_gradient_and_says_where() {
        let x = array![0.5, -2.0, 3.0].into_dyn();
        let report = check(&[x], |tape, v| {
            let y = v[0].value().mapv(|e| e * e);
            tape.record("bad_square", y, &[v[0]], HalfSquareBackward)
        });
        assert!(!report.passed());
        assert_eq!(report.failures, 3, "{report}");
        assert!(matches!(
            report.worst,
            Some((Probe::Element { input: 0, .. }, _, _))
        ));
    }

    #[test]
    fn random_directions_catch_a_transposed_gradient() {
        // y = x (3×3 reshaped), but the "gradient" handed back is dyᵀ: a plain sum would
        // not notice (Σ dy = Σ dyᵀ), the random weights do.
        #[derive(Debug)]
        struct TransposedIdentity;
        impl crate::Backward<f64> for TransposedIdentity {
            fn backward(
                &self,
                _: &[&Tensor<f64>],
                _: &Tensor<f64>,
                dy: Tensor<f64>,
                _: &[bool],
            ) -> Vec<Option<Tensor<f64>>> {
                vec![Some(dy.t().to_owned())]
            }
        }
        let x = Tensor::from_shape_fn(IxDyn(&[30, 30]), |ix| (ix[0] * 30 + ix[1]) as f64 / 900.0);
        let report = check(&[x], |tape, v| {
            tape.record("t_id", v[0].to_tensor(), &[v[0]], TransposedIdentity)
        });
        assert!(!report.passed(), "{report}");
        assert!(matches!(report.worst, Some((Probe::Direction(_), _, _))));
    }

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
    }
}
