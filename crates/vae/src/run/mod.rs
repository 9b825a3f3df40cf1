//! A training run in its folder, crash-proof from start to end.
//!
//! - [`start`]: how a run starts: new, replacing the one there, or resumed;
//! - [`lifecycle`]: a run's epochs, each committed in an order that survives a crash;
//! - [`folder`]: the files a run writes, its lock and its housekeeping;
//! - [`interrupt`]: Ctrl-C and SIGTERM: a note saying where the run resumes from;
//! - [`state`]: the one file `--resume` reads, written atomically after every epoch;
//! - [`resume`]: what a resumed run may change, and what makes it another run;
//! - [`outputs`]: what the folder shows after each epoch, rewritten from the state;
//! - [`report`]: `report.html`, the run at a glance.

pub mod folder;
pub mod interrupt;
pub mod lifecycle;
pub mod outputs;
pub mod report;
pub mod resume;
pub mod start;
pub mod state;
