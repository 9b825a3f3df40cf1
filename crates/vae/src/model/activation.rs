//! The hidden-layer nonlinearities: each one's math in one line, and their names (as
//! flags and checkpoints write them) in one list.

use std::fmt;
use std::str::FromStr;

use tensor::{Float, Var};

/// The hidden-layer nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// max(x, 0)
    Relu,
    /// tanh x
    Tanh,
    /// 1/(1 + e⁻ˣ)
    Sigmoid,
    /// ln(1 + eˣ)
    Softplus,
    /// x or 0.01·x (PyTorch's default slope)
    LeakyRelu,
}

impl Activation {
    /// Every activation and its name: the one list the names are read from and written by.
    pub const ALL: [(Activation, &'static str); 5] = [
        (Activation::Relu, "relu"),
        (Activation::Tanh, "tanh"),
        (Activation::Sigmoid, "sigmoid"),
        (Activation::Softplus, "softplus"),
        (Activation::LeakyRelu, "leaky_relu"),
    ];

    /// Applies the activation on the tape.
    pub fn apply<'t, T: Float>(self, x: Var<'t, T>) -> Var<'t, T> {
        match self {
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Softplus => x.softplus(),
            Activation::LeakyRelu => x.leaky_relu(T::of(0.01)),
        }
    }

    /// The name, as flags and checkpoints write it.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .expect("every activation is listed")
            .1
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let found = Self::ALL.iter().find(|(_, name)| *name == s);
        found.map(|&(a, _)| a).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|(_, n)| *n).collect();
            format!(
                "unknown activation '{s}' (expected one of {})",
                names.join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_explained() {
        for (activation, name) in Activation::ALL {
            assert_eq!(name.parse::<Activation>().unwrap(), activation);
            assert_eq!(activation.to_string(), name);
        }
        let err = "gelu".parse::<Activation>().unwrap_err();
        assert!(
            err.contains("unknown activation 'gelu'") && err.contains("leaky_relu"),
            "{err}"
        );
    }
}
