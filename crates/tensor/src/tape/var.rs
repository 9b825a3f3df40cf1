//! Reading a [`Var`]: its tape, its value and shape.

use std::cell::Ref;

use super::{Float, Tape, Tensor, Var};

impl<'t, T: Float> Var<'t, T> {
    /// The tape this value lives on.
    pub fn tape(self) -> &'t Tape<T> {
        self.tape
    }

    /// Position on the tape (`%id` in the printed graph).
    pub fn id(self) -> usize {
        self.id
    }

    /// Borrows the value. Drop the borrow before recording more ops on this tape.
    pub fn value(&self) -> Ref<'t, Tensor<T>> {
        self.tape.value(self.id)
    }

    /// A copy of the value.
    pub fn to_tensor(self) -> Tensor<T> {
        self.value().clone()
    }

    /// The value's shape.
    pub fn shape(self) -> Vec<usize> {
        self.value().shape().to_vec()
    }

    /// The single element of a scalar (any shape with one element).
    ///
    /// # Panics
    /// If the value has more than one element.
    pub fn item(self) -> T {
        let value = self.value();
        assert_eq!(value.len(), 1, "item: value has shape {:?}", value.shape());
        *value.iter().next().expect("one element")
    }
}
