//! Random compositions of ops pass the gradient check.
//!
//! Each case is a small random program over every op of the engine
//! (`tensor::testing::builtin_ops`): 1–3 inputs of shapes `[r, c]`, `[1, c]`, `[r, 1]`,
//! then 2–10 instructions whose operands are any earlier values (fan-out, shared
//! sub-expressions). The final value is checked with `tensor::gradcheck` in f64, every
//! element of every input. The generator lives in `tensor::testing` so that a user's own
//! op can join these programs (`tests/custom_op.rs` does).
//!
//! `PROPTEST_CASES=2000 cargo test --release --test gradcheck_compositions` (or
//! `just gradcheck`) runs many more cases than the default.

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use tensor::gradcheck;
use tensor::testing::{assert_program_gradcheck, builtin_ops, program};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(gradcheck::cases_from_env(256))
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn random_compositions_pass_gradcheck(program in program(builtin_ops().len())) {
        assert_program_gradcheck(&builtin_ops(), &program)?;
    }
}

/// The generator does produce what the property claims to cover: shared
/// sub-expressions, every op, and long chains.
#[test]
fn the_generator_covers_fan_out_and_every_op() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let ops = builtin_ops();
    assert_eq!(
        ops.len(),
        33,
        "every op of the engine (scalar forms, fused forms included)"
    );
    let mut runner = TestRunner::deterministic();
    let (mut fan_out, mut long, mut seen) = (0, 0, std::collections::HashSet::new());
    for _ in 0..500 {
        let program = program(ops.len()).new_tree(&mut runner).unwrap().current();
        let Some(steps) = program.resolve(&ops) else {
            continue;
        };
        let mut uses = vec![0; program.inputs + steps.len()];
        for s in &steps {
            uses[s.a] += 1;
            if ops[s.op].binary {
                uses[s.b] += 1;
            }
            seen.insert(ops[s.op].name);
        }
        fan_out += uses.iter().any(|&u| u >= 2) as usize;
        long += (steps.len() >= 6) as usize;
    }
    assert!(
        fan_out > 250,
        "only {fan_out} of 500 programs share a value"
    );
    assert!(long > 100, "only {long} of 500 programs have 6+ ops");
    let missing: Vec<&str> = ops
        .iter()
        .map(|o| o.name)
        .filter(|n| !seen.contains(n))
        .collect();
    assert!(missing.is_empty(), "ops never generated: {missing:?}");
}
