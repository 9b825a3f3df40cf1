//! Fault injection for the crash tests: named points where the program can be paused,
//! aborted or made to fail, chosen by an environment variable.
//!
//! ```text
//! VAE_FAULT=ACTION@POINT[#N]
//!   ACTION  pause   print "vae: paused at POINT" on stderr and wait (to be killed)
//!           abort   end the process at once, as a crash would (no clean-up runs)
//!           fail    return an I/O error "No space left on device" from that point
//!   POINT   e.g. state-epoch-0002.safetensors:mid-write, epoch-2:committed
//!   N       act the N-th time the point is reached (default: the first)
//! ```
//! Points: every atomic write has `FILE:before-write`, `FILE:mid-write` (half the bytes
//! written), `FILE:before-rename` and `FILE:after-rename`; the training loop has
//! `epoch-E:trained` (before the test pass) and `epoch-E:committed` (the state is on disk,
//! the exports are not). Without the variable a point costs one check of a cached value.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable that arms a fault.
pub const VARIABLE: &str = "VAE_FAULT";

struct Fault {
    action: String,
    point: String,
    nth: usize,
    seen: AtomicUsize,
}

fn armed() -> Option<&'static Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            let spec = std::env::var(VARIABLE).ok()?;
            let (action, rest) = spec.split_once('@')?;
            let (point, nth) = match rest.split_once('#') {
                Some((p, n)) => (p, n.parse().ok()?),
                None => (rest, 1),
            };
            Some(Fault {
                action: action.to_string(),
                point: point.to_string(),
                nth,
                seen: AtomicUsize::new(0),
            })
        })
        .as_ref()
}

/// Marks the point `name`: acts if `VAE_FAULT` names it (see the module docs).
pub fn point(name: &str) -> io::Result<()> {
    let Some(fault) = armed().filter(|f| f.point == name) else {
        return Ok(());
    };
    if fault.seen.fetch_add(1, Ordering::SeqCst) + 1 != fault.nth {
        return Ok(());
    }
    match fault.action.as_str() {
        "pause" => {
            super::console::note_line(format_args!("vae: paused at {name}"));
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        "abort" => std::process::abort(),
        _ => Err(io::Error::other(format!(
            "No space left on device (injected at {name})"
        ))),
    }
}

/// An injected failure at a point that is not a file write, as the crate's error.
pub fn as_error(e: io::Error) -> crate::error::Error {
    crate::error::Error::config(VARIABLE, e.to_string())
}
