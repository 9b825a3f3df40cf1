//! Random programs over a list of ops: the compositions our gradient tests draw, open to
//! your ops too.
//!
//! A program is 1–3 input tensors (shapes `[r, c]`, `[1, c]`, `[r, 1]`, so broadcasting
//! is exercised) and 2–10 instructions, each an op of the list applied to values computed
//! earlier. Operands are picked among *all* earlier values, so values feed several later
//! ops (fan-out, shared sub-expressions) and gradients must add up along every path.
//! Decisions that depend on values (skipping an op that does not fit, keeping a kink
//! away) are made once on the inputs ([`Program::resolve`]) and then replayed, so the
//! finite differences differentiate exactly the graph that backward did.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};

use crate::gradcheck::{self, Config};
use crate::{Tape, Tensor, Var};

/// How an op is applied to the operands an instruction picks: `a`, `b` (which a unary op
/// ignores) and an axis in {0, 1}. `None` when it does not fit their shapes.
pub type Apply = for<'t> fn(Var<'t, f64>, Var<'t, f64>, usize) -> Option<Var<'t, f64>>;

/// An op a program may draw.
#[derive(Clone, Copy)]
pub struct ProgramOp {
    /// Its name, for reports.
    pub name: &'static str,
    /// Whether it reads its second operand.
    pub binary: bool,
    /// Whether its derivative jumps at 0 (relu): the op is then skipped where an element
    /// of its first operand lies within 1e-3 of 0, too close for a central difference.
    pub kink_at_zero: bool,
    /// The op itself.
    pub apply: Apply,
}

/// One instruction as drawn: indices, reduced modulo what exists when it is resolved.
#[derive(Clone, Debug)]
pub struct Instruction {
    /// Which op of the list.
    pub op: usize,
    /// First operand (any earlier value).
    pub a: usize,
    /// Second operand.
    pub b: usize,
    /// Axis for ops that take one (0 or 1).
    pub axis: usize,
}

/// A random program: the inputs' sizes and seed, and its instructions.
#[derive(Clone, Debug)]
pub struct Program {
    /// Rows of the inputs.
    pub rows: usize,
    /// Columns of the inputs.
    pub cols: usize,
    /// Number of inputs (1 to 3).
    pub inputs: usize,
    /// Seed of the input values (in [−1, 1)).
    pub seed: u64,
    /// The instructions.
    pub code: Vec<Instruction>,
}

/// Programs over a list of `op_count` ops.
pub fn program(op_count: usize) -> impl Strategy<Value = Program> {
    let instruction = (0..op_count, any::<usize>(), any::<usize>(), 0usize..2)
        .prop_map(|(op, a, b, axis)| Instruction { op, a, b, axis });
    (
        1usize..=3,
        1usize..=4,
        1usize..=3,
        any::<u64>(),
        prop::collection::vec(instruction, 2..=10),
    )
        .prop_map(|(rows, cols, inputs, seed, code)| Program {
            rows,
            cols,
            inputs,
            seed,
            code,
        })
}

impl Program {
    /// The input tensors.
    pub fn input_values(&self) -> Vec<Tensor<f64>> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed);
        let shapes = [
            vec![self.rows, self.cols],
            vec![1, self.cols],
            vec![self.rows, 1],
        ];
        shapes[..self.inputs]
            .iter()
            .map(|s| Tensor::from_shape_fn(s.clone(), |_| rng.gen_range(-1.0..1.0)))
            .collect()
    }

    /// The steps that apply, with their operands fixed, found by running the program on
    /// its inputs once. `None` if values blow up (finite differences of 1e30 are
    /// meaningless; such a case is skipped).
    pub fn resolve(&self, ops: &[ProgramOp]) -> Option<Vec<Instruction>> {
        let tape = Tape::no_grad();
        let mut vals: Vec<Var<'_, f64>> = self
            .input_values()
            .iter()
            .map(|x| tape.constant(x))
            .collect();
        let mut steps = Vec::new();
        for ins in &self.code {
            let op = &ops[ins.op % ops.len()];
            let step = Instruction {
                op: ins.op % ops.len(),
                a: ins.a % vals.len(),
                b: ins.b % vals.len(),
                axis: ins.axis,
            };
            if op.kink_at_zero && vals[step.a].value().iter().any(|v| v.abs() < 1e-3) {
                continue;
            }
            if let Some(v) = (op.apply)(vals[step.a], vals[step.b], step.axis) {
                if v.value().iter().any(|x| !x.is_finite() || x.abs() > 1e4) {
                    return None;
                }
                vals.push(v);
                steps.push(step);
            }
        }
        Some(steps)
    }
}

/// Replays resolved `steps` on `inputs`; returns the last value.
pub fn run<'t>(ops: &[ProgramOp], steps: &[Instruction], inputs: &[Var<'t, f64>]) -> Var<'t, f64> {
    let mut vals = inputs.to_vec();
    for step in steps {
        let v = (ops[step.op].apply)(vals[step.a], vals[step.b], step.axis)
            .expect("a resolved step applies");
        vals.push(v);
    }
    *vals.last().expect("at least one value")
}

/// Asserts (inside a proptest) that `program` over `ops` passes the gradient check,
/// every element of every input; programs that resolve to nothing are skipped.
pub fn assert_program_gradcheck(ops: &[ProgramOp], program: &Program) -> Result<(), TestCaseError> {
    let steps = program.resolve(ops);
    prop_assume!(steps.as_ref().is_some_and(|s| !s.is_empty()));
    let steps = steps.expect("checked above");
    let config = Config {
        max_full: 10_000,
        ..Config::default()
    };
    let report = gradcheck::check_with(
        &program.input_values(),
        |_tape, vars| run(ops, &steps, vars),
        &config,
    );
    let names: Vec<&str> = steps.iter().map(|s| ops[s.op].name).collect();
    prop_assert!(report.passed(), "{report}\nprogram: {names:?} {steps:?}");
    Ok(())
}
