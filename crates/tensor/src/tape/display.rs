//! Printing a tape: one node per line.

use std::fmt;

use super::{Float, Tape, Var};

/// Prints the graph, one node per line: `%4 = matmul(%2, %3)  [128, 400]  grad`.
impl<T: Float> fmt::Display for Tape<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (id, node) in self.nodes.borrow().iter().enumerate() {
            let inputs: Vec<String> = node.parents.iter().map(|p| format!("%{p}")).collect();
            let call = if inputs.is_empty() {
                node.name.to_string()
            } else {
                format!("{}({})", node.name, inputs.join(", "))
            };
            let grad = if node.requires_grad {
                "  requires grad"
            } else {
                ""
            };
            writeln!(f, "%{id} = {call:<28} {:?}{grad}", node.value.shape())?;
        }
        Ok(())
    }
}

impl<T: Float> fmt::Debug for Var<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var(%{}, {:?})", self.id, self.shape())
    }
}
