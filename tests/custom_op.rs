//! A user's crate, as far as the engine can tell: an op defined outside it (softsign,
//! x / (1 + |x|), which the engine does not have), recorded with the public
//! `Tape::record`, and checked with the public strategies of `tensor::testing`, alone
//! and among built-in ops. A wrong rule for it fails the same check.

use proptest::prelude::*;
use tensor::testing::{
    assert_gradcheck, assert_program_gradcheck, away_from_zero, broadcast_pair, builtin_ops,
    config, program, tensor, ProgramOp,
};
use tensor::{gradcheck, Backward, Tape, Tensor, Var};

/// y = x / (1 + |x|).  dy/dx = 1 / (1 + |x|)²  (smooth at 0: both sides give 1).
#[derive(Debug)]
struct SoftsignBackward {
    /// Breaks the rule on purpose (dy/dx = 1 / (1 + |x|)) to show the check catches it.
    wrong: bool,
}

impl Backward<f64> for SoftsignBackward {
    fn backward(
        &self,
        inputs: &[&Tensor<f64>],
        _y: &Tensor<f64>,
        dy: Tensor<f64>,
        _needs: &[bool],
    ) -> Vec<Option<Tensor<f64>>> {
        let power = if self.wrong { 1 } else { 2 };
        vec![Some(
            dy * inputs[0].mapv(|x| 1.0 / (1.0 + x.abs()).powi(power)),
        )]
    }
}

fn softsign<'t>(x: Var<'t, f64>, wrong: bool) -> Var<'t, f64> {
    let y = x.value().mapv(|v| v / (1.0 + v.abs()));
    x.tape()
        .record("softsign", y, &[x], SoftsignBackward { wrong })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn softsign_passes_the_gradient_check(x in tensor(-3.0, 3.0)) {
        assert_gradcheck(&[x], |_tape, v| softsign(v[0], false))?;
    }

    #[test]
    fn softsign_composes_with_built_in_ops((a, b) in broadcast_pair(-2.0, 2.0)) {
        // Fan-out (a feeds two paths), broadcasting, and our op between built-in ones.
        assert_gradcheck(&[a, b], |_tape, v| (softsign(v[0] * v[1], false) + v[0].tanh()).exp().sum())?;
    }

    /// Softsign joins the random compositions of the engine's own ops.
    #[test]
    fn softsign_joins_random_compositions(program in program(builtin_ops().len() + 1)) {
        assert_program_gradcheck(&with_softsign(false), &program)?;
    }

    #[test]
    fn a_wrong_rule_for_it_is_caught(x in away_from_zero(0.2, 3.0)) {
        let report = gradcheck::check(&[x], |_tape, v| softsign(v[0], true));
        prop_assert!(!report.passed(), "the wrong rule passed: {report}");
    }
}

/// The engine's ops, and softsign (with the right rule or the wrong one).
fn with_softsign(wrong: bool) -> Vec<ProgramOp> {
    let mut ops = builtin_ops();
    ops.push(ProgramOp {
        name: "softsign",
        binary: false,
        kink_at_zero: false,
        apply: if wrong {
            |a, _b, _axis| Some(softsign(a, true))
        } else {
            |a, _b, _axis| Some(softsign(a, false))
        },
    });
    ops
}

/// Among the random compositions, the wrong rule is found too: of the programs whose
/// last op is softsign, at least 90 % fail the check (54 of 57 today).
#[test]
fn the_wrong_rule_is_found_inside_random_compositions() {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let ops = with_softsign(true);
    let softsign = ops.len() - 1;
    let mut runner = TestRunner::deterministic();
    let (mut used, mut caught) = (0, 0);
    for _ in 0..1500 {
        let p = program(ops.len()).new_tree(&mut runner).unwrap().current();
        let Some(steps) = p.resolve(&ops) else {
            continue;
        };
        if steps.last().is_some_and(|s| s.op == softsign) {
            used += 1;
            let report = gradcheck::check(&p.input_values(), |_tape, v| {
                tensor::testing::run(&ops, &steps, v)
            });
            caught += !report.passed() as usize;
        }
    }
    assert!(used >= 20, "only {used} programs end in softsign");
    // Not always: where softsign's operand is near 0 the two rules agree (both give 1),
    // and an operand that barely depends on the inputs hides any rule.
    assert!(
        caught * 10 >= used * 9,
        "only {caught} of {used} programs caught the wrong rule"
    );
}

#[test]
fn gradients_of_a_custom_op_accumulate_and_skip_constants() {
    let tape = Tape::<f64>::new();
    let x = tape.param(&ndarray::arr1(&[1.0, -3.0]).into_dyn());
    let c = tape.constant(&ndarray::arr1(&[2.0, 2.0]).into_dyn());
    // x reaches the loss twice through softsign: the gradients add.
    let loss = (softsign(x, false) + softsign(x, false) * c).sum();
    let g = tape.backward(loss).wrt(x);
    // d/dx [3 · x/(1+|x|)] = 3 / (1+|x|)².
    assert!(
        (g[[0]] - 3.0 / 4.0).abs() < 1e-12 && (g[[1]] - 3.0 / 16.0).abs() < 1e-12,
        "{g}"
    );
    // An op on constants alone keeps no rule: nothing to differentiate.
    let only_constants = softsign(c, false);
    assert!(!tape
        .to_string()
        .lines()
        .nth(only_constants.id())
        .unwrap()
        .contains("requires grad"));
}

#[test]
#[should_panic(expected = "softsign: input 0 (%0) belongs to another tape")]
fn an_input_from_another_tape_is_refused() {
    let (mine, theirs) = (Tape::<f64>::new(), Tape::<f64>::new());
    let _ = mine.constant(&ndarray::arr1(&[1.0]).into_dyn());
    let x = theirs.param(&ndarray::arr1(&[1.0]).into_dyn());
    let y = softsign(x, false);
    let _ = mine.record(
        "softsign",
        y.to_tensor(),
        &[x],
        SoftsignBackward { wrong: false },
    );
}
