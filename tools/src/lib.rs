//! # tools: measuring the kernel and the step
//!
//! The programs in `src/bin/`, each documented at its top:
//!
//! - `kernel_report`: our GEMM on every path this CPU runs, against matrixmultiply (and,
//!   with `--features peers`, the `gemm` crate's widest kernels), as GFLOP/s and as a
//!   fraction of the FMA peak it probes first;
//! - `roofline`: the report's JSON lines drawn as a roofline picture;
//! - `step_breakdown`: where one training step's time goes (forward, backward, Adam).
//!
//! `tools/kernel_ab.py` compares two builds of the report shape by shape, and
//! `tools/openblas_compare.py` times OpenBLAS (through numpy) on the same shapes. The
//! library holds what the report and the criterion benches (`benches/matmul.rs`) share.

#![warn(missing_docs)]

pub mod operands;
pub mod peak;
