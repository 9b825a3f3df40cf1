//! Random compositions of ops pass the gradient check.
//!
//! Each case is a small random program: 1–3 input tensors (shapes `[r, c]`, `[1, c]`,
//! `[r, 1]`, so broadcasting is exercised), then 2–10 instructions, each an op from the
//! whole op set applied to values computed earlier. Operands are picked among *all*
//! earlier values, so values feed several later ops (fan-out, shared sub-expressions)
//! and gradients must accumulate correctly along every path. The final value is
//! checked with `tensor::gradcheck` in f64: every element of every input.
//!
//! Decisions that depend on values (keeping relu away from its kink, say) are made once
//! on the unperturbed inputs and then replayed, so the finite differences differentiate
//! exactly the graph that backward did.
//!
//! `PROPTEST_CASES=2000 cargo test --release --test gradcheck_compositions` (or
//! `just gradcheck`) runs many more cases than the default.

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use tensor::gradcheck::{self, Config};
use tensor::{Tape, Tensor, Var};

/// The instruction set: every op of the engine, with a domain guard where it needs one.
const OPS: [&str; 31] = [
    "add",
    "sub",
    "mul",
    "div",
    "matmul",
    "linear",
    "bce_with_logits",
    "bce_with_logits_sum",
    "concat", // binary
    "neg",
    "add_scalar",
    "mul_scalar",
    "exp",
    "log",
    "sqrt",
    "powf",
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "softplus",
    "log_sigmoid", // elementwise
    "sum",
    "sum_axis",
    "mean",
    "mean_axis",
    "logsumexp",
    "transpose",
    "reshape",
    "slice",
    "broadcast_to", // shape
];

#[derive(Clone, Debug)]
struct Instruction {
    op: usize,
    a: usize,
    b: usize,
    axis: usize,
}

#[derive(Clone, Debug)]
struct Program {
    rows: usize,
    cols: usize,
    inputs: usize,
    seed: u64,
    code: Vec<Instruction>,
}

fn program() -> impl Strategy<Value = Program> {
    let instruction = (0..OPS.len(), any::<usize>(), any::<usize>(), 0usize..2)
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
    fn input_values(&self) -> Vec<Tensor<f64>> {
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
}

/// One resolved step: the op and its operands, fixed once on the original inputs.
#[derive(Clone, Debug)]
struct Step {
    op: &'static str,
    a: usize,
    b: usize,
    axis: usize,
}

/// Applies one step. Returns `None` when the op does not fit its operands' shapes.
fn apply<'t>(step: &Step, vals: &[Var<'t, f64>]) -> Option<Var<'t, f64>> {
    let (a, b) = (vals[step.a], vals[step.b]);
    let (sa, sb) = (a.shape(), b.shape());
    let positive = |v: Var<'t, f64>| v * v + 0.5; // a domain guard: > 0
    let broadcastable = tensor::ops::broadcast::broadcast_shape(&sa, &sb).is_some();
    Some(match step.op {
        "add" if broadcastable => a + b,
        "sub" if broadcastable => a - b,
        "mul" if broadcastable => a * b,
        "div" if broadcastable => a / positive(b),
        "matmul" if sa.len() == 2 && sb.len() == 2 && sa[1] == sb[1] => a.matmul(b.transpose()),
        // b is both the weight [out, in] and, summed over its rows, the bias [out].
        "linear" if sa.len() == 2 && sb.len() == 2 && sa[1] == sb[1] => {
            a.linear(b, b.sum_axis(1, false))
        }
        "bce_with_logits" if sa == sb => a.bce_with_logits(b.sigmoid()),
        "bce_with_logits_sum" if sa == sb => a.bce_with_logits_sum(b.sigmoid()),
        "concat"
            if sa.len() == sb.len()
                && sa
                    .iter()
                    .zip(&sb)
                    .enumerate()
                    .all(|(i, (x, y))| i == step.axis || x == y)
                && step.axis < sa.len() =>
        {
            Var::concat(&[a, b, a], step.axis)
        }
        "neg" => -a,
        "add_scalar" => a + 0.75,
        "mul_scalar" => a * -1.25,
        "exp" => a.exp(),
        "log" => positive(a).log(),
        "sqrt" => positive(a).sqrt(),
        "powf" => positive(a).powf(1.7),
        "relu" => a.relu(),
        "leaky_relu" => a.leaky_relu(0.1),
        "tanh" => a.tanh(),
        "sigmoid" => a.sigmoid(),
        "softplus" => a.softplus(),
        "log_sigmoid" => a.log_sigmoid(),
        "sum" => a.sum(),
        "sum_axis" if step.axis < sa.len() => a.sum_axis(step.axis, true),
        "mean" => a.mean(),
        "mean_axis" if step.axis < sa.len() => a.mean_axis(step.axis, step.axis == 1),
        "logsumexp" if step.axis < sa.len() => a.logsumexp(step.axis, step.axis == 0),
        "transpose" => a.transpose(),
        "reshape" => a.reshape(&[sa.iter().product::<usize>()]),
        "slice" if step.axis < sa.len() && sa[step.axis] > 1 => {
            a.slice(step.axis, 1..sa[step.axis])
        }
        "broadcast_to" => a.broadcast_to(&[2].iter().chain(&sa).copied().collect::<Vec<_>>()),
        _ => return None,
    })
}

/// Resolves the program on its inputs: picks operands, drops ops that do not fit, keeps
/// relu and leaky_relu away from their kink. `None` if values blow up (then the case is
/// skipped: finite differences of 1e30 are meaningless).
fn resolve(program: &Program, inputs: &[Tensor<f64>]) -> Option<Vec<Step>> {
    let tape = Tape::no_grad();
    let mut vals: Vec<Var<'_, f64>> = inputs.iter().map(|x| tape.constant(x)).collect();
    let mut steps = Vec::new();
    for ins in &program.code {
        let op = OPS[ins.op];
        let step = Step {
            op,
            a: ins.a % vals.len(),
            b: ins.b % vals.len(),
            axis: ins.axis,
        };
        if matches!(op, "relu" | "leaky_relu")
            && vals[step.a].value().iter().any(|v| v.abs() < 1e-3)
        {
            continue; // too close to the kink for a central difference
        }
        if let Some(v) = apply(&step, &vals) {
            if v.value().iter().any(|x| !x.is_finite() || x.abs() > 1e4) {
                return None;
            }
            vals.push(v);
            steps.push(step);
        }
    }
    Some(steps)
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(gradcheck::cases_from_env(256))
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn random_compositions_pass_gradcheck(program in program()) {
        let inputs = program.input_values();
        let steps = resolve(&program, &inputs);
        prop_assume!(steps.as_ref().is_some_and(|s| !s.is_empty()));
        let steps = steps.unwrap();
        let config = Config { max_full: 10_000, ..Config::default() };
        let report = gradcheck::check_with(&inputs, |_tape, vars| {
            let mut vals = vars.to_vec();
            for step in &steps {
                let v = apply(step, &vals).expect("a resolved step applies");
                vals.push(v);
            }
            *vals.last().unwrap()
        }, &config);
        prop_assert!(report.passed(), "{report}\nprogram: {steps:?}");
    }
}

/// The generator does produce what the property claims to cover: shared
/// sub-expressions, every op, and long chains.
#[test]
fn the_generator_covers_fan_out_and_every_op() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut fan_out, mut long, mut seen) = (0, 0, std::collections::HashSet::new());
    for _ in 0..500 {
        let program = program().new_tree(&mut runner).unwrap().current();
        let Some(steps) = resolve(&program, &program.input_values()) else {
            continue;
        };
        let mut uses = vec![0; program.inputs + steps.len()];
        for s in &steps {
            uses[s.a] += 1;
            if s.op == "add"
                || s.op == "sub"
                || s.op == "mul"
                || s.op == "div"
                || s.op == "matmul"
                || s.op == "bce_with_logits"
                || s.op == "bce_with_logits_sum"
                || s.op == "concat"
            {
                uses[s.b] += 1;
            }
            seen.insert(s.op);
        }
        fan_out += uses.iter().any(|&u| u >= 2) as usize;
        long += (steps.len() >= 6) as usize;
    }
    assert!(
        fan_out > 250,
        "only {fan_out} of 500 programs share a value"
    );
    assert!(long > 100, "only {long} of 500 programs have 6+ ops");
    assert_eq!(
        seen.len(),
        OPS.len(),
        "ops never generated: {:?}",
        OPS.iter()
            .filter(|o| !seen.contains(*o))
            .collect::<Vec<_>>()
    );
}
