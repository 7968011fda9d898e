//! `cargo xtask bench`: what the harness costs, measured against the floor,
//! in one run on this machine.
//!
//! The task builds `xtask` in release mode and runs `xtask bench-measure`,
//! which prints one table:
//!
//! - (a) the runner as a user runs it against a server: the release specs
//!   test binary in live mode, on a generated spec of 10,000
//!   client_credentials cases, against the mock served by another process
//!   (as `cargo xtask mock` serves it). Its baseline is a bare loop of the
//!   same requests, as a process of its own with one reqwest client and the
//!   same number in flight, which checks each response as the case does
//!   (see `floor`). Both are timed as whole processes and by their own
//!   clocks (libtest's, the loop's). The runner's start-up is the same
//!   binary run selecting no trial, less reading the spec file's bytes; the
//!   whole run less its trials is shown beside it as a cross-check. When
//!   `hurl` is on PATH, the same requests and checks run as Hurl files too;
//! - (b) the mock's token endpoint under load from another process (an
//!   in-repo HTTP/1.1 load generator, 64 keep-alive connections), against a
//!   minimal axum handler that returns a fixed token: requests a second,
//!   and each server process's CPU time a request; and the mock's resident
//!   memory from its warm-up to the end of the rounds;
//! - (c) loading and validating the spec, at three sizes, with peak memory;
//! - (d) the wall time of the default `cargo test` (the offline tier), build
//!   excluded.
//!
//! (a), (b) and (c) run in rounds (five, or `--rounds N`), the sides of each
//! comparison alternating, and report medians: the machine is shared, and
//! more rounds steady the medians. Each (b) server gets a second
//! of load before its rounds. `xtask bench-engine` runs the runner's engine
//! in-process against its in-process bare loop, which is what to put under
//! a profiler.

mod floor;
mod hurl;
mod load;
mod measure;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

pub use floor::bare_process;
pub use load::{load_generator, load_spec, serve};
pub use measure::{engine, measure};

/// Builds in release mode and runs the measurements.
pub fn run(flags: &crate::flags::Bench) -> anyhow::Result<ExitCode> {
    let mut args: Vec<String> = Vec::new();
    if let Some(cases) = flags.cases {
        args.extend(["--cases".to_owned(), cases.to_string()]);
    }
    if let Some(rounds) = flags.rounds {
        args.extend(["--rounds".to_owned(), rounds.to_string()]);
    }
    if flags.skip_test_suite {
        args.push("--skip-test-suite".to_owned());
    }
    let root = grantspec_runner::workspace_root();
    eprintln!("building xtask and the specs test binary in release mode…");
    let status = Command::new(cargo())
        .args(["build", "--release", "-p", "xtask"])
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(status.success(), "release build failed");
    let binary = target_dir()
        .join("release")
        .join(format!("xtask{}", std::env::consts::EXE_SUFFIX));
    let status = Command::new(binary)
        .arg("bench-measure")
        .args(args)
        .current_dir(&root)
        .status()?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn target_dir() -> PathBuf {
    crate::workspace_folder(None, "CARGO_TARGET_DIR", "target")
}
