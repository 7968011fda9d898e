//! `cargo xtask bench`: what the harness costs, measured against the floor,
//! in one run on this machine.
//!
//! The task builds `xtask` in release mode and runs `xtask bench-measure`,
//! which prints one table:
//!
//! - (a) the runner on a generated spec of 10,000 client_credentials cases
//!   against the mock, against a bare loop of the same requests with one
//!   reqwest client and the same number in flight, which checks each
//!   response as the case does (see `floor`). The specs test binary is
//!   timed by libtest's own clock, so its start-up (loading the spec,
//!   starting the mock, listing trials) is reported apart; and it is also
//!   compared with its own floor, the bare request as one libtest-mimic
//!   trial per case, which shows what one trial per request costs anyway;
//! - (b) the mock's token endpoint under load from a second process (an
//!   in-repo HTTP/1.1 load generator), against a minimal axum handler that
//!   returns a fixed token;
//! - (c) loading and validating the spec, at three sizes, with peak memory;
//! - (d) the wall time of the default `cargo test` suite, build excluded.
//!
//! (a), (b) and (c) run in rounds, the sides of each comparison alternating,
//! and report medians: the machine is shared. Each (b) server gets a second
//! of load before its rounds.

mod floor;
mod load;
mod measure;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

pub use floor::trials as trials_floor;
pub use load::{load_generator, load_spec, serve};
pub use measure::{engine, measure};

/// Builds in release mode and runs the measurements.
pub fn run(flags: &crate::flags::Bench) -> anyhow::Result<ExitCode> {
    let mut args: Vec<String> = Vec::new();
    if let Some(cases) = flags.cases {
        args.extend(["--cases".to_owned(), cases.to_string()]);
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
