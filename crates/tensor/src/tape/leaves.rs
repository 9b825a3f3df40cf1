//! The leaves of a tape: parameters (whose gradients are wanted) and constants (data,
//! noise), bound by copy or by move.

use super::{Float, Node, Tape, Tensor, Var};

impl<T: Float> Tape<T> {
    /// Binds a parameter (copied onto the tape): a leaf whose gradient is wanted.
    pub fn param(&self, value: &Tensor<T>) -> Var<'_, T> {
        self.param_owned(value.clone())
    }

    /// Like [`param`](Tape::param) but moves the array in; get it back with
    /// [`take_value`](Tape::take_value) after `backward` to avoid any copy.
    pub fn param_owned(&self, value: Tensor<T>) -> Var<'_, T> {
        let requires_grad = self.is_grad_enabled();
        self.push_node(Node {
            value,
            name: "param",
            parents: Vec::new(),
            requires_grad,
            backward: None,
        })
    }

    /// Binds a constant (data, noise): a leaf with no gradient.
    pub fn constant(&self, value: &Tensor<T>) -> Var<'_, T> {
        self.constant_owned(value.clone())
    }

    /// Like [`constant`](Tape::constant) but moves the array in.
    pub fn constant_owned(&self, value: Tensor<T>) -> Var<'_, T> {
        self.push_node(Node {
            value,
            name: "constant",
            parents: Vec::new(),
            requires_grad: false,
            backward: None,
        })
    }

    /// Moves a node's value out (leaving an empty array), e.g. to hand a parameter
    /// bound with [`param_owned`](Tape::param_owned) back to its model.
    pub fn take_value(&self, var: Var<'_, T>) -> Tensor<T> {
        let empty = Tensor::from_shape_vec(vec![0], Vec::new()).expect("an empty array");
        std::mem::replace(&mut self.nodes.borrow_mut()[var.id].value, empty)
    }
}
