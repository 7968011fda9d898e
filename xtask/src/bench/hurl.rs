//! The Hurl row: the generated spec's requests and checks as Hurl files, run
//! by the `hurl` on PATH, when there is one, against the same mock.
//!
//! Hurl runs the entries of one file in order and files in parallel
//! (`--jobs`), so the requests are split into `IN_FLIGHT` files, which keeps
//! as many in flight as the runner and the bare loop have.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use grantspec_token::ExposeSecret as _;
use grantspec_token::basic_authorization;

use super::measure::{CLIENT_ID, CLIENT_SECRET, IN_FLIGHT};

/// Where to get Hurl, for the row printed when it is not on PATH.
pub(super) const HOW_TO_GET: &str = "https://hurl.dev/docs/installation.html, or `cargo install hurl --locked` (needs the libcurl, libxml2 and libclang development packages)";

/// The `hurl` executable on PATH, if any.
pub(super) fn find() -> Option<PathBuf> {
    let name = format!("hurl{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&name))
        .find(|path| path.is_file())
}

/// Hurl's own version line, e.g. `hurl 8.0.1`.
pub(super) fn version(hurl: &Path) -> String {
    Command::new(hurl)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(|line| {
                    line.split_whitespace()
                        .take(2)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
        })
        .unwrap_or_else(|| "hurl".to_owned())
}

/// Writes `cases` entries for the token endpoint at `url` into `IN_FLIGHT`
/// files in `dir`, each entry checked as a generated case is: status 200,
/// `token_type` `Bearer`, an `access_token` of 16 or more characters, a
/// positive `expires_in`.
pub(super) fn write_files(dir: &Path, url: &str, cases: usize) -> anyhow::Result<Vec<PathBuf>> {
    let authorization = basic_authorization(CLIENT_ID, CLIENT_SECRET)
        .expose_secret()
        .to_owned();
    let mut entry = String::new();
    writeln!(entry, "POST {url}")?;
    writeln!(entry, "Authorization: {authorization}")?;
    writeln!(entry, "Accept: application/json")?;
    writeln!(entry, "[Form]")?;
    writeln!(entry, "grant_type: client_credentials")?;
    writeln!(entry, "HTTP 200")?;
    writeln!(entry, "[Asserts]")?;
    writeln!(entry, "jsonpath \"$.token_type\" == \"Bearer\"")?;
    writeln!(entry, "jsonpath \"$.access_token\" matches \"^.{{16,}}$\"")?;
    writeln!(entry, "jsonpath \"$.expires_in\" >= 1")?;
    (0..IN_FLIGHT)
        .map(|file| {
            let count = (file..cases).step_by(IN_FLIGHT).count();
            let path = dir.join(format!("bench-{file}.hurl"));
            std::fs::write(&path, vec![entry.as_str(); count].join("\n"))?;
            Ok(path)
        })
        .collect()
}

/// Runs `hurl --test --jobs IN_FLIGHT` on `files` and returns the whole
/// process's time.
pub(super) fn run(hurl: &Path, files: &[PathBuf]) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let output = Command::new(hurl)
        .args(["--test", "--jobs", &IN_FLIGHT.to_string(), "--no-color"])
        .args(files)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()?;
    let wall = started.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "hurl failed on the generated files: {}",
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    Ok(wall)
}
