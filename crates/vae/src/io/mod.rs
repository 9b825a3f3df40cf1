//! Files that survive anything: atomic writes, the named fault points the crash tests
//! use, the verified safetensors files every checkpoint and state is made of, and the
//! console lines whose write errors are ours.
//!
//! The ground floor of the crate: it imports nothing of the crate but its error type.

pub mod atomic;
pub mod bounded;
pub mod console;
pub mod faults;
pub mod tensor_file;
