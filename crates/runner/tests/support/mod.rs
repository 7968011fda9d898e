//! Helpers shared by the runner's integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The `specs` test binary, built by the same cargo that runs this test, as
/// cargo itself reports it (built once per test binary).
pub fn specs_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .args([
                "test",
                "--no-run",
                "--message-format=json-render-diagnostics",
                "-p",
                "grantspec-runner",
                "--test",
                "specs",
                "--manifest-path",
            ])
            .arg(grantspec_runner::workspace_root().join("Cargo.toml"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "building the specs test binary failed ({})",
            output.status
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter(|message| message["target"]["name"] == "specs")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no executable for the `specs` test target")
    })
}
