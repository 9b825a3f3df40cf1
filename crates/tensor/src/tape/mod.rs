//! The tape: a Wengert list of every value computed, and the reverse sweep over it.
//!
//! Each op appends one `Node` holding its value, the ids of its inputs and a small
//! struct that knows its derivative (a [`Backward`] rule). Because nodes are only ever
//! appended, an input always has a smaller id than the node that uses it, so walking the
//! list backwards *is* a reverse topological order: no graph search, no sorting.
//!
//! ```text
//! forward:  %0 = param x   %1 = param w   %2 = matmul(%0, %1)   %3 = sum(%2)
//! backward: dL/d%3 = 1 → dL/d%2 → dL/d%0, dL/d%1        (ids visited 3, 2, 1, 0)
//! ```

use std::cell::{Cell, Ref, RefCell};
use std::fmt;

use ndarray::ArrayD;

use crate::float::Float;

mod display;
mod gradients;
mod leaves;
mod var;

pub use gradients::Gradients;

/// Plain n-dimensional data with no history: an ndarray array.
pub type Tensor<T = f32> = ArrayD<T>;

/// The derivative of one op: given the upstream gradient, the gradients of its inputs.
///
/// Implementors are the `<Op>Backward` structs that live next to each op's forward
/// code. They hold only non-tensor settings (an axis, a slope); the tape hands them the
/// forward values they need, so "what does backward read?" is visible in the signature.
pub trait Backward<T: Float>: fmt::Debug + Send + Sync {
    /// Returns `dL/d input_i` for every input, given `dy = dL/dy` (which has `y`'s shape).
    ///
    /// `inputs` and `y` are the forward values. `dy` is owned so a rule can reuse its
    /// buffer for the result. Where `needs[i]` is false, return `None` for input `i`:
    /// nobody wants that gradient, and skipping it can save a whole matrix product.
    fn backward(
        &self,
        inputs: &[&Tensor<T>],
        y: &Tensor<T>,
        dy: Tensor<T>,
        needs: &[bool],
    ) -> Vec<Option<Tensor<T>>>;
}

/// One entry of the tape.
struct Node<T: Float> {
    value: Tensor<T>,
    /// Op name for printing (`"param"`, `"constant"`, `"matmul"`, ...).
    name: &'static str,
    parents: Vec<usize>,
    /// A parameter, or an op with at least one input that requires a gradient.
    requires_grad: bool,
    /// The derivative, kept only when the node requires a gradient.
    backward: Option<Box<dyn Backward<T>>>,
}

/// A tape that records operations on [`Var`]s for reverse-mode differentiation.
///
/// Create one per training step (or [`reset`](Tape::reset) and reuse it), bind the
/// parameters with [`param`](Tape::param) and the data with [`constant`](Tape::constant),
/// compute, then call [`backward`](Tape::backward).
pub struct Tape<T: Float = f32> {
    // RefCell because `Var` is a shared, Copy handle: many Vars append to one tape.
    nodes: RefCell<Vec<Node<T>>>,
    grad_enabled: Cell<bool>,
}

/// A handle to a value on a [`Tape`]. It is `Copy`, so model code reads like math.
///
/// The lifetime ties it to its tape: the borrow checker rejects a `Var` that outlives it.
#[derive(Clone, Copy)]
pub struct Var<'t, T: Float = f32> {
    pub(crate) tape: &'t Tape<T>,
    pub(crate) id: usize,
}

impl<T: Float> Default for Tape<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Float> Tape<T> {
    /// An empty tape that records gradients.
    pub fn new() -> Self {
        Tape {
            nodes: RefCell::new(Vec::new()),
            grad_enabled: Cell::new(true),
        }
    }

    /// An empty tape that records no derivatives (evaluation): parameters are bound as
    /// constants, so no op keeps a backward rule and [`backward`](Tape::backward) has
    /// nothing to do. Values still live on the tape until it is dropped or reset.
    pub fn no_grad() -> Self {
        let tape = Self::new();
        tape.grad_enabled.set(false);
        tape
    }

    /// Whether [`param`](Tape::param) creates leaves that require gradients.
    pub fn is_grad_enabled(&self) -> bool {
        self.grad_enabled.get()
    }

    /// Number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.nodes.borrow().len()
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every node but keeps the list's capacity, to reuse the tape next step.
    /// Taking `&mut self` guarantees that no `Var` of the old graph is still alive.
    pub fn reset(&mut self) {
        self.nodes.get_mut().clear();
    }

    /// Records an op: its `name` (for printing), its `value`, the `inputs` it was
    /// computed from, and `backward`, its derivative. This is how every op of the engine is
    /// recorded, and how code outside the crate defines its own (see
    /// `examples/04_your_own_op.rs`):
    ///
    /// ```
    /// use tensor::{Backward, Tape, Tensor, Var};
    ///
    /// /// y = x³, dy/dx = 3x².
    /// #[derive(Debug)]
    /// struct CubeBackward;
    ///
    /// impl Backward<f64> for CubeBackward {
    ///     fn backward(&self, inputs: &[&Tensor<f64>], _y: &Tensor<f64>, dy: Tensor<f64>, _needs: &[bool]) -> Vec<Option<Tensor<f64>>> {
    ///         vec![Some(dy * inputs[0].mapv(|x| 3.0 * x * x))]
    ///     }
    /// }
    ///
    /// fn cube<'t>(x: Var<'t, f64>) -> Var<'t, f64> {
    ///     let y = x.value().mapv(|v| v * v * v);
    ///     x.tape().record("cube", y, &[x], CubeBackward)
    /// }
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.param(&ndarray::arr1(&[2.0]).into_dyn());
    /// let y = cube(x).sum();
    /// assert_eq!(tape.backward(y).wrt(x)[[0]], 12.0);
    /// ```
    ///
    /// `backward` is boxed and kept only if some input requires a gradient (ops on
    /// constants alone record no derivative), and is asked only for the gradients that
    /// are wanted (`needs`). Gradients reaching a value along several paths add up.
    ///
    /// # Panics
    /// If an input lives on another tape: its id would name the wrong value here.
    pub fn record<'t, B: Backward<T> + 'static>(
        &'t self,
        name: &'static str,
        value: Tensor<T>,
        inputs: &[Var<'t, T>],
        backward: B,
    ) -> Var<'t, T> {
        for (i, input) in inputs.iter().enumerate() {
            assert!(
                std::ptr::eq(input.tape, self),
                "{name}: input {i} (%{}) belongs to another tape; every operand of an op must be \
                    on one tape",
                input.id
            );
        }
        let parents: Vec<usize> = inputs.iter().map(|v| v.id).collect();
        let requires_grad = {
            let nodes = self.nodes.borrow();
            parents.iter().any(|&p| nodes[p].requires_grad)
        };
        let backward = requires_grad.then(|| Box::new(backward) as Box<dyn Backward<T>>);
        self.push_node(Node {
            value,
            name,
            parents,
            requires_grad,
            backward,
        })
    }

    fn push_node(&self, node: Node<T>) -> Var<'_, T> {
        let mut nodes = self.nodes.borrow_mut();
        nodes.push(node);
        Var {
            tape: self,
            id: nodes.len() - 1,
        }
    }

    /// Borrows the value of node `id`.
    pub(crate) fn value(&self, id: usize) -> Ref<'_, Tensor<T>> {
        Ref::map(self.nodes.borrow(), |nodes| &nodes[id].value)
    }

    /// Reverse-mode differentiation of a scalar `loss` with respect to every leaf that
    /// requires a gradient.
    ///
    /// # Panics
    /// If `loss` has more than one element.
    pub fn backward(&self, loss: Var<'_, T>) -> Gradients<T> {
        let len = self.value(loss.id).len();
        assert_eq!(
            len, 1,
            "backward: the loss must be a scalar, it has {len} elements"
        );
        let seed = Tensor::from_elem(self.value(loss.id).raw_dim(), T::one());
        self.backward_with(loss, seed)
    }

    /// Reverse sweep from any output, seeded with `dy = dL/d output` (a vector-Jacobian
    /// product). `backward(loss)` is this with `dy = 1`; [`gradcheck`](crate::gradcheck)
    /// uses it with random weights.
    ///
    /// # Panics
    /// If `dy`'s shape differs from the output's.
    pub fn backward_with(&self, output: Var<'_, T>, dy: Tensor<T>) -> Gradients<T> {
        let nodes = self.nodes.borrow();
        let out = output.id;
        assert_eq!(
            dy.shape(),
            nodes[out].value.shape(),
            "backward_with: seed shape differs from the output's"
        );
        let mut grads: Vec<Option<Tensor<T>>> = (0..=out).map(|_| None).collect();
        if nodes[out].requires_grad {
            grads[out] = Some(dy);
        }
        // Parents always have smaller ids, so by the time we reach a node, every node
        // that used it has already added its contribution: its gradient is complete.
        for id in (0..=out).rev() {
            let node = &nodes[id];
            let Some(rule) = &node.backward else { continue }; // a leaf keeps its gradient
                                                               // Not on a path to the output: nothing to pass on (and take() frees it).
            let Some(dy) = grads[id].take() else { continue };
            let inputs: Vec<&Tensor<T>> = node.parents.iter().map(|&p| &nodes[p].value).collect();
            let needs: Vec<bool> = node
                .parents
                .iter()
                .map(|&p| nodes[p].requires_grad)
                .collect();
            let dxs = rule.backward(&inputs, &node.value, dy, &needs);
            for ((&parent, dx), need) in node.parents.iter().zip(dxs).zip(needs) {
                if let (Some(dx), true) = (dx, need) {
                    accumulate(&mut grads[parent], dx, &nodes[parent].value, node.name);
                }
            }
        }
        Gradients { grads }
    }
}

/// Adds a gradient contribution: the first one is moved in (no zero-fill, no copy), the
/// next ones are added in place. A value used twice thus gets both contributions.
fn accumulate<T: Float>(slot: &mut Option<Tensor<T>>, dx: Tensor<T>, value: &Tensor<T>, op: &str) {
    assert_eq!(
        dx.shape(),
        value.shape(),
        "backward of {op}: gradient shape differs from its input's (a bug in the rule)"
    );
    match slot {
        None => *slot = Some(dx),
        Some(g) => *g += &dx,
    }
}
