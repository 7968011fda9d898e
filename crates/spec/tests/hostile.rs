//! Hostile files: whatever sits in a spec folder or is handed to the loader,
//! nothing leaks, nothing hangs, nothing panics. Every entry is refused with
//! a clear error naming the file (and its line and column where there is
//! one), each within a second.
//!
//! Entries that cannot be committed (FIFOs, symbolic links, huge files) are
//! made at test time in a temporary folder.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `work` on its own thread and fails the test when it takes longer
/// than `limit` (a hang guard: a hung loader must not hang the test run).
fn within<T: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (send, receive) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = send.send(work());
    });
    match receive.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!(
            "{what}: not refused within {limit:?} (still running after {:?})",
            started.elapsed()
        ),
    }
}

/// The error text of loading `source` as `name`, within a second.
fn refused_str(name: &'static str, source: String) -> String {
    within(
        name,
        Duration::from_secs(1),
        move || match grantspec_spec::load_str(Path::new(name), &source) {
            Ok(_) => panic!("{name} loaded"),
            Err(errors) => errors.to_string(),
        },
    )
}

#[test]
fn deep_nesting_is_refused_in_linear_time_and_located() {
    for depth in [1_000, 10_000, 100_000] {
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            let source = format!("{}{}", open.repeat(depth), close.repeat(depth));
            let text = refused_str("deep.yaml", source);
            assert!(text.contains("nests too deeply"), "{text}");
            assert!(text.contains("--> deep.yaml:1:"), "{text}");
        }
    }
    // Block style, one level per `- `, and nesting hidden after a valid start.
    let source = format!("cases:\n  {}x\n", "- ".repeat(100_000));
    let text = refused_str("deep.yaml", source);
    assert!(text.contains("nests too deeply"), "{text}");
    assert!(text.contains("--> deep.yaml:2:"), "{text}");
}
